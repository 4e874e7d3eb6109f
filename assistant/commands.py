"""What a sink may ask of the run: small frozen values, and the one parser from their text form.

The text form is what the keys table (``assistant.ui.keys``) and
``examples/screenshot.py --command`` speak, e.g. ``rack:B``, ``select_at:640,360``,
``toggle_magnifier``; ``str()`` of a command gives it back. Sinks return
command values; :func:`parse_command` is the only place that reads the text.
What each does: ``assistant.controls`` (the operator's), the pipeline (quit),
the window (screenshot) and the rehearsal (GO).
"""

from __future__ import annotations

import math

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Quit:
    """End the run."""

    def __str__(self) -> str:
        return "quit"


@dataclass(frozen=True)
class Screenshot:
    """Save the picture as shown (the window takes it itself)."""

    def __str__(self) -> str:
        return "screenshot"


@dataclass(frozen=True)
class CueGo:
    """GO: fire the next key cue of a rehearsal."""

    def __str__(self) -> str:
        return "cue_go"


VIEW_ELEMENTS = ("peaking", "heatmap", "magnifier", "help")


@dataclass(frozen=True)
class ToggleView:
    """Switch an overlay element on or off: one of :data:`VIEW_ELEMENTS`."""

    element: str

    def __str__(self) -> str:
        return f"toggle_{self.element}"


@dataclass(frozen=True)
class ToggleMute:
    """Mute or unmute the sound cues."""

    def __str__(self) -> str:
        return "toggle_mute"


@dataclass(frozen=True)
class ToggleMode:
    """Suggest <-> drive (re-engages drive after a stop or a manual pause)."""

    def __str__(self) -> str:
        return "toggle_mode"


@dataclass(frozen=True)
class EmergencyStop:
    """Stop the motor now; suggest mode until the operator re-engages."""

    def __str__(self) -> str:
        return "emergency_stop"


@dataclass(frozen=True)
class SelectNext:
    """The next subject on screen becomes the target."""

    def __str__(self) -> str:
        return "select_next"


@dataclass(frozen=True)
class Select:
    """Subject ``subject_id`` becomes the target."""

    subject_id: int

    def __str__(self) -> str:
        return f"select:{self.subject_id}"


@dataclass(frozen=True)
class SelectAt:
    """The subject under the picture point (x, y) becomes the target (a click)."""

    x: int
    y: int

    def __str__(self) -> str:
        return f"select_at:{self.x},{self.y}"


@dataclass(frozen=True)
class Mark:
    """Give the selected subject the mark ``label`` (A-D)."""

    label: str

    def __str__(self) -> str:
        return f"mark:{self.label}"


@dataclass(frozen=True)
class Rack:
    """Rack to mark ``label``."""

    label: str

    def __str__(self) -> str:
        return f"rack:{self.label}"


@dataclass(frozen=True)
class Nudge:
    """Move the focus a step ``direction`` (nearer or farther)."""

    direction: str

    def __str__(self) -> str:
        return f"nudge:{self.direction}"


Command = Union[Quit, Screenshot, CueGo, ToggleView, ToggleMute, ToggleMode, EmergencyStop, SelectNext, Select,
                SelectAt, Mark, Rack, Nudge]
"""Anything a sink may return to the run."""


class UnknownCommand(ValueError):
    """Text that names no command."""


_PLAIN: dict[str, Command] = {
    "quit": Quit(), "screenshot": Screenshot(), "cue_go": CueGo(), "toggle_mute": ToggleMute(),
    "toggle_mode": ToggleMode(), "emergency_stop": EmergencyStop(),
    "stop": EmergencyStop(), "go": CueGo(),  # DESIGN.md's words for the same two
    **{f"toggle_{element}": ToggleView(element) for element in VIEW_ELEMENTS},
}


def parse_command(text: str) -> Command:
    """The command ``text`` names: ``UnknownCommand`` for none, ``ValueError`` for a malformed argument
    (``select:x``, ``select_at:1``); whether a mark or direction exists is for whoever carries it out."""
    if text in _PLAIN:
        return _PLAIN[text]
    verb, _, arg = text.partition(":")
    if verb == "rack":
        return Rack(arg)
    if verb == "select":
        return Select(int(arg))
    if verb == "select_next":
        return SelectNext()
    if verb == "select_at":
        x, y = (int(v) for v in arg.split(","))
        return SelectAt(x, y)
    if verb == "mark":
        return Mark(arg)
    if verb == "nudge":
        return Nudge(_nudge_direction(arg))
    raise UnknownCommand(f"unknown command {text!r}")


def _nudge_direction(arg: str) -> str:
    """``nearer``/``farther``, or DESIGN.md's signed step (``+0.05`` farther, ``-0.05`` nearer; one nudge step
    whatever its size)."""
    if arg[:1] not in ("+", "-"):
        return arg
    try:
        step = float(arg)
    except ValueError:
        step = math.nan
    if not math.isfinite(step) or step == 0:
        raise ValueError(f"a nudge is nearer, farther, or a signed step like +0.05 or -0.05, got {arg!r}")
    return "farther" if step > 0 else "nearer"
