"""Finding a subject nobody can see: a contrast scan over the lens range.

A face blurred by 30-60 px is invisible to the face detector, so with the lens
parked far off (or after the target left the depth of field and was lost)
drive mode has no distance to follow. :class:`FocusSearch` moves the lens
instead, coarse to fine:

1. **sweep**: focus runs first toward the side of the range where people
   usually stand (0.6-10 m, ``PEOPLE_DPT``) is larger, then across to the
   other end, at ``speed_dpt_s``, while the contrast of
   the search region (where people are, else the middle of the picture) is
   recorded against the lens position;
2. as soon as the contrast has risen well above where the sweep started and
   fallen again (a peak passed), or at the end of the range, focus goes
   **back to the best position**;
3. there a parabola fitted to log-contrast around the best samples
   (:func:`assistant.focus.peak.parabola_vertex`, also used by the controller's probe) **centres** it, and the lens
   holds: the face is now sharp enough for the detector, and tracking takes
   over the moment a target appears.

The search is one-shot: it ends holding at the best position it found, so
an empty room is swept once, not hunted forever.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.focus.peak import parabola_vertex
from assistant.types import Box, SharpnessMap

PEAK_RISE = 1.6
"""A peak must stand this many times above the lowest contrast of the sweep so far."""
PEAK_FALL = 0.6
"""...and the sweep must have fallen below this share of it: the peak is behind us."""
CENTRE_SPAN_DPT = 0.35
"""Samples within this distance of the best one are used to centre the peak."""
ARRIVED_DPT = 0.01
PEOPLE_DPT = (0.1, 1.7)
"""Where people usually stand, in dioptres (10 m to 0.6 m): the first leg of a sweep heads for most of it."""


@dataclass
class FocusSearch:
    """One search over ``limits_dpt`` from where the lens is now (one verb: ``step``)."""

    limits_dpt: tuple[float, float]
    start_dpt: float
    speed_dpt_s: float = 4.0
    samples: list[tuple[float, float]] = field(default_factory=list)
    phase: str = "sweep"  # sweep -> return -> held
    _legs: list[float] = field(default_factory=list)
    _command: float = math.nan
    _t: float | None = None
    _goal: float | None = None

    def __post_init__(self) -> None:
        lo, hi = self.limits_dpt
        if not (0.0 <= lo < hi and math.isfinite(hi)):
            raise ValueError(f"a focus search needs limits (min, max) in dioptres, got {self.limits_dpt}")
        if self.speed_dpt_s <= 0:
            raise ValueError(f"speed_dpt_s must be > 0, got {self.speed_dpt_s}")
        start = min(hi, max(lo, self.start_dpt))
        far_side = _overlap((lo, start), PEOPLE_DPT)
        near_side = _overlap((start, hi), PEOPLE_DPT)
        if far_side == near_side:  # no people either way (or both ways alike): the least travel
            far_side, near_side = hi - start, start - lo
        first = lo if far_side >= near_side else hi
        self._legs = [first, hi if first == lo else lo]
        self._command = start

    @property
    def done(self) -> bool:
        """The search has settled on its best position (it holds there)."""
        return self.phase == "held"

    def step(self, t: float, lens_dpt: float, contrast: float | None) -> float:
        """Record this frame's contrast at ``lens_dpt``; the focus command for this frame."""
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        if contrast is not None and math.isfinite(contrast) and contrast > 0:
            self.samples.append((lens_dpt, contrast))
        if self.phase == "sweep":
            self._sweep(dt, lens_dpt)
        elif self.phase == "return" and self._goal is not None and abs(lens_dpt - self._goal) <= ARRIVED_DPT:
            self.phase = "held"
        return self._command

    def _sweep(self, dt: float, lens_dpt: float) -> None:
        if self._peak_passed():
            self._go_to_best()
            return
        end = self._legs[0]
        step = self.speed_dpt_s * dt
        self._command += max(-step, min(step, end - self._command))
        if abs(lens_dpt - end) <= ARRIVED_DPT and abs(self._command - end) <= 1e-9:
            self._legs.pop(0)
            if not self._legs:
                self._go_to_best()

    def _peak_passed(self) -> bool:
        if len(self.samples) < 3:
            return False
        values = [c for _, c in self.samples]
        best = max(values)
        return best >= PEAK_RISE * min(values) and values[-1] <= PEAK_FALL * best

    def _go_to_best(self) -> None:
        if not self.samples:
            self.phase, self._goal = "held", None  # nothing measured: stay where the lens is
            return
        best_x, _ = max(self.samples, key=lambda s: s[1])
        near = [s for s in self.samples if abs(s[0] - best_x) <= CENTRE_SPAN_DPT]
        vertex = parabola_vertex(near)
        goal = best_x if vertex is None or abs(vertex - best_x) > CENTRE_SPAN_DPT else vertex
        lo, hi = self.limits_dpt
        self._goal = self._command = min(hi, max(lo, goal))
        self.phase = "return"


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def region_contrast(sharpness: SharpnessMap, regions: Sequence[Box] = ()) -> float:
    """The contrast a search climbs: the Laplacian's mean square inside ``regions`` (frame pixels).

    Read from the map's own Laplacian (analysis resolution), so any box costs
    a slice, not a new filter pass. Without regions, the middle half of the
    frame in each direction. Not exposure-normalised: a search compares one
    region with itself over a second or two.
    """
    lap = sharpness.laplacian
    rows, cols = sharpness.grid
    scale = lap.shape[1] / (sharpness.tile_size[0] * cols)  # analysis pixels per frame pixel
    height, width = lap.shape
    if not regions:
        regions = [(round(width / 4 / scale), round(height / 4 / scale), round(width / 2 / scale),
                    round(height / 2 / scale))]
    total, count = 0.0, 0
    for x, y, w, h in regions:
        x0, y0 = max(0, int(x * scale)), max(0, int(y * scale))
        x1, y1 = min(width, max(x0 + 1, int(math.ceil((x + w) * scale)))), min(height, max(y0 + 1, int(math.ceil((y + h) * scale))))
        if x1 <= x0 or y1 <= y0:
            continue
        patch = lap[y0:y1, x0:x1].astype(np.float32)
        total += float(np.square(patch).sum())
        count += patch.size
    return total / count if count else 0.0
