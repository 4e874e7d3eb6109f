"""When a subject began to leave focus, or to come into it: a blur ratio's ramp followed back to its level.

Defocus blur grows in proportion to how far focus has moved from a subject,
so the clearly changing part of its blur ratio is a straight line in time
(for a rack at constant speed). Followed back to the level the subject held
before, it dates the start of the focus move well before the blur could be
seen — where a threshold crossing would be late by the whole invisible part.
"""

from __future__ import annotations

import numpy as np

from assistant.focus.trends import hinge_knee

MAX_REACH_S = 1.0
"""The line is followed back at most this far before the first point it was fitted on."""


def ramp_start(ts: np.ndarray, ratios: np.ndarray) -> float:
    """When a subject began to leave focus: its rising ratio (0.5 to 1.6) followed back to its earlier level.

    Where the rise is too short for a line, the hinge fit (flat, then a slope)
    dates it.
    """
    rising = (ratios >= 0.5) & (ratios <= 1.6)
    last_low = np.flatnonzero(ratios < 0.5)
    if last_low.size:
        rising[: last_low[-1]] = False  # only the final climb
    if rising.sum() < 4:
        return hinge_knee(ts, ratios)
    slope, intercept = np.polyfit(ts[rising], ratios[rising], 1)
    if slope <= 0:
        return hinge_knee(ts, ratios)
    earlier = ratios[ts < ts[rising][0]]
    level = float(np.median(earlier)) if earlier.size else 0.0
    return _back_to(level, slope, intercept, ts, ts[rising][0])


def descent_start(ts: np.ndarray, ratios: np.ndarray) -> float:
    """When a subject began to come into focus: its falling ratio (2.5 down to 1) followed back up.

    The earlier level is where a far-out face's blur reading levels off.
    """
    falling = (ratios >= 1.0) & (ratios <= 2.5)
    last_high = np.flatnonzero(ratios > 2.5)
    if last_high.size:
        falling[: last_high[-1]] = False  # only the final descent
    if falling.sum() < 3:
        return float(ts[falling][0]) if falling.any() else float(ts[-1])
    slope, intercept = np.polyfit(ts[falling], ratios[falling], 1)
    earlier = ratios[ts < ts[falling][0]]
    if slope >= 0 or not earlier.size:
        return float(ts[falling][0])
    return _back_to(float(np.median(earlier)), slope, intercept, ts, ts[falling][0])


def _back_to(level: float, slope: float, intercept: float, ts: np.ndarray, first_fitted: float) -> float:
    """Where the fitted line meets ``level``, no earlier than the series or ``MAX_REACH_S`` before the fit."""
    start = (level - intercept) / slope
    return float(min(max(start, first_fitted - MAX_REACH_S, ts[0]), first_fitted))
