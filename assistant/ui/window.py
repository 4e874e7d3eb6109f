"""The OpenCV preview window: shows the annotated picture; keys and clicks become commands."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np

from assistant.commands import Quit, Screenshot, SelectAt
from assistant.sink import Command, FrameResult, Sink
from assistant.types import NoSignal
from assistant.ui.keys import key_command

WINDOW = "Focus Assistant"


def display_available() -> bool:
    """True when a window can be shown (an X/Wayland display on Linux; assumed elsewhere)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class WindowSink(Sink):
    """Shows each annotated frame; keys (``assistant.ui.keys``) and clicks become pipeline commands.

    ``s`` saves the picture as shown, overlays included, to ``screenshot_dir``.
    """

    wants_picture = True

    def __init__(self, screenshot_dir: Path = Path("out")) -> None:
        self.screenshot_dir = screenshot_dir
        self.saved: list[Path] = []
        self._clicks: list[tuple[int, int]] = []
        cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL | cv2.WINDOW_KEEPRATIO)
        cv2.setMouseCallback(WINDOW, self._on_mouse)

    def consume(self, result: FrameResult) -> Command | None:
        cv2.imshow(WINDOW, result.annotated)
        command = key_command(cv2.waitKey(1) & 0xFF)
        if isinstance(command, Screenshot):
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            path = self.screenshot_dir / f"screenshot-{result.frame.index:06d}.png"
            cv2.imwrite(str(path), result.annotated)
            self.saved.append(path)
            return None
        if command is None and self._clicks:
            x, y = self._clicks.pop(0)
            return SelectAt(x, y)
        return command

    def idle(self, picture: np.ndarray, report: NoSignal) -> Command | None:
        """While the source is gone: the NO SIGNAL screen, and q/Esc still quit."""
        cv2.imshow(WINDOW, picture)
        command = key_command(cv2.waitKey(1) & 0xFF)
        return command if isinstance(command, Quit) else None

    def _on_mouse(self, event: int, x: int, y: int, flags: int, param: object) -> None:
        if event == cv2.EVENT_LBUTTONDOWN:
            self._clicks.append((x, y))

    def close(self) -> None:
        cv2.destroyWindow(WINDOW)
        cv2.waitKey(1)
