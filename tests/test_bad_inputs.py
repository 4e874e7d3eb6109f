"""Bad input, one row per kind: handled, or one line saying what is wrong and what to do, exit code 2."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.cli import main

HANDLED = 0
BAD = 2


def write_clip(path: Path, frames: int = 8) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (320, 240))
    for i in range(frames):
        writer.write(np.random.default_rng(i).integers(0, 255, (240, 320, 3), np.uint8))
    writer.release()
    return path


def y4m_without_rate(path: Path) -> Path:
    """A raw video whose header says F0:0 (no frame rate); FFmpeg assumes 25 fps."""
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W64 H48 F0:0 Ip A1:1 C420jpeg\n")
        for i in range(6):
            out.write(b"FRAME\n" + bytes([i * 40]) * (64 * 48) + bytes([128]) * (64 * 48 // 2))
    return path


def text(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


# (kind, how to build the arguments in a tmp folder, expected exit code, expected words in the one line)
CASES = [
    ("missing clip", lambda d: ["analyze", str(d / "nope.mp4"), "--events", str(d / "e.jsonl")],
     BAD, "no such file"),
    ("zero-size clip", lambda d: ["analyze", str(text(d / "empty.mp4", "")), "--events", str(d / "e.jsonl")],
     BAD, "cannot open as a video"),
    ("truncated clip", lambda d: ["analyze", str(truncated(d)), "--events", str(d / "e.jsonl")],
     BAD, "cannot open as a video"),
    ("not a video", lambda d: ["analyze", str(text(d / "notes.mp4", "hello")), "--events", str(d / "e.jsonl")],
     BAD, "cannot open as a video"),
    ("a folder as the clip", lambda d: ["analyze", str(d), "--events", str(d / "e.jsonl")],
     BAD, "is a directory"),
    ("clip without a frame rate", lambda d: ["analyze", str(y4m_without_rate(d / "raw.y4m")), "--events",
                                             str(d / "e.jsonl")], HANDLED, ""),
    ("grey frames", lambda d: live("tests.bad_input_sources:grey"), HANDLED, ""),
    ("16-bit frames", lambda d: live("tests.bad_input_sources:sixteen_bit"), HANDLED, ""),
    ("odd-sized frames", lambda d: live("tests.bad_input_sources:odd_sized"), HANDLED, ""),
    ("source without a frame rate", lambda d: live("tests.bad_input_sources:no_fps"), HANDLED, ""),
    ("zero-size frames", lambda d: live("tests.bad_input_sources:empty"), BAD, "empty or non-array frame"),
    ("float frames", lambda d: live("tests.bad_input_sources:floats"), BAD, "float64 are not supported"),
    ("frames too small to measure", lambda d: live("tests.bad_input_sources:tiny"), BAD, "too small"),
    ("config: broken TOML", lambda d: ["live", "--config", str(text(d / "c.toml", "[sharpness\n")), "--max-frames", "1"],
     BAD, "not valid TOML"),
    ("config: unknown key", lambda d: ["live", "--config", str(text(d / "c.toml", "[sharpness]\ngrid = 3\n")),
                                       "--max-frames", "1"], BAD, "sharpness.grid: unknown key"),
    ("config: wrong type", lambda d: ["live", "--config", str(text(d / "c.toml", '[camera]\nhfov_deg = "wide"\n')),
                                      "--max-frames", "1"], BAD, "camera.hfov_deg: expected a number"),
    ("config: out of range", lambda d: ["live", "--config", str(text(d / "c.toml", "[source]\nwatchdog_s = 0\n")),
                                        "--max-frames", "1"], BAD, "source.watchdog_s: 0.0 is out of range"),
    ("scene: unknown key", lambda d: ["live", "--scene", str(text(d / "s.toml", 'name = "x"\nduraton_s = 3\n')),
                                      "--max-frames", "1"], BAD, "duraton_s: unknown key"),
    ("cue sheet: cue without a trigger", lambda d: ["rehearse", "--cues", str(text(
        d / "q.toml", '[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\n')), "--headless", "--no-audio"],
     BAD, "cues[0]: give exactly one trigger"),
    ("lens file: one point", lambda d: ["live", "--driver", "tests.drivers.plugin_motor:make_motor", "--lens", str(text(
        d / "l.toml", "[[points]]\ndistance_m = 1.0\nnative = 5\n")), "--max-frames", "1"],
     BAD, "at least two points"),
    ("unsupported recording format", lambda d: ["live", "--record", str(d / "out.gif"), "--max-frames", "1"],
     BAD, "unsupported"),
    ("log in a folder that cannot exist", lambda d: ["live", "--events", "/proc/no/e.jsonl", "--max-frames", "1"],
     BAD, "cannot"),
    ("camera that is not there", lambda d: ["live", "--source", "99", "--max-frames", "1"], BAD, "cannot open"),
    ("unknown driver", lambda d: ["live", "--driver", "stepper9000", "--max-frames", "1"], BAD, "unknown driver"),
    ("plugin that is not importable", lambda d: ["live", "--source", "no_such_pkg.cam:make", "--max-frames", "1"],
     BAD, "cannot import module"),
]


def truncated(folder: Path) -> Path:
    whole = write_clip(folder / "whole.mp4").read_bytes()
    path = folder / "truncated.mp4"
    path.write_bytes(whole[:2000])
    return path


def live(plugin: str) -> list[str]:
    return ["live", "--source", plugin, "--headless", "--no-audio", "--max-frames", "5"]


@pytest.mark.parametrize("kind,build,code,words", CASES, ids=[case[0] for case in CASES])
def test_bad_input_is_handled_or_reported_in_one_line(kind, build, code, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build(tmp_path)
    if args[0] == "live" and "--headless" not in args:
        args += ["--headless", "--no-audio"]
    try:
        result = main(args)
    except SystemExit as usage:
        result = usage.code
    err = capsys.readouterr().err
    assert result == code, err
    assert "Traceback" not in err
    if code == BAD:
        lines = [line for line in err.splitlines() if line.startswith("focus-assistant")]
        assert len(lines) == 1 and words in lines[0], err


def test_the_table_has_at_least_fifteen_kinds():
    assert len(CASES) >= 15 and len({case[0] for case in CASES}) == len(CASES)
