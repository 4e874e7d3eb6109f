"""Killing a live run: SIGKILL leaves only valid JSON lines; SIGTERM stops the motor and leaves a playable recording."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
LENS = ROOT / "tests" / "drivers" / "data" / "stepper-lens.toml"


def start_live(tmp_path: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "assistant", "live", "--source", "sim", "--headless", "--no-audio",
            "--max-frames", "5000", "--events", str(tmp_path / "events.jsonl"), "--tracks",
            str(tmp_path / "tracks.jsonl"), *extra]
    return subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_lines(path: Path, count: int, run: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        assert run.poll() is None, run.communicate()[1]
        time.sleep(0.05)
    raise AssertionError(f"{path} never reached {count} lines")


def complete_lines(path: Path) -> list[dict]:
    """Every newline-terminated line parsed; a last line cut by the kill (no newline) is left out."""
    text = path.read_text()
    lines = text.split("\n")
    return [json.loads(line) for line in lines[:-1]]


def test_after_sigkill_every_complete_log_line_is_valid_json(tmp_path: Path):
    run = start_live(tmp_path)
    try:
        wait_for_lines(tmp_path / "tracks.jsonl", 90, run)  # 3 s in: past the demo's first rack
        run.send_signal(signal.SIGKILL)
        run.wait(timeout=10)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == -signal.SIGKILL
    tracks = complete_lines(tmp_path / "tracks.jsonl")
    assert len(tracks) >= 90 and [t["frame"] for t in tracks] == list(range(len(tracks)))
    events = complete_lines(tmp_path / "events.jsonl")
    assert all(e["type"] in ("rack", "pull", "soft", "mode", "fault", "outage") for e in events)


def test_sigterm_stops_the_motor_and_leaves_a_playable_recording(tmp_path: Path):
    motor_log = tmp_path / "motor.log"
    recording = tmp_path / "take.mp4"
    run = start_live(tmp_path, "--record", str(recording), "--mode", "drive", "--driver",
                     "tests.drivers.plugin_motor:make_logging_motor", "--lens", str(LENS),
                     env={"FOCUS_TEST_MOTOR_LOG": str(motor_log)})
    try:
        wait_for_lines(tmp_path / "tracks.jsonl", 60, run)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0 and "stopped by interrupted" in stderr, stderr  # a clean stop on request
    assert "Traceback" not in stderr
    assert motor_log.read_text().split()[0::2][:2] == ["stop", "close"]  # stopped first, then released
    written = len(complete_lines(tmp_path / "tracks.jsonl"))
    video = cv2.VideoCapture(str(recording))
    assert video.isOpened()
    frames = 0
    while video.read()[0]:
        frames += 1
    assert frames >= 60 and abs(frames - written) <= 2  # the whole run is in the file, trailer written
    assert (tmp_path / "tracks.jsonl").read_text().endswith("\n")  # flushed to the last line
