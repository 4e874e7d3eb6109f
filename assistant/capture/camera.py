"""Opening cameras and streams so they can be opened again the same way after a break.

- A camera is reopened by its stable name under ``/dev/v4l/by-id`` when it
  has one, so a webcam that comes back as ``/dev/video2`` after a replug is
  still found.
- USB cameras are asked for MJPG *before* the resolution (many only reach
  720p/1080p at 30 fps compressed), then the format they actually gave is read
  back and reported.
- Streams get FFmpeg open and read timeouts, so a dead server cannot hang
  the capture thread; V4L2's own select timeout is set from the environment
  (``OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT``, seconds, set by the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2

from assistant.capture.settings import SourceConfig

BY_ID = Path("/dev/v4l/by-id")
STREAM_TIMEOUT_MS = 5000


def stable_node(device: str, by_id_dir: Path = BY_ID) -> str:
    """``/dev/v4l/by-id/...`` for a camera index or node when there is one, else the node itself."""
    node = Path(f"/dev/video{device}") if device.isdigit() else Path(device)
    if by_id_dir.is_dir():
        target = node.resolve()
        links = sorted(p for p in by_id_dir.iterdir() if p.resolve() == target)
        preferred = [p for p in links if p.name.endswith("-video-index0")] or links
        if preferred:
            return str(preferred[0])
    return str(node) if not device.isdigit() or node.exists() else device


def camera_factory(device: str) -> Callable[[], Any]:
    """Opens the camera by its stable name each time (index strings open by index when there is no node)."""
    name = stable_node(device)
    if name.isdigit():
        index = int(name)
        return lambda: cv2.VideoCapture(index)
    return lambda: cv2.VideoCapture(name, cv2.CAP_V4L2)


def stream_factory(url: str, timeout_ms: int = STREAM_TIMEOUT_MS) -> Callable[[], Any]:
    """Opens a network stream over FFmpeg with open and read timeouts."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    return lambda: cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)


def request_format(capture: Any, wanted: SourceConfig) -> str:
    """Ask for MJPG, then the size and rate; returns what the camera really delivers."""
    capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
    capture.set(cv2.CAP_PROP_FRAME_WIDTH, wanted.width)
    capture.set(cv2.CAP_PROP_FRAME_HEIGHT, wanted.height)
    capture.set(cv2.CAP_PROP_FPS, wanted.fps)
    return describe_format(capture, wanted)


def describe_format(capture: Any, wanted: SourceConfig | None = None) -> str:
    """``1280x720 MJPG 30 fps``, noting any difference from what was asked."""
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    code = int(capture.get(cv2.CAP_PROP_FOURCC) or 0)
    fourcc = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ") or "?"
    text = f"{width}x{height} {fourcc} {fps:g} fps"
    if wanted is not None and (width, height) != (wanted.width, wanted.height):
        text += f" (asked for {wanted.width}x{wanted.height}; the camera chose this)"
    return text
