"""The operator's commands (keys, mouse, any front end) applied to the run.

One place turns a command string into its effect: view toggles on the
overlay style, mute, target selection, marks, racks, suggest/drive, the
emergency stop and the follow-focus nudges. The pipeline asks it to apply
whatever its sinks return, so a window, a test or a remote panel all drive
the assistant the same way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from assistant.focus.director import FocusDirector
from assistant.types import Subject
from assistant.ui.overlay import OverlayStyle

VIEW_TOGGLES = {"toggle_peaking": "peaking", "toggle_heatmap": "heatmap",
                "toggle_magnifier": "magnifier", "toggle_help": "help"}


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

    def apply(self, command: str, subjects: tuple[Subject, ...]) -> bool:
        """Carry out ``command`` against this frame's ``subjects``; False if it could not be done."""
        try:
            return self._apply(command, subjects)
        except ValueError as exc:  # a malformed command (select:x, rack:E) is refused, never fatal
            return self._refuse(f"{command}: {exc}")

    def _apply(self, command: str, subjects: tuple[Subject, ...]) -> bool:
        verb, _, arg = command.partition(":")
        if command in VIEW_TOGGLES:
            name = VIEW_TOGGLES[command]
            self.style = replace(self.style, **{name: not getattr(self.style, name)})
            return True
        if command == "toggle_mute":
            self.muted = not self.muted
            return True
        director = self.director
        if director is None:
            return self._refuse(f"{command}: needs a live run (no focus director in analyze)")
        if verb == "rack":
            director.request_rack(arg)
        elif verb == "select":
            return self._select(director, _subject_by_id(subjects, int(arg)))
        elif verb == "select_next":
            ids = sorted(s.id for s in subjects)
            later = [i for i in ids if director.target_id is None or i > director.target_id]
            return self._select(director, (later or ids or [None])[0])
        elif verb == "select_at":
            x, y = (int(v) for v in arg.split(","))
            return self._select(director, _subject_at(subjects, x, y))
        elif verb == "mark":
            if director.target_id is None or self.labeller is None:
                return self._refuse(f"mark {arg}: select a subject first (1-9, Tab or click)")
            self.labeller.assign_label(arg, director.target_id)
        elif command == "toggle_mode":
            if not director.toggle_mode():
                return self._refuse("drive: no working focus driver (faulted, or none given with --driver)")
        elif command == "emergency_stop":
            director.emergency_stop()
        elif verb == "nudge":
            if not director.nudge(arg):
                return self._refuse("nudge: no focus driver moving (none, stopped or faulted; e re-engages)")
        else:
            return self._refuse(f"unknown command {command!r}")
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
