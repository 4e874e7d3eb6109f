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

import cv2
import numpy as np

REBLUR_SIGMA = 1.0
"""The known re-blur: small, so fine detail decides, and sensor noise is mostly left out by the edge selection."""
EDGE_SHARE = 0.2
"""The share of pixels with the strongest (re-blurred) gradient that count as edges."""
MAX_SIGMA_PX = 20.0
"""What a region with no measurable detail reads as: blurred beyond measure."""
MIN_SIDE_PX = 8


def edge_blur_sigma(grey: np.ndarray) -> float:
    """Gaussian-equivalent blur of a grey region in pixels (the least blurred of four directions)."""
    if grey.shape[0] < MIN_SIDE_PX or grey.shape[1] < MIN_SIDE_PX:
        return MAX_SIGMA_PX
    image = grey.astype(np.float32)
    reblurred = cv2.GaussianBlur(image, (0, 0), REBLUR_SIGMA)
    inner = (slice(3, -3), slice(3, -3))  # the Gaussian's border would add edges of its own
    before = [cv2.Sobel(image, cv2.CV_32F, dx, dy, ksize=3)[inner] for dx, dy in ((1, 0), (0, 1))]
    after = [cv2.Sobel(reblurred, cv2.CV_32F, dx, dy, ksize=3)[inner] for dx, dy in ((1, 0), (0, 1))]
    if after[0].size == 0:
        return MAX_SIGMA_PX
    return min(_direction_sigma(before, after, cos, sin) for cos, sin in DIRECTIONS)


DIRECTIONS = ((1.0, 0.0), (0.0, 1.0), (math.sqrt(0.5), math.sqrt(0.5)), (math.sqrt(0.5), -math.sqrt(0.5)))
"""Gradient directions measured: across, down and both diagonals (motion blur spares at least one)."""


def _direction_sigma(before: list[np.ndarray], after: list[np.ndarray], cos: float, sin: float) -> float:
    along_before = before[0] * cos + before[1] * sin
    along_after = after[0] * cos + after[1] * sin
    after_energy = along_after * along_after
    cut = int((1.0 - EDGE_SHARE) * (after_energy.size - 1))
    threshold = float(np.partition(after_energy.ravel(), cut)[cut])
    edges = after_energy >= threshold
    denominator = float(after_energy[edges].sum())
    if denominator <= 1e-6:
        return MAX_SIGMA_PX
    ratio = float((along_before * along_before)[edges].sum()) / denominator
    if ratio <= 1.0 + 1e-6:
        return MAX_SIGMA_PX
    return min(MAX_SIGMA_PX, REBLUR_SIGMA / math.sqrt(ratio * ratio - 1.0))
