"""`make screenshot` reproduces the README's picture (issue 16): same arguments, same pixels."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from assistant import paths
from assistant.ui import palette

ROOT = paths.REPO_ROOT


def makefile_screenshot_args() -> list[str]:
    """The arguments `make screenshot` (and `make demo`) pass to examples/screenshot.py."""
    makefile = (ROOT / "Makefile").read_text()
    args = re.search(r"^SCREENSHOT := (.+)$", makefile, re.M)
    assert args, "the Makefile defines the README picture's arguments in SCREENSHOT"
    assert "examples/screenshot.py $(SCREENSHOT) docs/live-view.png" in makefile
    return shlex.split(args.group(1))


def test_make_screenshot_reproduces_the_readme_picture(tmp_path: Path):
    out = tmp_path / "live-view.png"
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "screenshot.py"), *makefile_screenshot_args(),
                          str(out)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    made, tracked = cv2.imread(str(out)), cv2.imread(str(ROOT / "docs" / "live-view.png"))
    assert made.shape == tracked.shape
    # Identical here; a different CPU may round a face box differently, so allow a sliver.
    differing = float(np.any(made != tracked, axis=2).mean())
    assert differing <= 0.001, f"{differing:.2%} of the pixels differ from docs/live-view.png; run make screenshot"
    # The caption describes a magnifier: its amber frame sits in the top-right quarter.
    h, w = made.shape[:2]
    amber = np.abs(made[:h // 2, w // 2:].astype(int) - palette.TARGET).max(axis=2) <= 10
    assert amber.sum() > 500
    assert "(docs/live-view.png)" in (ROOT / "README.md").read_text()
