"""Writes the annotated picture to a video file (OpenCV, mp4v)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from assistant.errors import OutputError

FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


class VideoRecorder:
    """Opens on the first frame (to learn its size) and writes every frame after."""

    def __init__(self, path: Path, fps: float) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise OutputError(f"{self.path}: unsupported recording format; use one of {', '.join(sorted(FOURCC))}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot create the folder ({exc.strerror})") from exc
        self.fps = fps
        self._fourcc = cv2.VideoWriter_fourcc(*FOURCC[suffix])
        self._writer: cv2.VideoWriter | None = None
        self.frames = 0

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            h, w = image.shape[:2]
            self._writer = cv2.VideoWriter(str(self.path), self._fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise OutputError(f"{self.path}: OpenCV cannot write this video; check the folder is writable")
        self._writer.write(image)
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
