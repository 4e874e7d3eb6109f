"""The first hour's mistakes, run through the real command line: one line on stderr, exit code 2.

A wrong camera index or a file that is not a video used to print OpenCV's and
FFmpeg's own lines ("obsensor ... Camera index out of range", "moov atom not
found") before ours; a missing clip got a hint listing sources ``analyze``
does not take; ``--headles`` was quietly taken for ``--headless``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.capture.sources import _quietly_opened

REPO = Path(__file__).resolve().parent.parent
LIVE = ("--headless", "--no-audio", "--max-frames", "5")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a fresh process, without any OPENCV_* settings of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCV_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))  # tests.* plugins
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=env)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a user mistake (fails with the whole stderr otherwise)."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("focus-assistant"), result.stderr
    return lines[0]


@pytest.fixture
def garbage(tmp_path: Path) -> Path:
    """A file named like a video that holds random bytes (FFmpeg: "moov atom not found")."""
    path = tmp_path / "notavideo.mp4"
    path.write_bytes(os.urandom(20_000))
    return path


@pytest.mark.skipif(Path("/dev/video7").exists(), reason="this machine has a /dev/video7")
def test_a_camera_that_is_not_there_gets_only_our_line(tmp_path):
    line = one_line(run("live", "--source", "7", *LIVE, cwd=tmp_path))
    assert line.startswith("focus-assistant: camera:7: cannot open")


def test_random_bytes_named_mp4_given_to_analyze_get_only_our_line(tmp_path, garbage):
    line = one_line(run("analyze", str(garbage), "--events", str(tmp_path / "e.jsonl"), cwd=tmp_path))
    assert line == f"focus-assistant: {garbage}: cannot open as a video; check that it is a video file OpenCV's FFmpeg can read"


def test_text_named_mp4_given_to_analyze_gets_only_our_line(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("these are my shot notes, not a video\n")
    assert "cannot open as a video" in one_line(run("analyze", str(text), "--events", "e.jsonl", cwd=tmp_path))


def test_random_bytes_named_mp4_given_to_live_get_only_our_line(tmp_path, garbage):
    line = one_line(run("live", "--source", str(garbage), *LIVE, cwd=tmp_path))
    assert line.startswith(f"focus-assistant: {garbage}: cannot open as a video")


def test_a_missing_clip_for_analyze_is_answered_with_what_analyze_reads(tmp_path):
    line = one_line(run("analyze", "nope.mp4", "--events", "e.jsonl", cwd=tmp_path))
    assert line == "focus-assistant: nope.mp4: no such file; give a recorded video file (.mp4, .mov, .mkv, ...)"


def test_analyze_does_not_take_a_missing_clip_for_a_plugin(tmp_path):
    line = one_line(run("analyze", "take1:best", "--events", "e.jsonl", cwd=tmp_path))
    assert line.startswith("focus-assistant: take1:best: no such file; give a recorded video file")


def test_a_folder_for_analyze_is_answered_with_what_analyze_reads(tmp_path):
    line = one_line(run("analyze", str(tmp_path), "--events", "e.jsonl", cwd=tmp_path))
    assert line.endswith("is a directory; give a recorded video file (.mp4, .mov, .mkv, ...)")


def test_a_missing_source_for_live_lists_every_kind_of_source(tmp_path):
    line = one_line(run("live", "--source", "nope.mp4", *LIVE, cwd=tmp_path))
    assert line == ("focus-assistant: nope.mp4: no such file; give 'sim', a camera index like 0, a device path, "
                    "a video file, a URL or module:factory")


def test_a_missing_source_for_calibrate_leaves_out_recordings(tmp_path):
    line = one_line(run("calibrate", "--distances", "1,2", "--out", "l.toml", "--source", "nope.mp4", cwd=tmp_path))
    assert line == ("focus-assistant: nope.mp4: no such file; give 'sim', a camera index like 0, a device path, "
                    "a URL or module:factory")


@pytest.mark.parametrize("args, unknown", [
    (["live", "--headles", *LIVE[1:]], "--headles"),
    (["analyze", "clip.mp4", "--events", "e.jsonl", "--rep", "r.png"], "--rep"),
])
def test_abbreviated_options_are_typos_not_guesses(tmp_path, args, unknown):
    line = one_line(run(*args, cwd=tmp_path))
    assert "error:" in line and unknown in line


def test_a_real_failure_still_shows_its_traceback(tmp_path):
    result = run("live", "--source", "tests.bad_input_sources:crashing", *LIVE, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "ZeroDivisionError" in result.stderr


def test_only_the_open_is_silenced_and_python_errors_still_raise(capfd):
    def noisy_open() -> str:
        os.write(2, b"[mov,mp4 @ 0x55d3] moov atom not found\n")
        return "capture"

    def broken_open() -> str:
        os.write(2, b"[ERROR:0@0.093] global obsensor_uvc_stream_channel.cpp:163\n")
        raise RuntimeError("a real bug")

    assert _quietly_opened(noisy_open) == "capture"
    with pytest.raises(RuntimeError, match="a real bug"):
        _quietly_opened(broken_open)
    os.write(2, b"after the open\n")
    assert capfd.readouterr().err == "after the open\n"
