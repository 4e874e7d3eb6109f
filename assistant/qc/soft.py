"""How long the subject stayed soft: a ``soft`` event marks the fall; the section runs until focus is back.

The labeller's ``soft`` event spans the fall itself, from the moment the subject starts to blur to the
moment it crosses the limit of acceptable blur. For QC the question is how long the take had them soft,
so each section is stretched over the frames that follow, for as long as the same subject is still judged
out of focus; it ends when they are judged sharp again, when they leave (unseen for more than
``GONE_S``), or when the clip ends. An event without a subject (a plane going soft) keeps its own span.

A subject who drifts out of focus slowly (walking out of the depth of field over seconds) never makes the
labeller's move fast enough to be an event, yet the take has them soft. So a second rule reads the
verdicts alone: once someone has been judged sharp, a stretch of at least ``MIN_UNSHARP_S`` in which every
subject judged is out of focus is a soft section too (``unsharp_runs``). Nobody sharp, rather than one
person soft: after a rack the person racked away from is meant to be soft. ``MIN_UNSHARP_S`` was chosen
on the tuning seeds of ``make bench-soft`` and is scored there on held-out seeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assistant.sink import FrameResult, Sink
from assistant.types import Event

GONE_S = 0.5
"""A subject unseen (or unjudged) for longer than this has left; the section ends where it was last soft."""
MIN_UNSHARP_S = 3.0
"""The shortest stretch with nobody sharp (after someone was) that is a soft section without an event."""

FrameFlags = tuple[float, dict[int, bool | None]]
"""A frame's time and, per subject seen on it, the in-focus verdict (None: not judged)."""


class SoftTimeline(Sink):
    """Collects the events and each frame's in-focus verdicts; :meth:`sections` after the run."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.frames: list[FrameFlags] = []

    def consume(self, result: FrameResult) -> None:
        self.frames.append((result.frame.t, {s.id: s.in_focus for s in result.subjects if not s.coasting}))

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def sections(self) -> list[tuple[float, float]]:
        return soft_sections(self.events, self.frames)

    def subjects(self) -> set[int]:
        """Everyone seen (not coasting) on some frame."""
        return {sid for _, flags in self.frames for sid in flags}


def soft_sections(events: Iterable[Event], frames: Sequence[FrameFlags],
                  min_unsharp_s: float = MIN_UNSHARP_S) -> list[tuple[float, float]]:
    """Each ``soft`` event stretched while its subject stays soft, and each long enough stretch with nobody
    sharp (``unsharp_runs``), overlaps joined, in time order."""
    spans = []
    for event in events:
        if event.type != "soft":
            continue
        end = event.end if event.from_id is None else _soft_until(event.from_id, event.end, frames)
        spans.append((event.start, end))
    return merged(spans + unsharp_runs(frames, min_unsharp_s))


def unsharp_runs(frames: Sequence[FrameFlags], min_s: float) -> list[tuple[float, float]]:
    """Stretches of at least ``min_s`` where every subject judged is out of focus, once someone was judged
    sharp; frames with nobody judged keep a stretch going for up to ``GONE_S``."""
    runs: list[tuple[float, float]] = []
    start = last = None
    seen_sharp = False
    for t, flags in frames:
        judged = [v for v in flags.values() if v is not None]
        if start is not None and (any(judged) or (not judged and t - last > GONE_S)):
            runs.append((start, last))
            start = None
        if any(judged):
            seen_sharp = True
        elif judged and seen_sharp:
            start = t if start is None else start
            last = t
    if start is not None:
        runs.append((start, last))
    return [(a, b) for a, b in runs if b - a >= min_s]


def _soft_until(subject: int, after: float, frames: Sequence[FrameFlags]) -> float:
    end = last_judged = after
    for t, flags in frames:
        if t <= after:
            continue
        verdict = flags.get(subject)
        if verdict is True:
            break  # sharp again
        if verdict is None:  # not seen or not judged on this frame
            if t - last_judged > GONE_S:
                break
            continue
        end = last_judged = t
    return end


def merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping spans joined, in time order (rounded to milliseconds)."""
    out: list[list[float]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(round(a, 3), round(b, 3)) for a, b in out]
