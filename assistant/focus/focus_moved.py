"""Was focus seen to move? Evidence for a tracking pull, from everything but the subject being followed.

A subject that walks in depth and stays sharp was followed by focus only if
focus can be seen to have moved; otherwise it walked inside a deep depth of
field. Three witnesses, any one suffices:

- another subject, standing still, got visibly sharper or softer;
- the background (tiles clear of the subjects) got sharper or softer, most
  tiles the same way (a pan changes tiles both ways; a focus move one way);
- the walk was longer than the depth of field seen in this clip allows: with
  one subject in focus, another's blur over their distance apart in dioptres
  is the blur a dioptre of defocus makes here, and had focus stayed, the walk
  would have made the subject soft by that scale.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence

import numpy as np

from assistant.focus.subject_series import HISTORY_S, Reading, SubjectSeries

SCALE_SHARP_RATIO = 0.7
"""A subject this far within the limit anchors the blur-per-dioptre scale ..."""
SCALE_SOFT_RATIO = 2.0
"""... measured on subjects at least this far out of focus ..."""
SCALE_MIN_APART_DPT = 0.05
"""... standing at least this far apart in dioptres."""
IN_FOCUS_FLOOR = 0.5
"""Blur ratios below this (well within focus) are compared as this: their changes are noise, not focus."""
STILL_WITHIN = 1.08
"""A witness whose own distance changed more than this factor walked itself: it does not count."""


class FocusMotionEvidence:
    """Remembers the background and the blur scale; answers whether focus moved between two times."""

    def __init__(self, shift_ratio: float, background_shift: float, background_agreement: float,
                 necessity_ratio: float) -> None:
        self.shift_ratio = shift_ratio
        self.background_shift = background_shift
        self.background_agreement = background_agreement
        self.necessity_ratio = necessity_ratio
        self._background: deque = deque()  # (t, tile log levels, tiles clear of subjects)
        self._scale: deque = deque()  # (t, blur ratio per dioptre)

    def observe(self, t: float, readings: Sequence[Reading], tile_levels: np.ndarray, tile_clear: np.ndarray) -> None:
        """Keep one frame's background and what it shows of the blur scale."""
        self._background.append((t, tile_levels, tile_clear))
        while self._background and t - self._background[0][0] > HISTORY_S:
            self._background.popleft()
        self._learn_scale(readings, t)

    def moved(self, subjects: Mapping[int, SubjectSeries], walker: int, start: float, end: float,
              walked_dpt: float) -> bool:
        """Any witness says focus moved while ``walker`` walked ``walked_dpt`` dioptres from ``start`` to ``end``."""
        return (self.others_shifted(subjects, walker, start, end) or self.background_shifted(start, end)
                or self.could_not_stay_sharp(walked_dpt))

    def _learn_scale(self, readings: Sequence[Reading], t: float) -> None:
        """The blur ratio a dioptre of defocus makes, from one frame with exactly one subject in focus.

        Heavily blurred faces read less blur than they have, so the scale is,
        if anything, too small.
        """
        sharp = [r for r in readings if r.ratio is not None and r.ratio <= SCALE_SHARP_RATIO and r.distance_m]
        if len(sharp) != 1:
            return
        anchor = 1.0 / sharp[0].distance_m
        for other in readings:
            if other.ratio is None or other.ratio < SCALE_SOFT_RATIO or not other.distance_m:
                continue
            apart = abs(1.0 / other.distance_m - anchor)
            if apart >= SCALE_MIN_APART_DPT:
                self._scale.append((t, other.ratio / apart))
        while self._scale and t - self._scale[0][0] > HISTORY_S:
            self._scale.popleft()

    def could_not_stay_sharp(self, walked_dpt: float) -> bool:
        """Had focus stayed, a walk of ``walked_dpt`` dioptres would have made the subject soft."""
        if len(self._scale) < 5:
            return False
        scale = float(np.median([k for _, k in self._scale]))
        return scale * walked_dpt >= self.necessity_ratio

    def others_shifted(self, subjects: Mapping[int, SubjectSeries], walker: int, start: float, end: float) -> bool:
        """Another subject, standing still, got visibly sharper or softer between ``start`` and ``end``.

        Its first and last readings in the span are compared: a subject too
        blurred to be found at the start is often found as focus comes toward it.
        """
        for sid, series in subjects.items():
            if sid == walker:
                continue
            during = series.measured(start - 0.15, end + 0.15)
            if len(during) < 6 or during[-1].t - during[0].t < 0.5:
                continue
            a = float(np.median([s.ratio for s in during[:5]]))
            b = float(np.median([s.ratio for s in during[-5:]]))
            da, db = series.distance_near(during[0].t), series.distance_near(during[-1].t)
            walked = da is not None and db is not None and abs(math.log(db / da)) > math.log(STILL_WITHIN)
            # within focus the ratio is mostly noise: a change between 0.05 and 0.3 shows nothing
            a, b = max(a, IN_FOCUS_FLOOR), max(b, IN_FOCUS_FLOOR)
            if not walked and abs(math.log(b / a)) >= math.log(1.0 + self.shift_ratio):
                return True
        return False

    def background_shifted(self, start: float, end: float) -> bool:
        """The background, away from the subjects, got sharper or softer all one way."""
        before = [(lv, clear) for t, lv, clear in self._background if start - 0.2 <= t <= start + 0.1]
        after = [(lv, clear) for t, lv, clear in self._background if end - 0.1 <= t <= end + 0.2]
        if not before or not after:
            return False
        a = np.median(np.array([lv for lv, _ in before]), axis=0)
        b = np.median(np.array([lv for lv, _ in after]), axis=0)
        clear = np.logical_and.reduce([c for _, c in before + after])
        change = (b - a)[clear & np.isfinite(a) & np.isfinite(b)]
        if change.size < 4:
            return False
        typical = float(np.median(change))
        agreeing = float(np.mean(np.sign(change) == np.sign(typical)))
        return abs(typical) >= math.log(self.background_shift) and agreeing >= self.background_agreement
