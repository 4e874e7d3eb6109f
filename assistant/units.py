"""Distance units: metres for people, dioptres (1/m, 0 = infinity) for lenses."""

from __future__ import annotations

import math


def to_dioptres(distance_m: float) -> float:
    """Metres to dioptres (infinity -> 0)."""
    return 0.0 if math.isinf(distance_m) else 1.0 / distance_m


def to_metres(dioptres: float) -> float:
    """Dioptres to metres (0 or less -> infinity)."""
    return math.inf if dioptres <= 0.0 else 1.0 / dioptres
