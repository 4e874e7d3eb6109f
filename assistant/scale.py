"""How stages look at frames wider than 1080p without reading all of them twice.

Why: a 3840x2160 frame is 25 MB, and decoding it already keeps most of a
2-core machine busy; every pass over the whole picture costs about 3 ms and
slows the decoder beside it (both fight for the memory bus). So a frame
wider than ``WORKING_WIDTH`` is read whole once, and smaller pieces are made
only where they are needed:

- the *overview* (``Frame.overview``): the whole picture at a quarter of 4K
  (960x540; an eighth of 8K) in one bilinear step, which averages the middle
  2x2 pixels of every 4x4 block and reads only half of the picture's rows
  (~2 ms at 4K, where halving twice by area cost ~4.5 ms). The tile grid
  (already 960 wide at 1080p), the cut detector's thumbnail and the search
  for new faces (which MediaPipe shrinks to 192 pixels anyway) read it;
- *patches* (``Frame.patch``): a box of the picture at the working width's
  scale (halved by area, OpenCV's vectorised 2:1 path), made from that box
  alone. Faces' blur widths and the searches around a tracked face read
  them: they need the detail of 1080p, but only where the face is.

Frames up to ``WORKING_WIDTH`` are used as they are: their results do not
change. Subject boxes' sharpness is still measured on the full picture.
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


def overview_factor(width: int) -> int:
    """How much smaller than the frame its overview is: 1 up to ``WORKING_WIDTH``, else twice the working factor
    (4 for 4K, 8 for 8K)."""
    factor = working_factor(width)
    return 1 if factor == 1 else 2 * factor


def overview(image: np.ndarray) -> np.ndarray:
    """The whole picture shrunk by ``overview_factor`` in one bilinear step (the picture itself up to 1080p)."""
    factor = overview_factor(image.shape[1])
    if factor == 1:
        return image
    height, width = image.shape[:2]
    return cv2.resize(image, (width // factor, height // factor), interpolation=cv2.INTER_LINEAR)


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


def patch(image: np.ndarray, box: tuple[int, int, int, int], factor: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The part of ``image`` under ``box`` shrunk by ``factor`` (a power of two) by halving it with area
    averaging, and where that part lies in the pixels of the whole picture so shrunk.

    The box is widened to whole blocks of ``factor`` pixels and clipped to the picture, so the patch holds
    exactly the pixels the whole halved picture would have there.
    """
    if not is_power_of_two(factor):
        raise ValueError(f"a patch is shrunk by a power of two, got {factor}")
    height, width = image.shape[:2]
    x, y, w, h = reduced_box(box, factor)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width // factor, x + w), min(height // factor, y + h)
    if x1 <= x0 or y1 <= y0:
        return image[:0, :0], (x0, y0, 0, 0)
    piece = image[y0 * factor:y1 * factor, x0 * factor:x1 * factor]
    while factor > 1:
        piece = halve(piece)
        factor //= 2
    return piece, (x0, y0, x1 - x0, y1 - y0)
