"""End to end: `focus-assistant live` on the virtual rig, headless."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import pytest


def run_cli(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def live_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("live")
    run = run_cli("live", "--source", "sim", "--headless", "--no-audio", "--max-frames", "90", "--record", str(out / "run.mp4"),
                  "--events", str(out / "events.jsonl"), "--tracks", str(out / "tracks.jsonl"))
    return run, out


def test_headless_live_run_writes_a_playable_video(live_run):
    run, out = live_run
    assert run.returncode == 0, run.stderr
    capture = cv2.VideoCapture(str(out / "run.mp4"))
    assert capture.isOpened()
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30.0)
    count = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        assert image.shape == (720, 1280, 3)
        count += 1
    assert count == 90
    assert "90 frames" in run.stderr and "stopped by max frames" in run.stderr


def test_headless_live_run_writes_valid_json_lines(live_run):
    run, out = live_run
    tracks = [json.loads(line) for line in (out / "tracks.jsonl").read_text().splitlines()]
    assert [t["frame"] for t in tracks] == list(range(90))
    assert tracks[30]["t"] == pytest.approx(1.0)
    # The demo script holds focus on A at 2.0 m until 2.5 s, then racks toward B at 4 m.
    assert tracks[0]["focus_m"] == pytest.approx(2.0)
    assert tracks[89]["focus_m"] > 2.0
    assert all(set(t) == {"frame", "t", "focus_m", "subjects"} for t in tracks)
    # Both people are tracked with labels, distances and sharpness (A at 2.0 m, B at 4.0 m).
    late = tracks[60]["subjects"]
    assert {s["label"] for s in late} == {"A", "B"}
    by_label = {s["label"]: s for s in late}
    assert by_label["A"]["distance_m"] == pytest.approx(2.0, rel=0.1)
    assert by_label["B"]["distance_m"] == pytest.approx(4.0, rel=0.1)
    assert by_label["A"]["sharpness"] > by_label["B"]["sharpness"]  # focus is on A at 2 s
    assert set(late[0]) == {"id", "label", "box", "distance_m", "distance_sigma_m", "sharpness", "in_focus",
                            "focus_score", "blur_px", "state"}
    # The in-focus score is absolute: A (on the focus plane) is in focus, B (2 m behind it) is not.
    assert by_label["A"]["focus_score"] > 0.8 and by_label["A"]["in_focus"] is True
    assert by_label["B"]["focus_score"] < 0.5 and by_label["B"]["in_focus"] is False
    assert by_label["B"]["blur_px"] > by_label["A"]["blur_px"]
    events = (out / "events.jsonl").read_text()
    assert all(json.loads(line)["type"] in ("rack", "pull", "soft") for line in events.splitlines())


def test_live_replays_a_recorded_file(live_run, tmp_path):
    _, out = live_run
    run = run_cli("live", "--source", str(out / "run.mp4"), "--headless", "--no-audio", "--max-frames", "10",
                  "--tracks", str(tmp_path / "t.jsonl"))
    assert run.returncode == 0, run.stderr
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert len(lines) == 10 and json.loads(lines[0])["focus_m"] is None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--source", "missing.mp4"], "missing.mp4: no such file"),
        (["--max-frames", "0"], "expected a number >= 1"),
        (["--scene", "nope.toml"], "nope.toml: file not found"),
        (["--record", "out.xyz", "--max-frames", "1"], "unsupported recording format"),
        (["--subject", "A=top"], "expected LABEL=RULE"),
        (["--hfov", "0"], "between 1 and 179 degrees"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_code_2(args, message, tmp_path):
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--headless", "--no-audio", *args],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], run.stderr
    assert "Traceback" not in run.stderr


def test_the_terminal_status_line_rewrites_itself_and_shows_the_guidance():
    import io

    import numpy as np

    from assistant.sink import FrameResult, Status
    from assistant.sinks import StatusPrinter
    from assistant.types import Frame, SharpnessMap

    stream = io.StringIO()
    printer = StatusPrinter(stream, tty=True)
    sharpness = SharpnessMap(np.ones((9, 16)), (), (80.0, 80.0), np.zeros((4, 4), np.int16))
    frame = Frame(np.zeros((4, 4, 3), np.uint8), 0.0, 0)
    long = Status("sim", 0.0, 0, note="suggest: A turn nearer 0.57 m (0.10 dpt)")
    short = Status("sim", 0.2, 6, note="suggest: A sharp")
    for status in (long, short):
        printer.consume(FrameResult(frame, sharpness, None, (), (), annotated=frame.image, status=status))
    printer.close()
    first, second = stream.getvalue().split("\r")[1:]
    assert "turn nearer 0.57 m (0.10 dpt)" in first and "A sharp" in second
    assert len(second.rstrip("\n")) >= len(first)  # the shorter line covers the longer one
