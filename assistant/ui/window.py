"""The OpenCV preview window and its keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2

from assistant.pipeline import Command, FrameResult

WINDOW = "Focus Assistant"
KEYS: dict[int, Command] = {
    ord("q"): "quit", 27: "quit", ord("p"): "toggle_peaking", ord("g"): "toggle_heatmap",
    ord("a"): "rack:A", ord("b"): "rack:B", ord("c"): "rack:C", ord("d"): "rack:D",
}
HELP = "q/Esc quit   p focus peaking   g sharpness heat map   a-d rack to A-D   s screenshot"


def display_available() -> bool:
    """True when a window can be shown (an X/Wayland display on Linux; assumed elsewhere)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class WindowSink:
    """Shows each annotated frame; keys become pipeline commands."""

    wants_picture = True

    def __init__(self, screenshot_dir: Path = Path("out")) -> None:
        self.screenshot_dir = screenshot_dir
        self.screenshots = 0
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)

    def consume(self, result: FrameResult) -> Command | None:
        cv2.imshow(WINDOW, result.annotated)
        key = cv2.waitKey(1) & 0xFF
        if key == ord("s"):
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            self.screenshots += 1
            cv2.imwrite(str(self.screenshot_dir / f"screenshot-{result.frame.index:06d}.png"), result.annotated)
            return None
        return KEYS.get(key)

    def close(self) -> None:
        cv2.destroyWindow(WINDOW)
        cv2.waitKey(1)
