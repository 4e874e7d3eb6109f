"""The safety layer between the focus engine and any driver.

The engine speaks dioptres; :class:`GuardedDriver` turns each command into
the driver's native units through the lens map and then, whatever the
engine asked for:

- clamps it inside the **soft limits** (never past a lens's hard stops);
- limits the **slew**: a command never moves further from the previous one
  than ``max_speed`` times the time between them, so a bad estimate cannot
  whip a motor across the barrel;
- runs a **watchdog**: a driver call that raises or takes longer than
  ``timeout_s`` latches a fault; from then on commands are ignored and the
  director falls back to suggest mode (it reads :attr:`GuardedDriver.fault`);
- latches an **emergency stop** (:meth:`emergency_stop`) until the operator
  re-engages drive mode with :meth:`resume`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assistant.drivers.base import Capabilities, FocusDriver
from assistant.drivers.lensmap import LensMap
from assistant.errors import DriverFault

DEFAULT_DIOPTRE_LIMITS = (0.0, 10.0)
"""Infinity to 10 cm, for a dioptre driver that does not state its limits."""


@dataclass(frozen=True)
class SafetyLimits:
    """Native soft limits, native slew limit (units/s) and the call watchdog."""

    soft_limits: tuple[float, float]
    max_speed: float = math.inf
    timeout_s: float = 0.5

    def __post_init__(self) -> None:
        lo, hi = self.soft_limits
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"soft limits must be two finite numbers, min < max; got {self.soft_limits}")
        if not self.max_speed > 0:
            raise ValueError(f"slew limit must be > 0 units per second, got {self.max_speed}")
        if not self.timeout_s > 0:
            raise ValueError(f"driver timeout must be > 0 s, got {self.timeout_s}")


class GuardedDriver:
    """A driver in dioptres with soft limits, a slew limit, a watchdog and an emergency stop.

    It follows the DESIGN.md driver contract itself (``units == "dioptres"``,
    ``limits``, ``max_speed``), so the focus director drives it like any
    dioptre driver. ``clock`` is the time base for the slew limit: the wall
    clock for hardware, media time for the virtual rig.
    """

    units = "dioptres"

    def __init__(self, driver: FocusDriver, lens_map: LensMap | None, safety: SafetyLimits,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.driver = driver
        self.lens_map = lens_map
        self.safety = safety
        self.clock = clock
        self.fault: str | None = None
        self.stopped = False
        self._warnings: list[str] = []
        lo, hi = safety.soft_limits
        ends = sorted((self._to_dioptres(lo), self._to_dioptres(hi)))
        self.limits = (ends[0], ends[1])
        self.max_speed = (safety.max_speed if lens_map is None else lens_map.dioptre_speed(safety.max_speed))
        self._last: tuple[float, float] | None = None  # (time, native) of the last command sent
        self._take_position()

    @property
    def description(self) -> str:
        return getattr(self.driver, "description", type(self.driver).__name__)

    @property
    def warnings(self) -> list[str]:
        """One-line warnings: the guard's own, then the driver's (firmware ignoring commands, a guessed range)."""
        return self._warnings + list(getattr(self.driver, "warnings", ()))

    # ------------------------------------------------------------------ contract
    def move_to(self, dioptres: float) -> None:
        """Command a focus in dioptres; ignored while stopped or faulted."""
        if self.fault or self.stopped:
            return
        if not math.isfinite(dioptres):
            raise ValueError(f"focus command must be a finite number of dioptres, got {dioptres}")
        native = self.safe_native(self._to_native(dioptres))
        self._call("move_to", self.driver.move_to, native)
        self._last = (self.clock(), native)

    def position(self) -> float | None:
        """Where the lens focuses now, in dioptres (the last command when the driver cannot say)."""
        native = None if self.fault else self._call("position", self.driver.position)
        if native is None and self._last is not None:
            native = self._last[1]
        return None if native is None else self._to_dioptres(native)

    def safe_native(self, native: float) -> float:
        """``native`` inside the soft limits and within the slew allowed since the last command.

        A motor found outside the soft limits (parked on a hard stop at power-up)
        is never sent further out, and comes back in at the slew rate rather
        than jumping: the limits stretch to where it is until it is inside.
        """
        lo, hi = self.safety.soft_limits
        if self._last is not None:
            then, previous = self._last
            lo, hi = min(lo, previous), max(hi, previous)
            if math.isfinite(self.safety.max_speed):
                reach = self.safety.max_speed * max(0.0, self.clock() - then)
                native = min(previous + reach, max(previous - reach, native))
        return min(hi, max(lo, native))

    # ------------------------------------------------------------------ operator
    def emergency_stop(self) -> None:
        """Stop the motor now and ignore commands until :meth:`resume`."""
        self.stopped = True
        self._call("stop", self.driver.stop)

    def resume(self) -> bool:
        """Re-engage after an emergency stop; False while a fault is latched."""
        if self.fault:
            return False
        self.stopped = False
        self._take_position()
        return self.fault is None

    def close(self) -> None:
        """Stop and release the driver (best effort: closing must not raise on a dead device)."""
        for action in (self.driver.stop, self.driver.close):
            try:
                action()
            except Exception:  # noqa: BLE001 - the device may be gone; closing goes on
                pass

    def _take_position(self) -> None:
        """Start the slew limit from where the motor is (see :meth:`safe_native` for a motor outside)."""
        here = self._call("position", self.driver.position)
        if here is None:
            return  # cannot tell: the first command is limited by the soft limits only
        lo, hi = self.safety.soft_limits
        if not lo <= here <= hi:
            self._warnings.append(f"{self.description}: the motor is at {here:g}, outside the soft limits "
                                  f"{lo:g}..{hi:g}; it is brought inside at the slew rate")
        self._last = (self.clock(), here)

    # ------------------------------------------------------------------ watchdog
    def _call(self, what: str, action: Callable[..., Any], *args: float) -> Any:
        if self.fault:
            return None
        started = time.monotonic()
        try:
            result = action(*args)
        except DriverFault as exc:
            self._trip(f"{self.description}: {exc}")
            return None
        except Exception as exc:  # noqa: BLE001 - a plugin's bug must not crash the run; it is a fault
            self._trip(f"{self.description}: {what} failed: {type(exc).__name__}: {exc}")
            return None
        took = time.monotonic() - started
        if isinstance(result, float) and not math.isfinite(result):
            self._trip(f"{self.description}: {what} returned {result}; the driver reports nonsense")
            return None
        if took > self.safety.timeout_s:
            self._trip(f"{self.description}: {what} took {took * 1000:.0f} ms (limit {self.safety.timeout_s * 1000:.0f} ms)")
        return result

    def _trip(self, message: str) -> None:
        self.fault = message
        try:
            self.driver.stop()
        except Exception:  # noqa: BLE001 - already faulted; stopping is best effort
            pass

    # ------------------------------------------------------------------ units
    def _to_native(self, dioptres: float) -> float:
        return dioptres if self.lens_map is None else self.lens_map.to_native(dioptres)

    def _to_dioptres(self, native: float) -> float:
        return native if self.lens_map is None else self.lens_map.to_dioptres(native)


class DuckDriver:
    """Adapts a duck-typed driver object (DESIGN.md plugin contract) to :class:`FocusDriver`."""

    def __init__(self, obj: Any, description: str, fallback_limits: tuple[float, ...] | None = None) -> None:
        if not callable(getattr(obj, "move_to", None)) or not callable(getattr(obj, "position", None)):
            raise ValueError(f"{description}: a driver needs move_to(value) and position() methods")
        self.obj = obj
        self.description = description
        units = str(getattr(obj, "units", "native"))
        limits = getattr(obj, "limits", None) or fallback_limits
        if limits is None and units == "dioptres":
            limits = DEFAULT_DIOPTRE_LIMITS
        if limits is None:
            raise ValueError(f"{description}: a driver in {units!r} units needs a 'limits' (min, max) attribute "
                             "or a lens file with soft_limits (--lens FILE)")
        speed = getattr(obj, "max_speed", None)
        try:
            self.capabilities = Capabilities(units, (float(limits[0]), float(limits[1])),
                                             max_speed=math.inf if speed is None else float(speed),
                                             reports_position=True)
        except (TypeError, ValueError, IndexError) as exc:
            raise ValueError(f"{description}: {exc}") from exc

    def move_to(self, native: float) -> None:
        self.obj.move_to(float(native))

    def position(self) -> float | None:
        value = self.obj.position()
        return None if value is None else float(value)

    def stop(self) -> None:
        stop = getattr(self.obj, "stop", None)
        if callable(stop):
            stop()
        else:  # hold where it is: the contract has no stop, so command the current position
            here = self.position()
            if here is not None:
                self.obj.move_to(here)

    def close(self) -> None:
        close = getattr(self.obj, "close", None)
        if callable(close):
            close()
