"""In-place tinting of picture regions, one OpenCV pass each (no float copies of the frame)."""

from __future__ import annotations

import numpy as np
import cv2


def tint(region: np.ndarray, keep: float, colour: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
    """``region = keep * region + (1 - keep) * colour``, in place (a view into the frame)."""
    if region.size == 0:
        return
    mix = 1.0 - keep
    matrix = np.array([[keep, 0, 0, colour[0] * mix], [0, keep, 0, colour[1] * mix], [0, 0, keep, colour[2] * mix]],
                      np.float32)
    cv2.transform(region, matrix, dst=region)
