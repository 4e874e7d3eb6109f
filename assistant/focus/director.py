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

Who the target is comes from :mod:`assistant.targeting` (the operator's
choice, else the largest face once the whole frame has been searched; it then
sticks to that subject's ID). Until there is a target, nothing is advised,
driven or announced: a start with nobody found is silent, not "lost".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.focus.controller import TrackingController
from assistant.focus.guidance import MODES, Guidance, RackRequest
from assistant.focus.moves import RackMove
from assistant.focus.search import region_contrast
from assistant.focus.settings import DriveConfig, SuggestConfig
from assistant.targeting import Targeting, rack_subject
from assistant.types import Box, Event, SharpnessMap, Subject
from assistant.units import to_dioptres, to_metres
from assistant.vision.ranging import Range

class LensDriver(Protocol):
    """The part of the driver contract drive mode needs (in dioptres).

    A :class:`~assistant.drivers.guard.GuardedDriver` also has ``fault``
    (a latched failure), ``emergency_stop()`` and ``resume()``; the director
    uses them when present.
    """

    def move_to(self, value: float) -> None: ...

    def position(self) -> float | None: ...


NUDGE_DPT = 0.05
"""One follow-focus nudge (, or .): about a depth of field at f/2 on the rig's lens."""


SEARCH_AFTER_S = 0.3
"""Drive mode searches the lens range only once nobody has been in sight this long (a discovery sweep)."""

SEARCH_BOX_SHARE = 0.4
"""A search climbs the contrast of the middle of the target's box (this share of its size): the detector's box
on a blurred face is the face widened by the blur, and its rim is background with a focus plane of its own."""

SETTLED_S = 0.5
"""A driven follow counts as finished after this long without a command change (the
controller moves in steps, holding between them, so a walk is one follow, not many)."""


@dataclass(frozen=True)
class _RackInFlight:
    """A rack drive mode is playing: the move, who it goes from and to, and the frame it started on."""

    move: RackMove
    from_id: int | None
    to_id: int | None
    first_frame: int


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
        if mode == "drive" and driver is None:
            raise ValueError("drive mode needs a focus driver: use --source sim (the rig's lens) or a --driver")
        self.mode = mode
        self.targeting = Targeting(target)
        self.suggest = suggest
        self.driver = driver
        self.drive_config = drive
        self.limits_dpt = limits_dpt
        self.controller = TrackingController(drive, limits_dpt) if mode == "drive" else None
        self.paused = False  # manual input took over; "e" re-engages
        self._faulted = False
        self._operator_events: list[Event] = []
        self._t, self._frame = 0.0, 0
        self._off_frames = 0
        self._advised = False
        self._sharp_distance: float | None = None
        self._rack: _RackInFlight | None = None
        self._driven: _DrivenMove | None = None
        self._previous: tuple[float, int, float] | None = None  # last (t, frame, command)
        self._pending_rack: RackRequest | None = None
        self._scheduled: list[tuple[float, RackRequest]] = []
        self._someone_seen_at: float | None = None
        self._nobody = False  # nobody in sight for SEARCH_AFTER_S
        self._sharpness: SharpnessMap | None = None
        self._people: tuple[Box, ...] = ()
        self._search_box: Box | None = None  # the target's region, frozen while a search climbs its contrast
        self._searching = False

    # ------------------------------------------------------------------ operator
    def request_rack(self, label: str | RackRequest) -> None:
        """Rack on the next frame: to the subject labelled ``label`` ("rack to B"), or as requested."""
        self._pending_rack = label if isinstance(label, RackRequest) else RackRequest(label)

    @property
    def target_id(self) -> int | None:
        return self.targeting.target_id

    def select(self, subject_id: int) -> None:
        """Make ``subject_id`` the target; it stays the target until it is gone."""
        self.targeting.select(subject_id)
        self._new_target()

    def operator_racked(self, event: Event) -> bool:
        """An observed rack in suggest mode: the operator chose its destination, so the guide follows it
        instead of nagging them back. True when the target changed (the ticker says so)."""
        if (self.mode != "suggest" or not self.suggest.follow_racks or event.type != "rack"
                or event.origin != "observed" or event.to_id is None or event.to_id == self.target_id):
            return False
        self.select(event.to_id)
        return True

    def _new_target(self) -> None:
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

    def cut(self) -> None:
        """A cut to another shot: a rack or follow under way is dropped, and the target is chosen again
        (``largest``/``nearest`` once the new picture has been searched; a label when it is given again)."""
        self._forget_moves()
        self.targeting.forget()
        if self.controller is not None:
            self.controller = TrackingController(self.drive_config, self.limits_dpt)

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

    def step(self, t: float, frame: int, subjects: Sequence[Subject], focus_dpt: float | None,
             searched_all: bool = True, sharpness: SharpnessMap | None = None,
             people: Sequence[Box] = ()) -> tuple[Guidance, list[Event]]:
        """This frame's guidance, and the suggested or driven events it completed.

        ``searched_all``: the whole frame has been searched for faces since the
        start (or the last cut); until then ``largest``/``nearest`` wait.
        ``sharpness`` (this frame's map) and ``people`` (person boxes) give
        drive mode the contrast to climb when its target cannot be ranged.
        """
        self._t, self._frame = t, frame
        in_sight = any(not s.coasting for s in subjects)
        if in_sight or self._someone_seen_at is None:
            self._someone_seen_at = t  # the first frame starts the wait too
        self._nobody = not in_sight and t - self._someone_seen_at >= SEARCH_AFTER_S
        self._sharpness, self._people = sharpness, tuple(people)
        events, self._operator_events = self._operator_events, []
        while self._scheduled and self._scheduled[0][0] <= t + 1e-9:
            self._pending_rack = self._scheduled.pop(0)[1]
        if self._pending_rack is not None:
            events += self._start_rack(t, frame, subjects, focus_dpt, self._pending_rack)
            self._pending_rack = None
        target = self.targeting.update(subjects, searched_all)
        if self.targeting.changed:
            self._new_target()
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
        if to is not None and to.label:
            self.targeting.follow_label(to.label, to.id)
        else:
            self.targeting.select(to.id if to is not None else None)
        self._new_target()
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
        self._rack = _RackInFlight(move, origin_id, to_id, frame)
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
        estimate = target_range(target) if target is not None and not target.coasting else None
        contrast = self._search_contrast(target)
        in_focus = target.in_focus if target is not None and not target.coasting else None
        command = self.controller.step(t, estimate, lens, target.sharpness if target else None, contrast, in_focus)
        self._searching = command.kind == "search"
        self.driver.move_to(command.target_dpt)
        events = self._log_driven(t, frame, command.kind, command.target_dpt, target)
        label = target.label if target else ""
        if command.kind in ("rack", "search"):
            return Guidance(self.mode, self.target_id, label, command.kind), events
        if target is None:
            return Guidance(self.mode, self.target_id, label, "lost" if self.targeting.found else "none"), events
        return Guidance(self.mode, target.id, label, "hold"), events

    def _search_contrast(self, target: Subject | None) -> float | None:
        """The contrast a search would climb: the target's region (held still while a search runs, as the
        detector's box on a blurred face keeps changing), or where people are while nobody is in sight."""
        if self._sharpness is None:
            return None
        if self._searching and self._search_box is not None:
            return region_contrast(self._sharpness, [self._search_box])
        if target is not None and not target.coasting:
            self._search_box = scaled_about_centre(target.box, SEARCH_BOX_SHARE)
            return region_contrast(self._sharpness, [self._search_box])
        return region_contrast(self._sharpness, self._people) if self._nobody else None

    def _log_driven(self, t: float, frame: int, kind: str, command: float, target: Subject | None) -> list[Event]:
        """Turn the command stream into driven events: a rack when it lands, a pull when a follow settles."""
        events: list[Event] = []
        if self._rack is not None and kind != "rack":
            rack, self._rack = self._rack, None
            events.append(Event("rack", rack.move.start_t, t, rack.first_frame, frame, "driven",
                                target_box=target.box if target else None, from_id=rack.from_id, to_id=rack.to_id,
                                distance_from_m=to_metres(rack.move.start_dpt),
                                distance_to_m=to_metres(rack.move.end_dpt)))
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


def scaled_about_centre(box: Box, factor: float) -> Box:
    """``box`` scaled by ``factor`` about its centre."""
    x, y, w, h = box
    gw, gh = round(w * factor), round(h * factor)
    return (round(x + (w - gw) / 2), round(y + (h - gh) / 2), gw, gh)


def target_range(subject: Subject) -> Range | None:
    """The subject's filtered range as the controller takes it, or None without a distance."""
    if subject.distance_m is None:
        return None
    sigma = subject.distance_sigma_m if subject.distance_sigma_m is not None else 0.05 * subject.distance_m
    return Range(subject.distance_m, sigma, subject.distance_speed_m_s or 0.0, subject.distance_moving,
                 subject.distance_jumped)


def _confidence(subject: Subject) -> float:
    """How sure the advice is: from the distance estimate's relative uncertainty."""
    if subject.distance_m is None or subject.distance_sigma_m is None:
        return 0.5
    return float(max(0.05, min(0.99, 1.0 - 2.0 * subject.distance_sigma_m / subject.distance_m)))
