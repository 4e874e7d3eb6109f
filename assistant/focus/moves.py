"""What drive mode sends the lens: one frame's focus command, and eased rack moves.

A :class:`FocusCommand` says where focus goes on this frame and why (its
``kind``); a :class:`RackMove` is a scheduled move between two focus distances
along an easing curve, which the controller plays frame by frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from assistant.easing import EASINGS, ease
from assistant.units import to_dioptres, to_metres

CommandKind = Literal["hold", "track", "rack", "probe", "safe", "search"]
"""Why focus goes where it goes: held, following the target, racking, probing contrast, parked safe, searching."""
KINDS: tuple[str, ...] = get_args(CommandKind)


@dataclass(frozen=True)
class FocusCommand:
    """One frame's focus command for the lens driver, and why.

    ``subject_dpt`` is where the controller believes the subject is (with any
    contrast-refined bias applied), or None while it has no target.
    """

    t: float
    target_dpt: float
    kind: CommandKind
    subject_dpt: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.t):
            raise ValueError(f"a focus command needs a finite time, got {self.t}")
        if not math.isfinite(self.target_dpt) or self.target_dpt < 0:
            raise ValueError(f"a focus command must be a finite number of dioptres >= 0, got {self.target_dpt}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown focus command kind {self.kind!r}; expected one of: {', '.join(KINDS)}")
        if self.subject_dpt is not None and not math.isfinite(self.subject_dpt):
            raise ValueError(f"subject_dpt must be finite or None, got {self.subject_dpt}")

    @property
    def target_m(self) -> float:
        return to_metres(self.target_dpt)


def _peak_slope(curve: str) -> float:
    """Largest slope of an easing curve over progress 0..1 (1 for linear)."""
    n = 1000
    return max((ease(curve, (i + 1) / n) - ease(curve, i / n)) * n for i in range(n))


@dataclass(frozen=True)
class RackMove:
    """An eased, scheduled move from ``start_dpt`` to ``end_dpt`` over ``duration_s``.

    Focus moves evenly in dioptres along the easing curve, so the picture
    changes at the pace the curve promises at any distance.
    """

    start_dpt: float
    end_dpt: float
    start_t: float
    duration_s: float
    curve: str = "s-curve"

    def __post_init__(self) -> None:
        for name in ("start_dpt", "end_dpt"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of dioptres >= 0, got {value}")
        if not math.isfinite(self.start_t):
            raise ValueError(f"start_t must be a finite time in seconds, got {self.start_t}")
        if not math.isfinite(self.duration_s) or self.duration_s <= 0:
            raise ValueError(f"a rack's duration_s must be > 0 seconds, got {self.duration_s}")
        if self.curve not in EASINGS:
            raise ValueError(f"unknown easing {self.curve!r}; expected one of: {', '.join(EASINGS)}")

    @classmethod
    def between(cls, start_m: float, end_m: float, start_t: float, duration_s: float, curve: str = "s-curve") -> "RackMove":
        """A rack between two distances in metres (``math.inf`` for infinity)."""
        for name, value in (("start_m", start_m), ("end_m", end_m)):
            if not value > 0:
                raise ValueError(f"{name} must be a distance > 0 metres, got {value}")
        return cls(to_dioptres(start_m), to_dioptres(end_m), start_t, duration_s, curve)

    @property
    def end_t(self) -> float:
        return self.start_t + self.duration_s

    @property
    def peak_speed_dpt_s(self) -> float:
        """The fastest focus speed the rack asks for; a slower lens falls behind schedule."""
        return abs(self.end_dpt - self.start_dpt) / self.duration_s * _peak_slope(self.curve)

    def position(self, t: float) -> float:
        """Scheduled focus in dioptres at ``t`` (start before, end after the rack)."""
        p = ease(self.curve, (t - self.start_t) / self.duration_s)
        return self.start_dpt + (self.end_dpt - self.start_dpt) * p

    def done(self, t: float) -> bool:
        return t >= self.end_t
