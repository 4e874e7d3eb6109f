"""The rig's focus actuator: moves toward a commanded focus at a finite speed.

It follows the driver contract in DESIGN.md (``move_to``, ``position``,
``units``, ``limits``, ``max_speed``), in dioptres, so drive mode can close
the loop on the virtual rig exactly as on a real motor.
"""

from __future__ import annotations

import math

from assistant.units import to_dioptres


class SimLens:
    """A focus motor in dioptres with soft limits and a slew limit."""

    units = "dioptres"

    def __init__(self, focus_m: float, near_limit_m: float, far_limit_m: float, max_speed_dpt_s: float) -> None:
        if max_speed_dpt_s <= 0:
            raise ValueError(f"max_speed_dpt_s must be > 0, got {max_speed_dpt_s}")
        self.limits = (to_dioptres(far_limit_m), to_dioptres(near_limit_m))
        self.max_speed = float(max_speed_dpt_s)
        self._position = self._clamp(to_dioptres(focus_m))
        self._target: float | None = None

    @property
    def driven(self) -> bool:
        """True once anything has commanded the lens (a script then stops steering it)."""
        return self._target is not None

    def move_to(self, value: float) -> None:
        """Command a focus in dioptres; clamped to the soft limits."""
        if not math.isfinite(value):
            raise ValueError(f"focus command must be a finite number of dioptres, got {value}")
        self._target = self._clamp(value)

    def position(self) -> float:
        """Current focus in dioptres."""
        return self._position

    def set_position(self, value: float) -> None:
        """Place the lens directly (scripted focus: the 'operator's hand')."""
        self._position = self._clamp(value)

    def advance(self, dt: float) -> None:
        """Move toward the commanded focus for ``dt`` seconds at up to ``max_speed``."""
        if self._target is None or dt <= 0:
            return
        step = self.max_speed * dt
        delta = self._target - self._position
        self._position += max(-step, min(step, delta))

    def _clamp(self, value: float) -> float:
        lo, hi = self.limits
        return min(hi, max(lo, value))
