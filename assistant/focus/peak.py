"""Where a focus curve peaks: a parabola fitted to log sharpness over focus positions.

Used by ``calibrate`` (sweeping a lens over a chart) and by rehearsal scoring
(where the target was really sharpest during a take).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def sharpness_peak(samples: Sequence[tuple[float, float]], floor_share: float = 0.25) -> float:
    """The position of best focus from (position, sharpness) samples.

    Every sample above ``floor_share`` of the best takes part, not just the
    best three: the top of a focus curve is flat within the depth of field,
    and a fit over its whole width finds the middle of the plateau. Falls back
    to the best sample when the fit has no maximum inside the samples.
    """
    ordered = sorted(samples)
    top = max(y for _, y in ordered)
    near_top = [(x, math.log(max(y, 1e-12))) for x, y in ordered if y >= floor_share * top]
    best_x = max(ordered, key=lambda s: s[1])[0]
    if len(near_top) < 3 or near_top[0][0] == near_top[-1][0]:
        return best_x
    a, b, _ = np.polyfit([x for x, _ in near_top], [y for _, y in near_top], 2)
    if a >= 0:
        return best_x
    return float(min(near_top[-1][0], max(near_top[0][0], -b / (2 * a))))
