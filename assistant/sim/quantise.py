"""Cache-key rounding: sprite sizes, defocus disks and motion streaks close enough to look the same share a key."""

from __future__ import annotations

import math

MIN_STREAK_PX = 0.75
"""Motion-blur streaks shorter than this are not drawn (they do not show)."""


def quantise_blur(diameter: float) -> float:
    """Blur diameters close enough to look the same share one cache entry."""
    if diameter < 1.0:
        return 0.0
    if diameter < 4.0:
        return round(diameter * 4.0) / 4.0
    if diameter < 12.0:
        return round(diameter * 2.0) / 2.0
    step = 0.04
    return round(math.exp(round(math.log(diameter) / step) * step), 2)


def quantise_size(pixels: float) -> int:
    """Sprite widths in 1 % steps (at least 1 px)."""
    if pixels < 100:
        return max(1, round(pixels))
    step = math.log(1.01)
    return round(math.exp(round(math.log(pixels) / step) * step))


def quantise_streak(dx: float, dy: float, blur: float = 0.0) -> tuple[float, int, int] | None:
    """Streaks close enough to look the same share one cache entry: (length, angle bin, bins).

    None below ``MIN_STREAK_PX``, or below a quarter of the layer's defocus
    disk ``blur``: such a streak widens the blur along it by at most 4 % (RMS),
    about what ``quantise_blur`` rounds away anyway (a 7 px disk smeared 1.5 px
    looks the same).
    Lengths in 0.5 px steps to 4 px, 1 px to 12 px, then 5 %; the angle (mod
    180 degrees, a streak has no direction) in bins fine enough that the
    streak's ends land within about 0.25 px (a sixteenth of the disk when that
    is more).
    """
    length = math.hypot(dx, dy)
    if length < max(MIN_STREAK_PX, blur / 4.0):
        return None
    if length < 4.0:
        q = round(length * 2.0) / 2.0
    elif length < 12.0:
        q = float(round(length))
    else:
        q = round(math.exp(round(math.log(length) / 0.05) * 0.05), 1)
    tolerance = max(0.25, blur / 16.0)
    bins = min(180, max(4, math.ceil(math.pi * q / (4.0 * tolerance))))
    angle = math.atan2(dy, dx) % math.pi
    return q, round(angle / math.pi * bins) % bins, bins
