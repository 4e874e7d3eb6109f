"""The real OpenCV window under Xvfb: keys change the run's state; a screenshot shows the overlays.

Needs Xvfb and xdotool (``make setup`` installs them with apt). The window is
OpenCV's own Qt backend, driven by real X key events, as an operator would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.ui import palette
from assistant.ui.focusbar import FocusBar

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Xvfb is the Linux virtual display")


@pytest.fixture
def display():
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: run 'make setup' (installs xvfb and xdotool with apt)"
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display},
                            capture_output=True, text=True, timeout=30)
    return result.stdout


def test_keys_in_the_real_window_change_state_and_screenshot_shows_overlays(display, tmp_path: Path):
    env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    run = subprocess.Popen(
        [sys.executable, "-m", "assistant", "live", "--source", "sim", "--no-audio", "--max-frames", "900",
         "--events", "events.jsonl"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        window = xdotool(display, "search", "--sync", "--name", "Focus Assistant").split()[0]
        time.sleep(3.0)  # let the subjects be found and labelled
        xdotool(display, "windowfocus", "--sync", window)
        for key in ("z", "p", "e", "s"):  # magnifier, peaking, drive, screenshot
            xdotool(display, "key", key)
            time.sleep(0.6)
        xdotool(display, "key", "q")
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 0, stderr
    assert "stopped by quit" in stderr  # q reached the pipeline
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    modes = [e for e in events if e["type"] == "mode"]
    assert modes and modes[0]["origin"] == "operator" and modes[0]["detail"].startswith("drive")  # e engaged drive
    assert any(e["origin"] == "driven" for e in events)  # and the rig lens was driven after it
    shots = sorted((tmp_path / "out").glob("screenshot-*.png"))
    assert len(shots) == 1
    shot = cv2.imread(str(shots[0]))
    h, w = shot.shape[:2]
    assert (w, h) == (1280, 720)
    # Peaking (the palette's green for sharp) lights edges; the magnifier's amber frame sits top right;
    # the status bar and the focus bar darken the top and bottom bands.
    peaked = np.all(shot == palette.SHARP, axis=2).mean()
    assert 0.005 < peaked < 0.2
    amber = np.abs(shot[:h // 2, w // 2:].astype(int) - (0, 215, 255)).max(axis=2) <= 10
    assert amber.sum() > 500
    bar_top = FocusBar(w, h).band[0]
    assert shot[bar_top + 2:, :].mean() < 0.6 * shot[h // 3:2 * h // 3, :].mean()
