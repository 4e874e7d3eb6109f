"""The live view's keys and mouse: what each does, in one table.

Keys become pipeline commands, written here in their text form
(``assistant.commands`` parses it), so the window, tests and any other front
end share one vocabulary. ``HELP_LINES`` is what ``h`` shows; a
test checks it names every key here, and the README's table lists the same.
"""

from __future__ import annotations

from assistant.commands import Command, parse_command
from assistant.types import SUBJECT_LABELS

SIMPLE_KEYS: dict[int, str] = {
    9: "select_next", 13: "cue_go", ord("e"): "toggle_mode", 32: "emergency_stop",
    ord("p"): "toggle_peaking", ord("g"): "toggle_heatmap", ord("z"): "toggle_magnifier",
    ord("m"): "toggle_mute", ord("s"): "screenshot", ord("h"): "toggle_help", ord("q"): "quit", 27: "quit",
}
"""Keys with one fixed command; digits, letters a-d/A-D and , . are handled by :func:`command_for_key`."""

HELP_LINES: tuple[str, ...] = (
    "1-9 / Tab / click   select subject (the target)",
    "Shift+A-D           mark the selected subject A-D",
    "a-d                 rack to mark A-D",
    "e                   suggest <-> drive (re-engage)",
    "Space               emergency stop (drive off)",
    ",  .                nudge focus nearer / farther",
    "p  g  z             peaking / heat map / magnifier",
    "m                   mute sound cues",
    "Enter               GO: fire the next key cue (rehearsal)",
    "s                   screenshot      h  this help",
    "q  Esc              quit",
)


def command_for_key(key: int) -> str | None:
    """The command for a key code from ``cv2.waitKey`` masked to 8 bits (255: no key), or None."""
    char = chr(key) if 32 <= key < 127 else ""
    if char.isdigit() and char != "0":
        return f"select:{char}"
    if char and char in SUBJECT_LABELS:
        return f"mark:{char}"
    if char and char in "abcd":
        return f"rack:{char.upper()}"
    if char and char in ",.":
        return "nudge:nearer" if char == "," else "nudge:farther"
    return SIMPLE_KEYS.get(key)


def key_command(key: int) -> Command | None:
    """The command value for a key code (see :func:`command_for_key`), or None."""
    text = command_for_key(key)
    return None if text is None else parse_command(text)
