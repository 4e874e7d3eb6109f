"""A take: fires a cue sheet's racks on time, counts each one in, records what happened.

The runner is a pipeline sink. Timed cues (``at``, ``timecode``, and
``after`` a timed cue) are handed to the focus director up front, so each
rack starts on the exact frame; key cues wait for the GO key (Enter), then
count in and fire. Every frame is recorded (focus, subjects), and when the
take ends each cue is scored against what was seen (``assistant.rehearse.score``).
In drive mode the director executes the racks; in manual mode it only
announces them and the operator pulls focus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from assistant.focus.director import FocusDirector
from assistant.optics import RIG_DOF_DPT
from assistant.targeting import rack_subject
from assistant.commands import CueGo, Quit
from assistant.sink import Command, FrameResult, Sink
from assistant.rehearse.cuesheet import Cue, CueSheet
from assistant.timecode import timecode_seconds
from assistant.rehearse.score import CueScore, FiredCue, Sample, measured_cue, score_cue
from assistant.report.markers import COLOURS, Marker
from assistant.units import to_dioptres

TAIL_S = 1.5
"""The take goes on this long after the last cue's rack should have landed."""


class Sounder(Protocol):
    """Anything that can sound a named cue at a media time (``CueSink.sound``)."""

    def sound(self, name: str, t: float) -> None: ...


class MarkerBoard(Protocol):
    """Where cue markers go (``MarkersSink.add``)."""

    def add(self, marker: Marker) -> None: ...


@dataclass(frozen=True)
class Take:
    """A finished take: what was planned and fired, what was seen, and the scores."""

    sheet: str
    mode: str
    fired: tuple[FiredCue, ...]
    samples: tuple[Sample, ...]
    scores: tuple[CueScore, ...]

    @property
    def score(self) -> float | None:
        """The mean of the cues that were pulled; None when no cue was (nothing to judge, not a bad take)."""
        scored = [s.score for s in self.scores if s.score is not None]
        return sum(scored) / len(scored) if scored else None

    @property
    def no_pull_cues(self) -> tuple[str, ...]:
        """The cues in which the lens focus never moved: left out of the take's score."""
        return tuple(s.cue for s in self.scores if s.no_pull_seen)


class RehearsalSink(Sink):
    """Runs one take of ``sheet`` against the director; ``take()`` scores it."""

    wants_picture = False

    def __init__(self, sheet: CueSheet, director: FocusDirector, mode: str, fps: float,
                 sounder: Sounder | None = None, tolerance_dpt: float = RIG_DOF_DPT, markers: MarkerBoard | None = None) -> None:
        self.sheet = sheet
        self.markers = markers
        self.director = director
        self.mode = mode
        self.fps = fps
        self.sounder = sounder
        self.tolerance_dpt = tolerance_dpt
        self.times: list[float | None] = [None] * len(sheet.cues)  # trigger time of each cue, once known
        self._samples: list[Sample] = []
        self._fired: list[FiredCue] = []
        self._beats: list[tuple[float, str]] = []  # (media time, cue name) still to sound
        self._t = 0.0
        self._armed: set[int] = set()
        self._arm_ready()

    # ------------------------------------------------------------------ timing
    def _arm_ready(self) -> None:
        """Arm every cue whose trigger time is now known, each exactly once.

        ``at`` and ``timecode`` cues are known from the start; a ``key`` cue
        when GO is pressed; an ``after`` cue once the cue before it is known.
        """
        for i, cue in enumerate(self.sheet.cues):
            if i in self._armed:
                continue
            if self.times[i] is None:
                if cue.at is not None:
                    self.times[i] = cue.at
                elif cue.timecode:
                    self.times[i] = timecode_seconds(cue.timecode, self.sheet.fps)
                elif cue.after is not None and i > 0 and self.times[i - 1] is not None:
                    before = self.times[i - 1]
                    assert before is not None
                    self.times[i] = before + self.sheet.cues[i - 1].duration_s + cue.after
            at = self.times[i]
            if at is not None:
                self._armed.add(i)
                self._arm(cue, at)

    def _arm(self, cue: Cue, at: float) -> None:
        mark = self.sheet.marks[cue.to]
        self.director.schedule_rack(mark.rack(cue.duration_s, cue.curve), at)
        for k in range(cue.countdown_beats, 0, -1):
            self._beats.append((at - k * self.sheet.beat_s, "count_beat"))
        self._beats.append((at, "count_go"))
        self._beats.sort()

    def on_command(self, command: Command, result: FrameResult) -> bool:
        """GO (Enter) on ``result``'s frame fires the next key cue after its count-in."""
        if not isinstance(command, CueGo):
            return False
        waiting = next((i for i, cue in enumerate(self.sheet.cues) if cue.key and self.times[i] is None), None)
        if waiting is None:
            return False
        cue = self.sheet.cues[waiting]
        self.times[waiting] = result.frame.t + cue.countdown_beats * self.sheet.beat_s
        self._arm_ready()
        self._sound_due(result.frame.t)  # the first beat is on the GO frame itself
        return True

    # ------------------------------------------------------------------ per frame
    def consume(self, result: FrameResult) -> Command | None:
        t = self._t = result.frame.t
        focus = None if result.focus_m is None else to_dioptres(result.focus_m)
        self._samples.append(Sample(t, result.frame.index, focus, result.subjects))
        self._sound_due(t)
        for i, at in enumerate(self.times):
            if at is not None and at <= t + 1e-9 and all(f.index != i for f in self._fired):
                self._fire(i, at, result, focus)
        if self._finished(t):
            return Quit()
        return None

    def _sound_due(self, t: float) -> None:
        while self._beats and self._beats[0][0] <= t + 1e-9:
            _, name = self._beats.pop(0)
            if self.sounder is not None:
                self.sounder.sound(name, t)

    def _fire(self, index: int, at: float, result: FrameResult, focus: float | None) -> None:
        cue = self.sheet.cues[index]
        mark = self.sheet.marks[cue.to]
        target_id, target_dpt = None, None
        if mark.distance_m is not None:
            target_dpt = to_dioptres(mark.distance_m)
        else:
            subject = rack_subject(result.subjects, mark.subject or mark.side)
            if subject is not None and subject.distance_m is not None:
                target_id, target_dpt = subject.id, to_dioptres(subject.distance_m)
        name = cue.name or f"cue {index + 1} to {cue.to}"
        self._fired.append(FiredCue(index, name, at, cue.duration_s, cue.curve, focus, target_dpt, target_id, self.fps))
        if self.markers is not None:
            self.markers.add(Marker(at, f"cue {name} -> {cue.to} {cue.duration_s:.2f}s {cue.curve}", COLOURS["cue"],
                                    cue.duration_s))

    def _finished(self, t: float) -> bool:
        if len(self._fired) < len(self.sheet.cues):
            return False
        last = max(f.t0 + f.duration_s for f in self._fired)
        return t >= last + TAIL_S

    # ------------------------------------------------------------------ results
    def take(self) -> Take:
        """Score every cue that fired, each on its own window of frames."""
        fired = sorted(self._fired, key=lambda f: f.t0)
        scores, measured = [], []
        for i, cue in enumerate(fired):
            lead = max(1.0, self.sheet.cues[cue.index].countdown_beats * self.sheet.beat_s)
            begin = cue.t0 - lead if i == 0 else max(cue.t0 - lead, fired[i - 1].t0 + fired[i - 1].duration_s)
            end = fired[i + 1].t0 if i + 1 < len(fired) else self._t  # until the next rack starts
            window = (begin, max(end, cue.t0 + cue.duration_s))
            measured.append(measured_cue(cue, self._samples, window))
            scores.append(score_cue(cue, self._samples, window, self.tolerance_dpt))
        return Take(self.sheet.name, self.mode, tuple(measured), tuple(self._samples), tuple(scores))

    def close(self) -> None:
        """Nothing to release: the caller asks for :meth:`take` after the run."""
