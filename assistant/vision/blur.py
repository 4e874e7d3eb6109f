"""How wide the blur on a region is, in pixels: an absolute measure, unlike sharpness.

The variance of the Laplacian says how much fine detail a region has, which
depends on its texture as much as on focus. The blur width does not: blur a
step edge whose own blur is ``s`` again with a Gaussian of ``s0``, and its
gradient energy falls by ``sqrt(s^2 + s0^2) / s``, whatever the edge's
contrast. So the ratio of gradient energy before and after a known re-blur,
summed over a region's strongest edges, gives ``s`` (the re-blur method of
single-image defocus estimation).

Defocus blurs in every direction, motion blur along one: the width is
measured from gradients in four directions (across, down, both diagonals)
separately and the smallest is kept, so a subject crossing the frame fast
does not read as out of focus.
The result is a Gaussian-equivalent sigma; a defocus disk of diameter ``D``
pixels has a sigma of about ``D / 4``.
"""

from __future__ import annotations

import math

from collections.abc import Sequence

import cv2
import numpy as np

from assistant.scale import working_factor
from assistant.types import Box, Frame

REBLUR_SIGMA = 1.0
"""The known re-blur: small, so fine detail decides, and sensor noise is mostly left out by the edge selection."""
EDGE_SHARE = 0.2
"""The share of pixels with the strongest (re-blurred) gradient along a direction that count as its edges."""
MAX_SIGMA_PX = 20.0
"""What a region with no measurable detail reads as: blurred beyond measure."""
MIN_SIDE_PX = 8


class BlurMeter:
    """Blur widths of subject boxes (one verb: ``measure``), at full resolution.

    A stage of its own beside the sharpness map: it costs about a millisecond
    per large face, which the map's budget has no room for.
    """

    def measure(self, image: np.ndarray, boxes: Sequence[Box]) -> tuple[float, ...]:
        """Blur width (Gaussian sigma, px) of each box of a BGR frame, from the box and a one-pixel rim."""
        height, width = image.shape[:2]
        widths = []
        for x, y, w, h in boxes:
            x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(width, x + w + 1), min(height, y + h + 1)
            if x1 - x0 < 4 or y1 - y0 < 4:
                widths.append(MAX_SIGMA_PX)
                continue
            widths.append(edge_blur_sigma(cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)))
        return tuple(widths)

    def measure_frame(self, frame: Frame, boxes: Sequence[Box]) -> tuple[float, ...]:
        """Blur widths of boxes of ``frame``, in the frame's pixels, measured at the working width's scale.

        A frame wider than 1080p (``assistant.scale``) is measured on patches of
        the box halved by area, and the widths scaled back: a 4K face has four
        times the pixels of the same face at 1080p, and reading them all cost
        more than the rest of the subject stage. The price is resolution at the
        sharp end (a 4K width under about 1 px reads as about 1 px), which the
        judge's learned own softness of each face absorbs.
        """
        factor = working_factor(frame.width)
        if factor == 1:
            return self.measure(frame.image, boxes)
        widths = []
        for x, y, w, h in boxes:
            rim = factor  # the one-pixel rim ``measure`` reads, at the patch's scale
            piece, _ = frame.patch((x - rim, y - rim, w + 2 * rim, h + 2 * rim), factor)
            inner = (1, 1, piece.shape[1] - 2, piece.shape[0] - 2)
            widths.append(factor * self.measure(piece, [inner])[0])
        return tuple(widths)


def edge_blur_sigma(grey: np.ndarray) -> float:
    """Gaussian-equivalent blur of a grey region in pixels (the least blurred of four directions).

    The fine measure is sensitive near focus, but a wide blur drowns in noise
    there. So the region is first measured at a quarter and at half its size
    (where noise is averaged away and a wide blur is a narrow one); a reading
    that is wide there is kept, scaled back to full-size pixels, and only a
    narrow one is measured again at full size.
    """
    if grey.shape[0] < MIN_SIDE_PX or grey.shape[1] < MIN_SIDE_PX:
        return MAX_SIGMA_PX
    image = grey.astype(np.float32)
    for factor, trusted_from in COARSE_LEVELS:
        h, w = image.shape[0] // factor, image.shape[1] // factor
        if min(h, w) < 2 * MIN_SIDE_PX:
            continue
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        sigma = _sigma_at_scale(small) * factor
        if sigma >= trusted_from:
            return min(sigma, MAX_SIGMA_PX)
    return _sigma_at_scale(image)


COARSE_LEVELS = ((4, 4.0), (2, 2.0))
"""(reduction, the full-size reading from which it is trusted): wide blurs are read on reduced copies."""


def _sigma_at_scale(image: np.ndarray) -> float:
    reblurred = cv2.GaussianBlur(image, (0, 0), REBLUR_SIGMA)
    inner = (slice(3, -3), slice(3, -3))  # the Gaussian's border would add edges of its own
    bx, by = (cv2.Sobel(image, cv2.CV_32F, dx, dy, ksize=3)[inner] for dx, dy in ((1, 0), (0, 1)))
    ax, ay = (cv2.Sobel(reblurred, cv2.CV_32F, dx, dy, ksize=3)[inner] for dx, dy in ((1, 0), (0, 1)))
    if ax.size == 0:
        return MAX_SIGMA_PX
    return min(_direction_sigma(*_along(cos, sin, bx, by, ax, ay)) for cos, sin in DIRECTIONS)


def _along(cos: float, sin: float, bx: np.ndarray, by: np.ndarray, ax: np.ndarray,
           ay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The gradients (before, after the re-blur) along one direction. Across and down they are the Sobel
    outputs themselves: ``x * 1 + y * 0`` is ``x`` (up to the sign of a zero, which is squared away), so
    skipping that arithmetic gives the same numbers for less work."""
    if (cos, sin) == (1.0, 0.0):
        return bx, ax
    if (cos, sin) == (0.0, 1.0):
        return by, ay
    return bx * cos + by * sin, ax * cos + ay * sin


DIRECTIONS = ((1.0, 0.0), (0.0, 1.0), (math.sqrt(0.5), math.sqrt(0.5)), (math.sqrt(0.5), -math.sqrt(0.5)))
"""Gradient directions measured: across, down and both diagonals (motion blur spares at least one)."""


def _direction_sigma(before: np.ndarray, after: np.ndarray) -> float:
    """Blur from the gradient energy along one direction, before and after the re-blur, on that direction's
    strongest edges (chosen per direction: edges a motion streak has smeared do not count in the others)."""
    after_energy = (after * after).ravel()
    cut = int((1.0 - EDGE_SHARE) * (after_energy.size - 1))
    edges = after_energy >= np.partition(after_energy, cut)[cut]
    # ``compress`` picks the same elements in the same order as indexing with ``edges`` (so the same sums),
    # several times faster on a mask as irregular as edges are.
    denominator = float(np.compress(edges, after_energy).sum())
    if denominator <= 1e-6:
        return MAX_SIGMA_PX
    strongest = np.compress(edges, before.ravel())
    ratio = float(np.dot(strongest, strongest)) / denominator
    if ratio <= 1.0 + 1e-6:
        return MAX_SIGMA_PX
    return min(MAX_SIGMA_PX, REBLUR_SIGMA / math.sqrt(ratio * ratio - 1.0))
