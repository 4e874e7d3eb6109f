"""Writes pictures to a video file (OpenCV, mp4v): the annotated view, or the camera's own picture."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from assistant.errors import OutputError
from assistant.report.recording_mark import mark_annotated
from assistant.report.files import prepared

FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "mp4v"}


class VideoRecorder:
    """Opens on the first frame (to learn its size) and writes every frame after.

    An ``annotated`` recording is marked as such when closed (MP4/MOV), so
    ``analyze`` can warn that its picture is not the camera's.
    """

    def __init__(self, path: Path, fps: float, annotated: bool = False) -> None:
        self.path = prepared(path, tuple(FOURCC), "recording")
        self.fps = fps
        self.annotated = annotated
        self._fourcc = cv2.VideoWriter_fourcc(*FOURCC[self.path.suffix.lower()])
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
            if self.annotated:
                mark_annotated(self.path)
