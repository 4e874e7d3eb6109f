"""The focus guide's vocabulary: modes, what it says about the target, and rack requests.

Shared by the director (which produces guidance and plays racks), the cue
sheet (which writes rack requests) and whatever presents the guidance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from assistant.targeting import RACK_TARGETS

Mode = Literal["suggest", "drive"]
MODES: tuple[str, ...] = get_args(Mode)
Direction = Literal["nearer", "farther", "hold", "lost", "none", "rack", "paused", "search"]
"""What the guide says about the target: turn nearer/farther; hold (sharp); lost; none (no target yet);
rack (a rack under way); paused (drive paused by a manual nudge); search (drive sweeping the lens)."""
DIRECTIONS: tuple[str, ...] = get_args(Direction)


@dataclass(frozen=True)
class Guidance:
    """The focus guide's advice for one frame."""

    mode: Mode
    target_id: int | None = None
    target_label: str = ""
    direction: Direction = "none"
    delta_m: float | None = None
    delta_dpt: float | None = None

    def text(self) -> str:
        who = self.target_label or (f"#{self.target_id}" if self.target_id is not None else "")
        if self.direction == "none":
            return f"{self.mode}: no target"
        if self.direction == "lost":
            return f"{self.mode}: target {who} lost" if who else f"{self.mode}: target lost"
        if self.direction == "search":
            return f"{self.mode}: searching focus for a subject"
        if self.direction == "paused":
            return f"{self.mode} PAUSED: manual focus (e re-engages)"
        if self.direction in ("hold", "rack"):
            return f"{self.mode}: {who} {'sharp' if self.direction == 'hold' else 'racking'}"
        assert self.delta_m is not None and self.delta_dpt is not None
        return f"{self.mode}: {who} turn {self.direction} {abs(self.delta_m):.2f} m ({abs(self.delta_dpt):.2f} dpt)"


@dataclass(frozen=True)
class RackRequest:
    """Where a rack goes and how: to a labelled subject, a side of frame, or a fixed distance.

    ``to`` is a label A-D, ``left``/``right`` (the subject there when the
    rack starts), or None with ``distance_m`` (a plane without a
    face). ``duration_s``/``curve`` of None take the ``[suggest]`` defaults.
    """

    to: str | None = None
    distance_m: float | None = None
    duration_s: float | None = None
    curve: str | None = None

    def __post_init__(self) -> None:
        if (self.to is None) == (self.distance_m is None):
            raise ValueError("a rack goes to a subject (A-D, left, right) or a distance_m, not both or neither")
        if self.to is not None and self.to not in RACK_TARGETS:
            raise ValueError(f"racks go to a labelled subject A-D or left/right, got {self.to!r}")
        if self.distance_m is not None and not self.distance_m > 0:
            raise ValueError(f"a rack's distance_m must be > 0, got {self.distance_m}")

    def describe(self) -> str:
        return self.to if self.to is not None else f"{self.distance_m:g} m"
