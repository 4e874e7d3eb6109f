"""Suggest and drive: what to do about focus for the operator's target.

- *suggest* (the live default): a focus guide. It names which way to turn
  (nearer or farther) and by how much, in metres and dioptres: from the lens
  focus when it is known (the rig, a driver), else from how far the target
  has moved since it was last sharp. Each new piece of guidance, and each rack
  the operator asks for, is logged as an event with origin ``suggested``.
- *drive*: the :class:`~assistant.focus.controller.TrackingController` follows
  the target's distance and commands the lens; each completed driven move is
  logged with origin ``driven`` and labelled ``pull`` (following one subject)
  or ``rack`` (a move to another subject on request).

The target is the operator's choice (a label A-D, or left, right, largest,
nearest), else the largest face; once chosen it stays on that subject's ID
until that subject is gone, so it never jumps to a passer-by.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from assistant.focus.controller import DriveConfig, RackMove, TrackingController
from assistant.schema import limits
from assistant.types import Event, Subject
from assistant.units import to_dioptres, to_metres
from assistant.vision.depth import DistanceEstimate

MODES = ("suggest", "drive")
TARGET_RULES = ("A", "B", "C", "D", "left", "right", "largest", "nearest")


@dataclass(frozen=True)
class SuggestConfig:
    """How the focus guide judges 'in focus' (``[suggest]`` in the config)."""

    tolerance_dpt: float = field(default=0.04, metadata=limits(lo=0.001, hi=1.0))
    confirm_frames: int = field(default=3, metadata=limits(lo=1, hi=60))
    rack_duration_s: float = field(default=1.0, metadata=limits(lo=0.05, hi=30.0))
    rack_curve: str = field(default="s-curve", metadata=limits(choices=("linear", "s-curve", "ease-in", "ease-out")))


@dataclass(frozen=True)
class Guidance:
    """The focus guide's advice for one frame."""

    mode: str
    target_id: int | None = None
    target_label: str = ""
    direction: str = "none"  # nearer | farther | hold | lost | none | rack | paused
    delta_m: float | None = None
    delta_dpt: float | None = None

    def text(self) -> str:
        who = self.target_label or (f"#{self.target_id}" if self.target_id is not None else "")
        if self.direction == "none":
            return f"{self.mode}: no target"
        if self.direction == "lost":
            return f"{self.mode}: target {who} lost"
        if self.direction == "paused":
            return f"{self.mode} PAUSED: manual focus (e re-engages)"
        if self.direction in ("hold", "rack"):
            return f"{self.mode}: {who} {'sharp' if self.direction == 'hold' else 'racking'}"
        assert self.delta_m is not None and self.delta_dpt is not None
        return f"{self.mode}: {who} turn {self.direction} {abs(self.delta_m):.2f} m ({abs(self.delta_dpt):.2f} dpt)"


class LensDriver(Protocol):
    """The part of the driver contract drive mode needs (in dioptres).

    A :class:`~assistant.drivers.guard.GuardedDriver` also has ``fault``
    (a latched failure), ``emergency_stop()`` and ``resume()``; the director
    uses them when present.
    """

    def move_to(self, value: float) -> None: ...

    def position(self) -> float | None: ...


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


RACK_TARGETS = ("A", "B", "C", "D", "left", "right")

NUDGE_DPT = 0.05
"""One follow-focus nudge (, or .): about a depth of field at f/2 on the rig's lens."""


SETTLED_S = 0.5
"""A driven follow counts as finished after this long without a command change (the
controller moves in steps, holding between them, so a walk is one follow, not many)."""


@dataclass
class _DrivenMove:
    """A driven follow in progress: where it started and the latest command."""

    start_t: float
    start_frame: int
    start_dpt: float
    last_t: float
    last_frame: int
    last_dpt: float


class FocusDirector:
    """Per frame: choose the target, then advise (suggest) or command the lens (drive)."""

    def __init__(self, mode: str = "suggest", target: str = "largest", suggest: SuggestConfig = SuggestConfig(),
                 drive: DriveConfig = DriveConfig(), driver: LensDriver | None = None,
                 limits_dpt: tuple[float, float] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected suggest or drive")
        if target not in TARGET_RULES:
            raise ValueError(f"unknown target {target!r}; expected one of: {', '.join(TARGET_RULES)}")
        if mode == "drive" and driver is None:
            raise ValueError("drive mode needs a focus driver: use --source sim (the rig's lens) or a --driver")
        self.mode = mode
        self.rule = target
        self.suggest = suggest
        self.driver = driver
        self.drive_config = drive
        self.limits_dpt = limits_dpt
        self.controller = TrackingController(drive, limits_dpt) if mode == "drive" else None
        self.paused = False  # manual input took over; "e" re-engages
        self._faulted = False
        self._operator_events: list[Event] = []
        self._t, self._frame = 0.0, 0
        self.target_id: int | None = None
        self._off_frames = 0
        self._advised = False
        self._sharp_distance: float | None = None
        self._rack: tuple[RackMove, int | None, int | None, int] | None = None  # move, from, to, first frame
        self._driven: _DrivenMove | None = None
        self._previous: tuple[float, int, float] | None = None  # last (t, frame, command)
        self._pending_rack: RackRequest | None = None
        self._scheduled: list[tuple[float, RackRequest]] = []

    # ------------------------------------------------------------------ operator
    def request_rack(self, label: str | RackRequest) -> None:
        """Rack on the next frame: to the subject labelled ``label`` ("rack to B"), or as requested."""
        self._pending_rack = label if isinstance(label, RackRequest) else RackRequest(label)

    def select(self, subject_id: int) -> None:
        """Make ``subject_id`` the target; it stays the target until it is gone."""
        self.rule = "manual"
        self.target_id = subject_id
        self._advised = False
        self._sharp_distance = None

    def set_mode(self, mode: str, why: str = "operator") -> bool:
        """Switch suggest/drive (re-engaging automation); False when drive is impossible now."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected suggest or drive")
        if mode == "drive":
            resume = getattr(self.driver, "resume", None)
            if self.driver is None or getattr(self.driver, "fault", None) or (resume is not None and not resume()):
                return False
            if self.mode != "drive" or self.paused:
                self.controller = TrackingController(self.drive_config, self.limits_dpt)
                self._forget_moves()
        else:
            self.controller = None
            self._forget_moves()
        changed = mode != self.mode or self.paused
        self.mode, self.paused = mode, False
        if changed:
            self._note_mode(f"{mode} ({why})")
        return True

    def toggle_mode(self) -> bool:
        """``e``: suggest <-> drive; a paused drive re-engages instead of switching off."""
        return self.set_mode("drive" if self.mode == "suggest" or self.paused else "suggest")

    def emergency_stop(self) -> None:
        """Stop the motor now and drop to suggest mode until the operator re-engages."""
        stop = getattr(self.driver, "emergency_stop", None)
        if stop is not None:
            stop()
        self.controller = None
        self._forget_moves()
        was = self.mode
        self.mode, self.paused = "suggest", False
        self._note_mode(f"emergency stop (was {was})")

    def nudge(self, direction: str) -> bool:
        """Follow focus by hand: one step nearer or farther; pauses drive until re-engaged.

        False when there is nothing to move (no driver, stopped, faulted, position unknown).
        """
        if direction not in ("nearer", "farther"):
            raise ValueError(f"nudge direction must be nearer or farther, got {direction!r}")
        if self.driver is None or getattr(self.driver, "stopped", False) or getattr(self.driver, "fault", None):
            return False
        here = self.driver.position()
        if here is None:
            return False
        if self.mode == "drive" and not self.paused:
            self.paused = True
            self._forget_moves()
            self._note_mode("drive paused (manual focus; e re-engages)")
        step = NUDGE_DPT if direction == "nearer" else -NUDGE_DPT
        self.driver.move_to(here + step)
        return True

    def _forget_moves(self) -> None:
        """Drop a rack or follow in progress: it was interrupted, so it is never logged as landed."""
        self._rack = None
        self._driven = None
        self._previous = None

    def _note_mode(self, detail: str) -> None:
        self._operator_events.append(Event("mode", self._t, self._t, self._frame, self._frame, "operator",
                                           detail=detail))

    # ------------------------------------------------------------------ the verb
    def schedule_rack(self, label: str | RackRequest, at_t: float) -> None:
        """Rack when media time reaches ``at_t`` (``--rack B@3.0``, a cue sheet)."""
        request = label if isinstance(label, RackRequest) else RackRequest(label)
        self._scheduled.append((at_t, request))
        self._scheduled.sort(key=lambda item: item[0])

    def step(self, t: float, frame: int, subjects: Sequence[Subject],
             focus_dpt: float | None) -> tuple[Guidance, list[Event]]:
        """This frame's guidance, and the suggested or driven events it completed."""
        self._t, self._frame = t, frame
        events, self._operator_events = self._operator_events, []
        while self._scheduled and self._scheduled[0][0] <= t + 1e-9:
            self._pending_rack = self._scheduled.pop(0)[1]
        if self._pending_rack is not None:
            events += self._start_rack(t, frame, subjects, focus_dpt, self._pending_rack)
            self._pending_rack = None
        target = self._choose_target(subjects)
        if self.mode == "drive" and self.paused:
            guidance, more = Guidance(self.mode, self.target_id, target.label if target else "", "paused"), []
        elif self.mode == "drive":
            guidance, more = self._drive(t, frame, target, focus_dpt)
        else:
            guidance, more = self._advise(t, frame, target, focus_dpt)
        return guidance, events + more + self._check_driver(t, frame)

    def _check_driver(self, t: float, frame: int) -> list[Event]:
        """A tripped watchdog (this frame's read or command) hands focus back to the operator at once."""
        fault = getattr(self.driver, "fault", None)
        if not fault or self._faulted:
            return []
        self._faulted = True
        self.mode, self.paused, self.controller = "suggest", False, None
        self._forget_moves()
        return [Event("fault", t, t, frame, frame, "driven", detail=fault)]

    # ------------------------------------------------------------------ target
    def _choose_target(self, subjects: Sequence[Subject]) -> Subject | None:
        live = {s.id: s for s in subjects}
        if self.rule in ("A", "B", "C", "D"):
            labelled = next((s for s in subjects if s.label == self.rule), None)
            if labelled is not None:
                self.target_id = labelled.id
        if self.target_id in live:
            return live[self.target_id]
        seen = [s for s in subjects if not s.coasting]
        if not seen or self.rule in ("A", "B", "C", "D", "manual"):
            return None
        if self.rule == "left":
            choice = min(seen, key=lambda s: s.box[0])
        elif self.rule == "right":
            choice = max(seen, key=lambda s: s.box[0] + s.box[2])
        elif self.rule == "nearest":
            choice = min(seen, key=lambda s: s.distance_m if s.distance_m else math.inf)
        else:
            choice = max(seen, key=lambda s: s.box[2] * s.box[3])
        self.target_id = choice.id
        self._advised = False
        self._sharp_distance = None
        return choice

    # ------------------------------------------------------------------ suggest
    def _advise(self, t: float, frame: int, target: Subject | None,
                focus_dpt: float | None) -> tuple[Guidance, list[Event]]:
        if target is None:
            return Guidance(self.mode, self.target_id, "", "lost" if self.target_id else "none"), []
        if target.distance_m is None:
            return Guidance(self.mode, target.id, target.label, "hold"), []
        if target.in_focus:
            self._sharp_distance = target.distance_m
        if focus_dpt is not None:
            error = to_dioptres(target.distance_m) - focus_dpt
            delta_m = target.distance_m - to_metres(focus_dpt)
        elif self._sharp_distance is not None and target.in_focus is False:
            error = to_dioptres(target.distance_m) - to_dioptres(self._sharp_distance)
            delta_m = target.distance_m - self._sharp_distance
        else:
            error, delta_m = 0.0, 0.0
        off = abs(error) > self.suggest.tolerance_dpt
        self._off_frames = self._off_frames + 1 if off else 0
        if self._off_frames < self.suggest.confirm_frames:
            self._advised = False if not off else self._advised
            return Guidance(self.mode, target.id, target.label, "hold"), []
        direction = "nearer" if error > 0 else "farther"
        guidance = Guidance(self.mode, target.id, target.label, direction, delta_m, error)
        if self._advised:
            return guidance, []
        self._advised = True
        from_m = to_metres(focus_dpt) if focus_dpt is not None else self._sharp_distance
        event = Event("pull", t, t, frame, frame, "suggested", target_box=target.box, from_id=target.id,
                      to_id=target.id, distance_from_m=from_m, distance_to_m=target.distance_m,
                      confidence=_confidence(target))
        return guidance, [event]

    def _start_rack(self, t: float, frame: int, subjects: Sequence[Subject], focus_dpt: float | None,
                    request: RackRequest) -> list[Event]:
        to = rack_subject(subjects, request.to) if request.to is not None else None
        if request.to is not None and (to is None or to.distance_m is None):
            return []  # nobody there to rack to: the operator sees no rack start
        end_m = to.distance_m if to is not None else request.distance_m
        assert end_m is not None
        origin_id = self.target_id
        start_m = to_metres(focus_dpt) if focus_dpt is not None else next(
            (s.distance_m for s in subjects if s.id == origin_id and s.distance_m), None)
        self.rule = to.label if to is not None and to.label else "manual"
        self.target_id = to.id if to is not None else None
        self._advised = False
        box = to.box if to is not None else None
        to_id = to.id if to is not None else None
        if self.mode == "suggest" or self.paused:
            return [Event("rack", t, t, frame, frame, "suggested", target_box=box, from_id=origin_id,
                          to_id=to_id, distance_from_m=start_m, distance_to_m=end_m,
                          confidence=_confidence(to) if to is not None else 1.0)]
        assert self.controller is not None
        start_dpt = focus_dpt if focus_dpt is not None else to_dioptres(start_m or end_m)
        move = RackMove(start_dpt, to_dioptres(end_m), t, request.duration_s or self.suggest.rack_duration_s,
                        request.curve or self.suggest.rack_curve)
        self.controller.start_rack(move)
        self._rack = (move, origin_id, to_id, frame)
        return []

    # ------------------------------------------------------------------ drive
    def _drive(self, t: float, frame: int, target: Subject | None,
               focus_dpt: float | None) -> tuple[Guidance, list[Event]]:
        assert self.controller is not None and self.driver is not None
        lens = focus_dpt if focus_dpt is not None else self.driver.position()
        if lens is None:  # a driver that cannot tell where it is: start from the target's distance
            if target is not None and target.distance_m is not None:
                self.driver.move_to(to_dioptres(target.distance_m))
            return Guidance(self.mode, self.target_id, target.label if target else "", "none"), []
        estimate = None
        if target is not None and target.distance_m is not None and not target.coasting:
            estimate = DistanceEstimate(target.distance_m, target.distance_sigma_m or 0.05 * target.distance_m)
        command = self.controller.step(t, estimate, lens, target.sharpness if target else None)
        self.driver.move_to(command.target_dpt)
        events = self._log_driven(t, frame, command.kind, command.target_dpt, target)
        label = target.label if target else ""
        if command.kind == "rack":
            return Guidance(self.mode, self.target_id, label, "rack"), events
        if target is None:
            return Guidance(self.mode, self.target_id, label, "lost"), events
        return Guidance(self.mode, target.id, label, "hold"), events

    def _log_driven(self, t: float, frame: int, kind: str, command: float, target: Subject | None) -> list[Event]:
        """Turn the command stream into driven events: a rack when it lands, a pull when a follow settles."""
        events: list[Event] = []
        if self._rack is not None and kind != "rack":
            move, origin_id, to_id, first = self._rack
            self._rack = None
            events.append(Event("rack", move.start_t, t, first, frame, "driven",
                                target_box=target.box if target else None, from_id=origin_id, to_id=to_id,
                                distance_from_m=to_metres(move.start_dpt), distance_to_m=to_metres(move.end_dpt)))
        previous, self._previous = self._previous, (t, frame, command)
        if kind in ("rack", "safe") or previous is None:
            self._driven = None
            return events
        move = self._driven
        if abs(command - previous[2]) > 1e-4:  # the lens is being moved
            if move is None:
                move = self._driven = _DrivenMove(previous[0], previous[1], previous[2], t, frame, command)
            move.last_t, move.last_frame, move.last_dpt = t, frame, command
        elif move is not None:
            if t - move.last_t >= SETTLED_S:  # the follow has settled: log it
                self._driven = None
                if abs(move.last_dpt - move.start_dpt) >= self.suggest.tolerance_dpt:
                    who = target.id if target else None
                    events.append(Event("pull", move.start_t, move.last_t, move.start_frame, move.last_frame,
                                        "driven", target_box=target.box if target else None, from_id=who,
                                        to_id=who, distance_from_m=to_metres(move.start_dpt),
                                        distance_to_m=to_metres(move.last_dpt)))
        return events


def rack_subject(subjects: Sequence[Subject], to: str) -> Subject | None:
    """The subject a rack goes to: by label, or the one seen at that side of frame now."""
    if to in ("A", "B", "C", "D"):
        return next((s for s in subjects if s.label == to), None)
    seen = [s for s in subjects if not s.coasting and s.distance_m is not None]
    if not seen:
        return None
    centre_x = {s.id: s.box[0] + s.box[2] / 2 for s in seen}
    if to == "left":
        return min(seen, key=lambda s: centre_x[s.id])
    return max(seen, key=lambda s: centre_x[s.id])


def _confidence(subject: Subject) -> float:
    """How sure the advice is: from the distance estimate's relative uncertainty."""
    if subject.distance_m is None or subject.distance_sigma_m is None:
        return 0.5
    return float(max(0.05, min(0.99, 1.0 - 2.0 * subject.distance_sigma_m / subject.distance_m)))
