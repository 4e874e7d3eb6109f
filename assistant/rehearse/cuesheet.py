"""Cue sheets (``config/cues/*.toml``): the marks and the racks a take rehearses.

A mark is a subject label (``subject = "B"``), a side of frame
(``side = "right"``: whoever is there when the cue fires) or a fixed distance
(``distance_m = 3.5``: a plane without a face). A cue fires on one trigger —
a media time ``at``, a ``timecode`` at the sheet's frame rate, a ``key`` press
(Enter), or ``after`` seconds after the previous cue ends — is counted in with
``countdown_beats`` beats ``beat_s`` apart, and racks to its mark over
``duration_s`` along ``curve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ConfigError
from assistant.focus.guidance import RackRequest
from assistant.easing import EASINGS
from assistant.schema import build, limits, read_toml
from assistant.timecode import timecode_seconds
from assistant.types import SUBJECT_LABELS


@dataclass(frozen=True)
class Mark:
    """One of ``subject``, ``side`` or ``distance_m``."""

    subject: str = field(default="", metadata=limits(choices=("", *SUBJECT_LABELS)))
    side: str = field(default="", metadata=limits(choices=("", "left", "right")))
    distance_m: float | None = field(default=None, metadata=limits(lo=0.05))

    def rack(self, duration_s: float, curve: str) -> RackRequest:
        if self.distance_m is not None:
            return RackRequest(distance_m=self.distance_m, duration_s=duration_s, curve=curve)
        return RackRequest(self.subject or self.side, duration_s=duration_s, curve=curve)


@dataclass(frozen=True)
class Cue:
    """A rack to ``to`` (a mark name), on one trigger."""

    to: str
    name: str = ""
    at: float | None = field(default=None, metadata=limits(lo=0.0))
    timecode: str = ""
    key: bool = False
    after: float | None = field(default=None, metadata=limits(lo=0.0))
    duration_s: float = field(default=1.0, metadata=limits(lo=0.05, hi=30.0))
    curve: str = field(default="s-curve", metadata=limits(choices=tuple(EASINGS)))
    countdown_beats: int = field(default=3, metadata=limits(lo=0, hi=16))


@dataclass(frozen=True)
class CueSheet:
    """A whole sheet, as written in the TOML file."""

    cues: tuple[Cue, ...]
    marks: dict[str, Mark] = field(default_factory=dict)
    name: str = "cues"
    fps: float = field(default=30.0, metadata=limits(lo=1.0, hi=240.0))
    beat_s: float = field(default=0.5, metadata=limits(lo=0.1, hi=5.0))


def load_cue_sheet(path: Path) -> CueSheet:
    """Read and check a cue sheet; every error names the file, the cue and the field."""
    sheet = build(CueSheet, read_toml(path), str(path))
    if not sheet.cues:
        raise ConfigError(f"{path}: cues: no cues; add at least one [[cues]] table")
    for name, mark in sheet.marks.items():
        given = [f for f in ("subject", "side", "distance_m") if getattr(mark, f) not in ("", None)]
        if len(given) != 1:
            raise ConfigError(f"{path}: marks.{name}: give exactly one of subject, side or distance_m "
                              f"(got {', '.join(given) or 'none'})")
    for i, cue in enumerate(sheet.cues):
        where = f"{path}: cues[{i}]" + (f" ({cue.name})" if cue.name else "")
        triggers = [t for t, on in (("at", cue.at is not None), ("timecode", bool(cue.timecode)),
                                     ("key", cue.key), ("after", cue.after is not None)) if on]
        if len(triggers) != 1:
            raise ConfigError(f"{where}: give exactly one trigger: at, timecode, key or after "
                              f"(got {', '.join(triggers) or 'none'})")
        if cue.after is not None and i == 0:
            raise ConfigError(f"{where}: after: the first cue has no previous cue; use at, timecode or key")
        if cue.to not in sheet.marks:
            raise ConfigError(f"{where}: to: no mark named {cue.to!r}; marks are: {', '.join(sheet.marks) or 'none'}")
        if cue.timecode:
            try:
                timecode_seconds(cue.timecode, sheet.fps)
            except ValueError as exc:
                raise ConfigError(f"{where}: timecode: {exc}") from exc
    return sheet
