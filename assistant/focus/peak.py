"""Where a focus curve peaks: a parabola fitted to log sharpness over focus positions.

Contrast against defocus is close to a Gaussian near focus, so its logarithm
is close to a parabola. :func:`parabola_vertex` is the one fitter; it is used
by ``calibrate`` (sweeping a lens over a chart) and rehearsal scoring (where the
target was really sharpest during a take), both through :func:`sharpness_peak`,
and by drive mode's focus search and contrast probe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def parabola_vertex(samples: Sequence[tuple[float, float]]) -> float | None:
    """Position of the vertex of a parabola through (position, log sharpness), or None without a peak.

    Least squares over samples at three or more positions, fitted around their
    centre so that positions far from zero stay well conditioned.
    """
    if len({round(x, 9) for x, _ in samples}) < 3:
        return None
    xs = np.array([x for x, _ in samples], dtype=float)
    ys = np.log(np.maximum([y for _, y in samples], 1e-12))
    centre = float(xs.mean())
    a, b, _ = np.polyfit(xs - centre, ys, 2)
    if a >= 0:
        return None  # a valley or a slope: no peak to go to
    return centre - float(b) / (2.0 * float(a))


def sharpness_peak(samples: Sequence[tuple[float, float]], floor_share: float = 0.25) -> float:
    """The position of best focus from (position, sharpness) samples.

    Every sample above ``floor_share`` of the best takes part, not just the
    best three: the top of a focus curve is flat within the depth of field,
    and a fit over its whole width finds the middle of the plateau. Falls back
    to the best sample when the fit has no maximum inside the samples.
    """
    ordered = sorted(samples)
    top = max(y for _, y in ordered)
    near_top = [(x, y) for x, y in ordered if y >= floor_share * top]
    best_x = max(ordered, key=lambda s: s[1])[0]
    vertex = parabola_vertex(near_top)
    if vertex is None:
        return best_x
    return float(min(near_top[-1][0], max(near_top[0][0], vertex)))
