"""Timeline markers for editors: CMX 3600 EDL ``* LOC:`` lines, or OpenTimelineIO.

One event (the whole clip) carries a marker per labelled focus change, at
the SMPTE timecode (non-drop, the clip's frame rate rounded) of its start,
named with the event label, the subjects and the duration, e.g.
``rack #1->#2 1.03s``. ``.otio`` needs the optional ``opentimelineio``
package (``pip install 'focus-assistant[otio]'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import OutputError, UserInputError
from assistant.sink import Command, FrameResult, Sink
from assistant.timecode import seconds_timecode
from assistant.report.files import prepared
from assistant.types import Event

MARKER_SUFFIXES = (".edl", ".otio")
COLOURS = {"rack": "RED", "pull": "GREEN", "soft": "YELLOW", "mode": "BLUE", "fault": "PURPLE", "cue": "CYAN"}


@dataclass(frozen=True)
class Marker:
    """A named point on the timeline, in seconds from the clip's start."""

    t: float
    name: str
    colour: str
    duration_s: float = 0.0


def event_marker(event: Event) -> Marker:
    """The marker an editor sees for a labelled event."""
    length = event.end - event.start
    return Marker(event.start, f"{event.type} {event.who()} {length:.2f}s ({event.origin})",
                  COLOURS.get(event.type, "WHITE"), length)


def edl_text(markers: list[Marker], fps: float, clip_name: str, duration_s: float, title: str) -> str:
    """A CMX 3600 EDL: one video event spanning the clip, the markers as ``* LOC:`` comments."""
    end = seconds_timecode(max(duration_s, max((m.t for m in markers), default=0.0) + 1.0 / fps), fps)
    start = seconds_timecode(0.0, fps)
    lines = [f"TITLE: {title}", "FCM: NON-DROP FRAME", "",
             f"001  AX       V     C        {start} {end} {start} {end}",
             f"* FROM CLIP NAME: {clip_name}"]
    for marker in sorted(markers, key=lambda m: m.t):
        name = " ".join(marker.name.split())  # one line, single spaces
        lines.append(f"* LOC: {seconds_timecode(marker.t, fps)} {marker.colour:<7} {name}")
    return "\n".join(lines) + "\n"


def write_markers(path: Path, markers: list[Marker], fps: float, clip_name: str, duration_s: float) -> None:
    """Write ``.edl`` or ``.otio`` by the path's suffix."""
    title = path.stem
    text = edl_text(markers, fps, clip_name, duration_s, title)
    if path.suffix.lower() == ".otio":
        otio = _opentimelineio(path)
        timeline = otio.adapters.read_from_string(text, "cmx_3600", rate=round(fps))
        for clip in timeline.find_clips():  # OTIO markers keep the duration the EDL cannot
            for otio_marker, marker in zip(clip.markers, sorted(markers, key=lambda m: m.t)):
                otio_marker.marked_range = otio.opentime.TimeRange(
                    otio_marker.marked_range.start_time, otio.opentime.RationalTime(round(marker.duration_s * fps), round(fps)))
        text = otio.adapters.write_to_string(timeline, "otio_json")
    try:
        path.write_text(text)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the markers ({exc.strerror})") from exc


def _opentimelineio(path: Path) -> Any:
    try:
        import opentimelineio
    except ImportError as exc:
        raise UserInputError(f"{path}: .otio needs OpenTimelineIO; install it with "
                             "pip install 'focus-assistant[otio]', or write .edl") from exc
    return opentimelineio


class MarkersSink(Sink):
    """Collects every labelled event of a run and writes the markers file when it closes."""

    def __init__(self, path: Path, fps: float, clip_name: str) -> None:
        self.path = prepared(path, MARKER_SUFFIXES, "markers")
        if self.path.suffix.lower() == ".otio":
            _opentimelineio(self.path)  # checked now, so a missing package fails before the run
        self.fps = fps
        self.clip_name = clip_name
        self.markers: list[Marker] = []
        self._end = 0.0

    def consume(self, result: FrameResult) -> Command | None:
        self._end = result.frame.t + 1.0 / self.fps
        return None

    def on_event(self, event: Event) -> None:
        self.markers.append(event_marker(event))

    def add(self, marker: Marker) -> None:
        """A marker that is not a pipeline event (a rehearsal cue)."""
        self.markers.append(marker)

    def close(self) -> None:
        write_markers(self.path, self.markers, self.fps, self.clip_name, self._end)
