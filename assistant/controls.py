"""The operator's commands (keys, mouse, any front end) applied to the run.

One place carries out each command (``assistant.commands``): view toggles on
the overlay style, mute, target selection, marks, racks, suggest/drive, the
emergency stop and the follow-focus nudges. The pipeline asks it to apply
whatever its sinks return, so a window, a test or a remote panel all drive
the assistant the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from assistant.commands import (VIEW_ELEMENTS, Command, EmergencyStop, Mark, Nudge, Rack, Select, SelectAt,
                                SelectNext, ToggleMode, ToggleMute, ToggleView, UnknownCommand, parse_command)
from assistant.focus.director import FocusDirector
from assistant.types import Subject
from assistant.ui.overlay import OverlayStyle

NO_DIRECTOR = "needs a live run (no focus director in analyze)"


class Labeller(Protocol):
    """The subject stage's operator verb (``SubjectTracker.assign_label``)."""

    def assign_label(self, label: str, subject_id: int) -> None: ...


class OperatorControls:
    """Holds what the operator toggled and routes each command to its stage."""

    def __init__(self, style: OverlayStyle, director: FocusDirector | None = None,
                 labeller: Labeller | None = None) -> None:
        self.style = style
        self.director = director
        self.labeller = labeller
        self.muted = False
        self.last_refusal = ""

    def apply(self, command: Command | str, subjects: tuple[Subject, ...]) -> bool:
        """Carry out ``command`` (or the text naming it) against this frame's ``subjects``; False if it could
        not be done, with the reason in ``last_refusal``."""
        text = str(command)
        try:
            parsed = parse_command(command) if isinstance(command, str) else command
        except ValueError as exc:  # unknown or malformed text (select:x) is refused, never fatal
            if self.director is None:
                return self._refuse(f"{text}: {NO_DIRECTOR}")
            return self._refuse(str(exc) if isinstance(exc, UnknownCommand) else f"{text}: {exc}")
        try:
            return self._apply(parsed, text, subjects)
        except ValueError as exc:  # a mark or direction that does not exist (rack:E, nudge:up)
            return self._refuse(f"{text}: {exc}")

    def _apply(self, command: Command, text: str, subjects: tuple[Subject, ...]) -> bool:
        if isinstance(command, ToggleView) and command.element in VIEW_ELEMENTS:
            name = command.element
            self.style = replace(self.style, **{name: not getattr(self.style, name)})
            return True
        if isinstance(command, ToggleMute):
            self.muted = not self.muted
            return True
        director = self.director
        if director is None:
            return self._refuse(f"{text}: {NO_DIRECTOR}")
        match command:
            case Rack(label):
                director.request_rack(label)
            case Select(subject_id):
                return self._select(director, _subject_by_id(subjects, subject_id))
            case SelectNext():
                ids = sorted(s.id for s in subjects)
                later = [i for i in ids if director.target_id is None or i > director.target_id]
                return self._select(director, (later or ids or [None])[0])
            case SelectAt(x, y):
                return self._select(director, _subject_at(subjects, x, y))
            case Mark(label):
                if director.target_id is None or self.labeller is None:
                    return self._refuse(f"mark {label}: select a subject first (1-9, Tab or click)")
                self.labeller.assign_label(label, director.target_id)
            case ToggleMode():
                if not director.toggle_mode():
                    return self._refuse("drive: no working focus driver (faulted, or none given with --driver)")
            case EmergencyStop():
                director.emergency_stop()
            case Nudge(direction):
                if not director.nudge(direction):
                    return self._refuse("nudge: no focus driver moving (none, stopped or faulted; e re-engages)")
            case _:  # quit, screenshot, GO: for the pipeline, the window, a rehearsal
                return self._refuse(f"unknown command {text!r}")
        return True

    def _select(self, director: FocusDirector, subject_id: int | None) -> bool:
        if subject_id is None:
            return self._refuse("no subject there to select")
        director.select(subject_id)
        return True

    def _refuse(self, why: str) -> bool:
        self.last_refusal = why
        return False


def _subject_by_id(subjects: tuple[Subject, ...], subject_id: int) -> int | None:
    return subject_id if any(s.id == subject_id for s in subjects) else None


def _subject_at(subjects: tuple[Subject, ...], x: int, y: int) -> int | None:
    """The smallest box under the click (a face in front of another wins)."""
    hits = [s for s in subjects if s.box[0] <= x < s.box[0] + s.box[2] and s.box[1] <= y < s.box[1] + s.box[3]]
    return min(hits, key=lambda s: s.box[2] * s.box[3]).id if hits else None
