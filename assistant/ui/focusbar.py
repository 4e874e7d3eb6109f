"""The focus bar: a near-to-far distance scale along the bottom of the picture.

Like the distance scale on a lens, it is linear in dioptres, so near
distances get room and infinity sits at the far end. It shows a marker per
subject, the current focus with its depth-of-field band, and in suggest mode
an arrow from the focus to the target saying which way and how far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.types import Subject
from assistant.ui import palette
from assistant.ui.paint import tint
from assistant.units import to_dioptres

FONT = cv2.FONT_HERSHEY_SIMPLEX
TICKS_M = (0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, math.inf)
FOCUS_COLOUR = palette.SHARP
"""The focus line and its depth-of-field band are green: the distances that are sharp."""
DOF_COLOUR = palette.SHARP
MARKER_COLOUR = palette.OTHER
TARGET_COLOUR = palette.TARGET
ARROW_COLOUR = palette.TARGET
"""The guide's arrow points at the target, so it wears the target's amber."""


NEAR_ENDS_M = (1.0, 0.5, 0.3)
"""The bar's near end: the farthest of these that leaves room in front of everything shown."""


def near_end_m(distances: list[float]) -> float:
    """A near end for the scale that spreads the subjects out (steps, so it rarely changes)."""
    nearest = min((d for d in distances if d > 0), default=NEAR_ENDS_M[-1])
    return next((end for end in NEAR_ENDS_M if end <= 0.6 * nearest), NEAR_ENDS_M[-1])


@dataclass(frozen=True)
class FocusBar:
    """Where the bar sits in a ``width`` x ``height`` picture and how it maps distance to x."""

    width: int
    height: int
    near_m: float = 0.3

    @property
    def scale(self) -> float:
        """Text and line scale for this picture size (readable from 480p to 4K)."""
        return max(0.4, self.width / 2600)

    @property
    def band(self) -> tuple[int, int]:
        """Top and bottom rows of the bar's dark band."""
        tall = int(round(56 * self.scale / 0.5))
        return self.height - tall, self.height

    @property
    def span(self) -> tuple[int, int]:
        """Left (near) and right (infinity) x of the scale line."""
        margin = int(round(40 * self.scale / 0.5))
        return margin, self.width - margin

    @property
    def line_y(self) -> int:
        top, bottom = self.band
        return top + int(0.45 * (bottom - top))

    def x_for(self, distance_m: float) -> int:
        """The column of ``distance_m`` on the scale (clamped to near .. infinity)."""
        return self.x_for_dioptres(to_dioptres(distance_m))

    def x_for_dioptres(self, dioptres: float) -> int:
        x0, x1 = self.span
        near = 1.0 / self.near_m
        share = (near - min(near, max(0.0, dioptres))) / near
        return int(round(x0 + share * (x1 - x0)))


def draw_focus_bar(out: np.ndarray, bar: FocusBar, subjects: tuple[Subject, ...], focus_m: float | None,
                   dof_dpt: float, target_id: int | None = None, advice: tuple[str, float] | None = None) -> None:
    """Draw the bar in place. ``advice`` is the guide's (direction, metres) in suggest mode."""
    top, bottom = bar.band
    band = out[top:bottom]
    tint(band, 0.35)
    x0, x1 = bar.span
    y = bar.line_y
    s = bar.scale
    cv2.line(out, (x0, y), (x1, y), palette.SCALE, 1, cv2.LINE_AA)
    for tick in TICKS_M:
        if tick < bar.near_m:
            continue
        x = bar.x_for(tick)
        cv2.line(out, (x, y - 4), (x, y + 4), palette.SCALE, 1)
        text = "inf" if math.isinf(tick) else f"{tick:g}"
        (tw, th), _ = cv2.getTextSize(text, FONT, s * 0.8, 1)
        cv2.putText(out, text, (x - tw // 2, bottom - 4), FONT, s * 0.8, palette.SCALE, 1, cv2.LINE_AA)
    if focus_m is not None:
        focus_dpt = to_dioptres(focus_m)
        left, right = bar.x_for_dioptres(focus_dpt + dof_dpt), bar.x_for_dioptres(focus_dpt - dof_dpt)
        dof = out[y - 6:y + 7, left:right + 1]
        tint(dof, 0.5, DOF_COLOUR)
        fx = bar.x_for(focus_m)
        cv2.line(out, (fx, top + 3), (fx, y + 8), FOCUS_COLOUR, 2)
    for subject in subjects:
        if subject.distance_m is None:
            continue
        x = bar.x_for(subject.distance_m)
        colour = TARGET_COLOUR if subject.id == target_id else MARKER_COLOUR
        tip = y - 3
        size = int(round(7 * s / 0.5))
        points = np.array([[x, tip], [x - size, tip - size - 2], [x + size, tip - size - 2]], np.int32)
        cv2.fillPoly(out, [points], colour, cv2.LINE_AA)
        name = subject.label or f"#{subject.id}"
        (tw, th), _ = cv2.getTextSize(name, FONT, s * 0.8, 1)
        cv2.putText(out, name, (x - tw // 2, tip - size - 5), FONT, s * 0.8, colour, 1, cv2.LINE_AA)
    if advice is not None and focus_m is not None:
        direction, metres = advice
        fx = bar.x_for(focus_m)
        tx = bar.x_for(max(0.01, focus_m + metres)) if math.isfinite(focus_m) else fx
        if abs(tx - fx) >= 4:
            tip = min(0.5, 8.0 / abs(tx - fx))  # an 8 px head whatever the length
            cv2.arrowedLine(out, (fx, y + 10), (tx, y + 10), ARROW_COLOUR, 2, cv2.LINE_AA, tipLength=tip)
        text = f"{direction} {abs(metres):.2f} m"
        cv2.putText(out, text, (max(fx, tx) + 8, y + 15), FONT, s * 0.8, ARROW_COLOUR, 1, cv2.LINE_AA)
