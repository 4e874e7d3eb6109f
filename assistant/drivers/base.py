"""The focus driver protocol every hardware adapter implements.

A driver moves one focus motor in its *native* units (webcam focus steps,
motor steps, an OSC value, or dioptres for the virtual rig). It knows nothing
about subjects or lenses: :mod:`assistant.drivers.lensmap` converts the
engine's dioptres to native units, and :mod:`assistant.drivers.guard` enforces
the soft limits, the slew limit and the watchdog on top of any driver.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Capabilities:
    """What a driver can do, read from the device where it can tell.

    ``limits`` are the native (min, max) the hardware accepts; ``resolution``
    is the smallest native step it honours (0 for continuous);
    ``max_speed`` is native units per second (``math.inf`` when the device
    moves as fast as it is told); ``reports_position`` says whether
    :meth:`FocusDriver.position` reads the device back or only echoes the
    last command.
    """

    units: str
    limits: tuple[float, float]
    resolution: float = 0.0
    max_speed: float = math.inf
    reports_position: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.limits
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"driver limits must be two finite numbers, min < max; got {self.limits}")
        if self.resolution < 0 or not math.isfinite(self.resolution):
            raise ValueError(f"driver resolution must be >= 0, got {self.resolution}")
        if not self.max_speed > 0:
            raise ValueError(f"driver max_speed must be > 0, got {self.max_speed}")

    def clamp(self, value: float) -> float:
        """``value`` inside the native limits."""
        lo, hi = self.limits
        return min(hi, max(lo, value))


@runtime_checkable
class FocusDriver(Protocol):
    """One focus motor in native units.

    ``move_to`` starts a move and returns without waiting for it to finish;
    ``position`` is the device's position (``None`` when it cannot say);
    ``stop`` halts the motor where it is; ``close`` stops and releases the
    device. Failures raise :class:`assistant.errors.DriverFault` with a
    message saying what to check.
    """

    capabilities: Capabilities

    def move_to(self, native: float) -> None: ...

    def position(self) -> float | None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...
