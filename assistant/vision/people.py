"""Person segmentation with the MediaPipe Tasks ``ImageSegmenter`` (selfie model in ``models/``).

Faces disappear when people turn away, look down or walk off; their bodies do
not. A low-resolution "is this pixel a person" mask lets the tracker keep the
body under a face it was following, and check that a face box sits on a body.

The landscape selfie model takes 256x144 pixels, the shape of a 16:9 frame,
so the frame (or a 16:9 region of it) is resized once to exactly that and the
model's own resize does nothing. The mask stays at that resolution: every
question asked of it (coverage of a box, the blob under a face) is answered
there, which is cheap, and boxes are mapped back to frame pixels at the end.

Limits, measured on the shipped photographs: the model was trained on video
calls and marks *the foreground subject*, not only people. A cup or a cat
filling the picture, or a small photograph stuck on a plain wall, comes out as
"person". Ask it about the region at and below a face; do not use it alone
to say whether there is a person. People whose face is under ~100 px across
a whole 1280x720 frame are segmented unreliably (one 60 px face came out at
0.59, and at 0.0 turned away); segment a crop around them instead
(``region_around_face``), where the same person reads 0.95-0.99.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from assistant import paths
from assistant.errors import ModelMissing
from assistant.types import Box
from assistant.native_quiet import native_stderr_silenced
from assistant.vision.faces import _clip

MODEL_FILE = "selfie_segmentation_landscape.tflite"
INPUT_SIZE = (256, 144)
"""The landscape model's input (width, height); the mask comes back at this size."""
THRESHOLD = 0.5
"""Person probability above which a mask pixel counts as part of a person."""


@dataclass(frozen=True)
class PersonMask:
    """Person probability (float32 0..1) at model resolution over one region of a frame.

    ``region`` is the frame box the mask covers (the whole frame unless
    ``segment`` was given a crop); questions about pixels outside it are
    answered from the part inside it.
    """

    probability: np.ndarray
    frame_size: tuple[int, int]  # (width, height) of the frame, in pixels
    region: Box | None = None  # None: the whole frame

    def __post_init__(self) -> None:
        p = self.probability
        if not isinstance(p, np.ndarray) or p.dtype != np.float32 or p.ndim != 2 or min(p.shape) < 1:
            raise ValueError(f"a person mask must be a 2-D float32 array, got {getattr(p, 'dtype', type(p))} "
                             f"{getattr(p, 'shape', None)}")
        fw, fh = self.frame_size
        if fw < 1 or fh < 1:
            raise ValueError(f"a person mask needs a positive frame size, got {self.frame_size}")
        if self.region is None:
            object.__setattr__(self, "region", (0, 0, int(fw), int(fh)))
        rx, ry, rw, rh = self.region
        if rw < 1 or rh < 1 or rx < 0 or ry < 0 or rx + rw > fw or ry + rh > fh:
            raise ValueError(f"a person mask region must be a non-empty box inside the {fw}x{fh} frame, "
                             f"got {self.region}")
        p.flags.writeable = False  # frozen means the pixels too

    def coverage(self, box: Box) -> float:
        """Mean person probability inside a frame-pixel box (clipped to the region); 0 if nothing is left."""
        cells = self._to_cells(box)
        if cells is None:
            return 0.0
        rows, cols = cells
        return float(self.probability[rows, cols].mean())

    def body_box(self, face_box: Box, threshold: float = THRESHOLD) -> Box | None:
        """Frame box of the person blob at and below a face, or None if no person is there.

        The search area is the face box plus one face-height below it (neck and
        shoulders), so a turned-away head the mask half-missed still finds its
        body; the blob with the most cells in that area wins, not a speck that
        happens to touch the face.
        """
        count, labels, stats = self._components(threshold)
        x, y, w, h = face_box
        cells = self._to_cells((x, y, w, 2 * h))
        if count <= 1 or cells is None:
            return None
        overlap = np.bincount(labels[cells].ravel(), minlength=count)
        overlap[0] = 0  # background
        if overlap.max() == 0:
            return None
        return self._to_frame_box(stats[int(overlap.argmax())])

    def reach_below(self, face_box: Box, threshold: float = THRESHOLD) -> float:
        """How far, in face heights, the person blob under a face reaches below its chin (0 with no blob).

        A head sits on a neck and shoulders; a cup or a poster the mask calls foreground ends at the
        "face" the detector saw in it.
        """
        body = self.body_box(face_box, threshold)
        if body is None:
            return 0.0
        _, y, _, h = face_box
        return max(0.0, (body[1] + body[3] - (y + h)) / h)

    def regions(self, min_area_frac: float = 0.01, threshold: float = THRESHOLD) -> tuple[Box, ...]:
        """Frame boxes of person blobs covering at least ``min_area_frac`` of the mask, largest first."""
        count, _, stats = self._components(threshold)
        min_cells = min_area_frac * self.probability.size
        blobs = sorted((s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= min_cells),
                       key=lambda s: -int(s[cv2.CC_STAT_AREA]))
        return tuple(self._to_frame_box(s) for s in blobs)

    def _components(self, threshold: float) -> tuple[int, np.ndarray, np.ndarray]:
        binary = (self.probability > threshold).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        return count, labels, stats

    def _scale(self) -> tuple[float, float]:
        """Mask cells per frame pixel, horizontally and vertically."""
        mh, mw = self.probability.shape
        return mw / self.region[2], mh / self.region[3]

    def _to_cells(self, box: Box) -> tuple[slice, slice] | None:
        """Mask rows and columns whose centres fall inside the box (at least one cell if it overlaps)."""
        rx, ry, rw, rh = self.region
        x0, y0 = max(0.0, float(box[0] - rx)), max(0.0, float(box[1] - ry))
        x1, y1 = min(float(rw), float(box[0] + box[2] - rx)), min(float(rh), float(box[1] + box[3] - ry))
        if x1 <= x0 or y1 <= y0:
            return None
        sx, sy = self._scale()
        mh, mw = self.probability.shape
        c0, r0 = min(mw - 1, int(round(x0 * sx))), min(mh - 1, int(round(y0 * sy)))
        c1, r1 = max(c0 + 1, int(round(x1 * sx))), max(r0 + 1, int(round(y1 * sy)))
        return slice(r0, r1), slice(c0, c1)

    def _to_frame_box(self, stat: np.ndarray) -> Box:
        """A component's cell box as the frame pixels it covers, rounded outwards."""
        sx, sy = self._scale()
        rx, ry, rw, rh = self.region
        x0 = int(np.floor(stat[cv2.CC_STAT_LEFT] / sx))
        y0 = int(np.floor(stat[cv2.CC_STAT_TOP] / sy))
        x1 = min(rw, int(np.ceil((stat[cv2.CC_STAT_LEFT] + stat[cv2.CC_STAT_WIDTH]) / sx)))
        y1 = min(rh, int(np.ceil((stat[cv2.CC_STAT_TOP] + stat[cv2.CC_STAT_HEIGHT]) / sy)))
        return rx + x0, ry + y0, x1 - x0, y1 - y0


def region_around_face(face_box: Box, frame_size: tuple[int, int], face_widths: float = 6.0) -> Box:
    """A 16:9 crop around a face for ``segment``, so a small person fills the model's input.

    On whole 1280x720 frames the model misses much of a person whose face is
    60 px wide; a crop six face-widths wide finds the head and shoulders again.
    The face sits a third of the way down, leaving room for the body; the crop
    is shifted (not cut) to stay inside the frame, and is never bigger than it.
    """
    fw, fh = frame_size
    x, y, w, h = face_box
    cw = min(fw, max(INPUT_SIZE[0], int(round(face_widths * w))))
    ch = min(fh, int(round(cw * INPUT_SIZE[1] / INPUT_SIZE[0])))
    cx, cy = x + w / 2, y + h / 2
    x0 = int(round(min(max(0.0, cx - cw / 2), fw - cw)))
    y0 = int(round(min(max(0.0, cy - ch / 3), fh - ch)))
    return x0, y0, cw, ch


class PersonSegmenter:
    """The Tasks ``ImageSegmenter`` with the landscape selfie model (one verb: ``segment``)."""

    def __init__(self, models_dir: Path = paths.MODELS_DIR) -> None:
        path = Path(models_dir) / MODEL_FILE
        if not path.is_file():
            raise ModelMissing(f"{path}: person segmentation model missing; "
                               "run 'python models/extract_models.py' to restore it")
        os.environ.setdefault("GLOG_minloglevel", "2")
        from mediapipe.tasks.python import BaseOptions, vision

        # IMAGE mode for the same reason as the face detector: calls share no clock.
        self._options = vision.ImageSegmenterOptions(
            base_options=BaseOptions(model_asset_path=str(path)),
            running_mode=vision.RunningMode.IMAGE,
            output_confidence_masks=True,
            output_category_mask=False,
        )
        self._create()

    def _create(self) -> None:
        from mediapipe.tasks.python import vision

        # LiteRT logs while it loads and on the first inference; run one blank frame here.
        with native_stderr_silenced():
            self._segmenter = vision.ImageSegmenter.create_from_options(self._options)
            self.segment(np.zeros((INPUT_SIZE[1], INPUT_SIZE[0], 3), np.uint8))

    def restart(self) -> None:
        """Throw the segmenter away and load it again (after it failed on a frame)."""
        try:
            self.close()
        except Exception:  # noqa: BLE001 - a broken segmenter may not close cleanly; a new one is made anyway
            pass
        self._create()

    def segment(self, image_bgr: np.ndarray, region: Box | None = None) -> PersonMask:
        """Person probability for a BGR frame, or for one region of it, at the model's 256x144 resolution.

        A region is resized to 256x144 whatever its shape, so 16:9 regions
        (see ``region_around_face``) keep people in proportion.
        """
        import mediapipe as mp

        if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
            raise ValueError(f"segment needs a BGR uint8 image of shape (H, W, 3), got {image_bgr.dtype} "
                             f"{image_bgr.shape}")
        h, w = image_bgr.shape[:2]
        x0, y0, rw, rh = _clip(region, w, h) if region is not None else (0, 0, w, h)
        if rw < 2 or rh < 2:
            raise ValueError(f"segment needs a region of at least 2x2 pixels inside the {w}x{h} frame, got {region}")
        small = _shrink(image_bgr[y0:y0 + rh, x0:x0 + rw])
        rgb = np.ascontiguousarray(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        result = self._segmenter.segment(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb))
        # Copy out of the native buffer: it belongs to the result, not to us.
        view = result.confidence_masks[0].numpy_view()
        probability = np.clip(view.reshape(view.shape[0], view.shape[1]), 0.0, 1.0).astype(np.float32, copy=False)
        return PersonMask(probability, (int(w), int(h)), (x0, y0, rw, rh))

    def close(self) -> None:
        with native_stderr_silenced():
            self._segmenter.close()


def _shrink(image: np.ndarray) -> np.ndarray:
    """The image at the model's input size, nearly as clean as INTER_AREA at a fraction of its cost.

    INTER_AREA from 1920x1080 (a 7.5:1 ratio) takes ~14 ms; plain INTER_LINEAR
    aliases and flipped up to 5 % of the mask's cells on rig frames. Linear to
    twice the input size, then an exact 2:1 area average, takes ~0.5 ms and
    flipped at most 2 % (mostly under 0.2 %).
    """
    double = cv2.resize(image, (2 * INPUT_SIZE[0], 2 * INPUT_SIZE[1]), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(double, INPUT_SIZE, interpolation=cv2.INTER_AREA)
