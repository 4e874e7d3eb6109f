"""Face detection with the MediaPipe Tasks ``FaceDetector`` (BlazeFace models in ``models/``).

The detector runs on *regions*: a whole frame, a tile, or a crop around a
tracked subject. Small faces are found because a crop of four face-widths
makes even a 20 px face fill a quarter of the model's input.

IMAGE running mode is used on purpose: every call is independent, so crops
from different places and times need no shared, strictly increasing clock
(VIDEO mode would, and would have to be recreated for every clip).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from assistant import paths
from assistant.errors import ModelMissing
from assistant.native_quiet import native_stderr_silenced
from assistant.types import Box

MODEL_FILES = {
    "short": "face_detection_short_range.tflite",
    "full": "face_detection_full_range_sparse.tflite",
}
MIN_EYE_SHARE, MAX_EYE_SHARE = 0.25, 0.7
"""Eye spacing over box width a real face can show (see ``Detection.plausible``)."""
KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
"""BlazeFace's six keypoints, in its order (right/left as the subject sees them)."""


@dataclass(frozen=True)
class Detection:
    """One face: box (x, y, w, h) and keypoints in frame pixels, and the model's score."""

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if self.box[2] <= 0 or self.box[3] <= 0:
            raise ValueError(f"a detection box needs a positive size, got {self.box}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"a detection score must be within 0..1, got {self.score}")

    @property
    def centre(self) -> tuple[float, float]:
        x, y, w, h = self.box
        return x + w / 2, y + h / 2

    def scaled(self, factor: float) -> Detection:
        """The same face in a picture ``factor`` times larger (found on a reduced copy of the frame)."""
        if factor == 1:
            return self
        x, y, w, h = self.box
        return Detection((x * factor, y * factor, w * factor, h * factor), self.score,
                         tuple((kx * factor, ky * factor) for kx, ky in self.keypoints))

    def shifted(self, dx: float, dy: float) -> Detection:
        """The same face in a picture whose origin lies at ``(-dx, -dy)`` of this one's (found on a patch)."""
        if dx == 0 and dy == 0:
            return self
        x, y, w, h = self.box
        return Detection((x + dx, y + dy, w, h), self.score, tuple((kx + dx, ky + dy) for kx, ky in self.keypoints))

    @property
    def pixel_box(self) -> Box:
        """The box rounded to whole pixels, as the rest of the pipeline handles boxes."""
        x, y, w, h = self.box
        return (round(x), round(y), round(w), round(h))

    @property
    def plausible(self) -> bool:
        """The eyes sit as far apart as a real face's: 0.4 of BlazeFace's box on the shipped photographs (an
        adult's 63 mm over the box's 143 mm), 0.09-0.19 on the faces it finds in clouds and smoke. Down to 0.25
        allows a head turned about 50 degrees; without keypoints nothing can be said against it."""
        eyes = self.eye_distance_px
        return eyes is None or MIN_EYE_SHARE <= eyes / self.box[2] <= MAX_EYE_SHARE

    @property
    def eye_distance_px(self) -> float | None:
        """Pixel distance between the eye keypoints, or None without keypoints."""
        if len(self.keypoints) < 2:
            return None
        (rx, ry), (lx, ly) = self.keypoints[0], self.keypoints[1]
        return float(np.hypot(lx - rx, ly - ry))


class RegionDetector(Protocol):
    """Finds faces inside one region of a BGR frame; coordinates come back in frame pixels."""

    def detect(self, image: np.ndarray, region: Box) -> tuple[Detection, ...]: ...

    def restart(self) -> None: ...

    def close(self) -> None: ...


class MediaPipeFaceDetector:
    """The Tasks ``FaceDetector`` on a region of a frame (one verb: ``detect``)."""

    def __init__(self, model: str = "short", min_score: float = 0.5, models_dir: Path = paths.MODELS_DIR) -> None:
        if model not in MODEL_FILES:
            raise ValueError(f"unknown face model {model!r}; expected one of: {', '.join(MODEL_FILES)}")
        path = Path(models_dir) / MODEL_FILES[model]
        if not path.is_file():
            raise ModelMissing(f"{path}: face model missing; run 'python models/extract_models.py' to restore it")
        os.environ.setdefault("GLOG_minloglevel", "2")
        from mediapipe.tasks.python import BaseOptions, vision

        options = vision.FaceDetectorOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            min_detection_confidence=min_score,
        )
        self.model = model
        self._options = options
        self._create()

    def _create(self) -> None:
        from mediapipe.tasks.python import vision

        # LiteRT prints a page of INFO/WARNING lines while it loads and on the
        # first inference; they say nothing a user can act on.
        with native_stderr_silenced():
            self._detector = vision.FaceDetector.create_from_options(self._options)
            self.detect(np.zeros((64, 64, 3), np.uint8), (0, 0, 64, 64))

    def restart(self) -> None:
        """Throw the detector away and load it again (after it failed on a frame)."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a broken detector may not close cleanly; a new one is made anyway
            pass
        self._create()

    def detect(self, image: np.ndarray, region: Box) -> tuple[Detection, ...]:
        import mediapipe as mp

        x0, y0, w, h = _clip(region, image.shape[1], image.shape[0])
        if w < 8 or h < 8:
            return ()
        rgb = np.ascontiguousarray(cv2.cvtColor(image[y0:y0 + h, x0:x0 + w], cv2.COLOR_BGR2RGB))
        result = self._detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        found = []
        for det in result.detections:
            bb = det.bounding_box
            bx, by = max(0.0, bb.origin_x), max(0.0, bb.origin_y)
            bw, bh = min(bb.width, w - bx), min(bb.height, h - by)
            if bw <= 1 or bh <= 1:
                continue
            keypoints = tuple((x0 + k.x * w, y0 + k.y * h) for k in det.keypoints)
            score = float(det.categories[0].score) if det.categories else 0.0
            found.append(Detection((x0 + bx, y0 + by, float(bw), float(bh)), min(1.0, max(0.0, score)), keypoints))
        return tuple(found)

    def close(self) -> None:
        with native_stderr_silenced():
            self._detector.close()


def _clip(region: Box, width: int, height: int) -> Box:
    x, y, w, h = (int(round(v)) for v in region)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)
