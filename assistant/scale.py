"""One smaller copy of frames wider than 1080p, shared by the stages that need no more detail than 1080p has.

Why: a 3840x2160 frame is 25 MB, and decoding it already keeps most of a
2-core machine busy. Before, the sharpness map shrank it by 4 with
``INTER_AREA`` (OpenCV's generic area path: 12-20 ms, more than the rest of
the analysis together), and every face search converted and copied its whole
region of the 4K picture (up to 50 MB moved for one whole-frame search) only
for MediaPipe to shrink it to 192 pixels. Halving is OpenCV's vectorised 2:1
area path (~3 ms at 4K), so a frame wider than ``WORKING_WIDTH`` is halved
(twice for 8K) once, kept on the :class:`~assistant.types.Frame`
(``Frame.reduced``), and the tile grid, the face detector and the cut
detector read that copy. Frames up to ``WORKING_WIDTH`` are used as they are:
their results do not change. Subject boxes (their sharpness, their blur
width) are still measured on the full picture: a subject's focus is judged
on every pixel the camera gave.
"""

from __future__ import annotations

import cv2
import numpy as np

WORKING_WIDTH = 1920
"""The widest picture the tile grid and the face search look at: what they were tuned and measured on."""


def working_factor(width: int) -> int:
    """The smallest power of two that brings a frame ``width`` pixels wide to ``WORKING_WIDTH`` or less.

    Powers of two, because each halving takes OpenCV's fast 2:1 area path
    (shrinking by 3 or 4 in one step takes its generic path, 4-6 times slower).
    """
    if width < 1:
        raise ValueError(f"a frame width must be >= 1 pixel, got {width}")
    factor = 1
    while width > WORKING_WIDTH * factor:
        factor *= 2
    return factor


def halve(image: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    """``image`` shrunk 2:1 by area averaging (into ``dst`` when given, a buffer of the right shape)."""
    height, width = image.shape[:2]
    return cv2.resize(image, (width // 2, height // 2), dst=dst, interpolation=cv2.INTER_AREA)


def is_power_of_two(factor: int) -> bool:
    return factor >= 1 and factor & (factor - 1) == 0


def reduced_box(box: tuple[int, int, int, int], factor: int) -> tuple[int, int, int, int]:
    """A box ``(x, y, w, h)`` in the pixels of a copy ``factor`` times smaller, widened to whole pixels that
    cover it."""
    if factor == 1:
        return box
    x, y, w, h = box
    x0, y0 = x // factor, y // factor
    x1, y1 = -(-(x + w) // factor), -(-(y + h) // factor)
    return (x0, y0, x1 - x0, y1 - y0)
