"""The one pipeline behind ``live`` (and later ``analyze`` and ``rehearse``).

source -> subjects (detect, track, range) -> sharpness, blur widths -> events (classify) -> overlay -> sinks

The loop is the only place that reads the wall clock (for pacing and the fps
readout); every stage gets the frame's own timestamp. Sinks are closed in a
``finally`` block, so Ctrl-C or SIGTERM still leaves a playable recording and
flushed logs.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np

from assistant.controls import OperatorControls
from assistant.errors import SourceError
from assistant.focus.director import FocusDirector, Guidance
from assistant.focus.judge import LensReading
from assistant.outage import OutageLog
from assistant.types import Event, Frame, FrameSource, NoSignal, SharpnessMap, Subject
from assistant.units import to_metres
from assistant.ui.overlay import OverlayStyle, Status, draw, no_signal_screen
from assistant.vision.blur import BlurMeter
from assistant.vision.sharpness import SharpnessMeter

Command = str
"""What a sink asks of the pipeline: "quit", or an operator command (``assistant.controls``, ``assistant.ui.keys``)."""


@dataclass(frozen=True)
class FrameResult:
    """Everything the pipeline knows about one frame, handed to every sink."""

    frame: Frame
    sharpness: SharpnessMap
    focus_m: float | None
    subjects: tuple[Subject, ...]
    events: tuple[Event, ...]
    annotated: np.ndarray
    status: Status
    guidance: Guidance | None = None
    muted: bool = False
    """The operator muted sound cues (``m``)."""
    provisional: tuple[Event, ...] = ()
    """Racks recognised under way on this frame (not landed yet; the labelled rack follows)."""


class Sink(Protocol):
    """An output: gets every frame's result, may answer with a command.

    A sink that shows or stores the annotated picture sets ``wants_picture =
    True``; without one the pipeline skips drawing the overlay.
    """

    def consume(self, result: FrameResult) -> Command | None: ...

    def close(self) -> None: ...


@runtime_checkable
class EventListener(Protocol):
    """A sink that also wants each labelled event as it completes (events file, report, cues).

    Events that complete only when the source ends (a move still under way
    in the last frames) arrive here after the last frame.
    """

    def on_event(self, event: Event) -> None: ...


class EventStage(Protocol):
    """Labels focus changes (``assistant.focus.classify.EventClassifier``)."""

    def update(self, t: float, frame: int, sharpness: SharpnessMap, subjects: Sequence[Subject],
               lens: LensReading | None = None) -> list[Event]: ...

    def finish(self) -> list[Event]: ...

    def cut(self, t: float) -> None: ...

    def take_provisional(self) -> list[Event]: ...

    def focus_state(self, subject_id: int) -> tuple[float | None, bool | None]: ...


class SubjectStage(Protocol):
    """Finds and tracks subjects (``assistant.vision.subjects.SubjectTracker``)."""

    def update(self, frame: Frame) -> tuple[Subject, ...]: ...

    def close(self) -> None: ...


class FocusReadout(Protocol):
    """Anything that knows the lens focus in dioptres (the rig's lens, a driver)."""

    def position(self) -> float | None: ...


@dataclass(frozen=True)
class RunSummary:
    """What a run did, for the final line and for tests."""

    frames: int
    media_s: float
    wall_s: float
    stopped_by: str

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s if self.wall_s > 0 else 0.0


class RealTimePacer:
    """Holds a non-live source (a file, the rig) to its media time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 max_lag_s: float = 0.5) -> None:
        self._clock = clock
        self._sleep = sleep
        self._max_lag = max_lag_s
        self._origin: float | None = None

    def wait(self, t: float) -> None:
        """Sleep until media time ``t`` is due; if far behind, start again from now."""
        now = self._clock()
        if self._origin is None:
            self._origin = now - t
        due = self._origin + t
        if due > now:
            self._sleep(due - now)
        elif now - due > self._max_lag:
            self._origin = now - t


class Pipeline:
    """Runs frames from a source through the stages into the sinks."""

    def __init__(
        self,
        source: FrameSource,
        meter: SharpnessMeter,
        sinks: Sequence[Sink],
        style: OverlayStyle = OverlayStyle(),
        pacer: RealTimePacer | None = None,
        focus: FocusReadout | None = None,
        subjects: SubjectStage | None = None,
        events: EventStage | None = None,
        director: FocusDirector | None = None,
        max_frames: int | None = None,
        recording: bool = False,
        draw_overlay: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        dof_dpt: float | None = None,
    ) -> None:
        if max_frames is not None and max_frames < 1:
            raise ValueError(f"max_frames must be >= 1, got {max_frames}")
        self.source = source
        self.meter = meter
        self.blur = BlurMeter()
        self.sinks = list(sinks)
        self.controls = OperatorControls(style, director, subjects if hasattr(subjects, "assign_label") else None)
        self.pacer = pacer
        self.focus = focus
        self.subjects = subjects
        self.events = events
        self.director = director
        self.dof_dpt = dof_dpt
        """Depth of field on each side of focus (dioptres) when the optics are known: judges in-focus with the lens reading."""
        self.max_frames = max_frames
        self.recording = recording
        self._clock = clock
        self._fps: float | None = None
        self._ticker: deque[str] = deque(maxlen=TICKER_LINES)
        self.outages = OutageLog()
        self._last_index = 0
        self._frame_size = (1280, 720)
        self._warnings_shown: set[str] = set()
        self._audio = any(getattr(sink, "sounds", False) for sink in self.sinks)
        self._listeners = [sink for sink in self.sinks if isinstance(sink, EventListener)]
        # Drawing the overlay costs milliseconds: only when a window or recording shows it.
        wanted = any(getattr(sink, "wants_picture", False) for sink in self.sinks)
        self._draw = wanted if draw_overlay is None else draw_overlay

    @property
    def style(self) -> OverlayStyle:
        """The overlay elements on now (the config's, as toggled by the operator)."""
        return self.controls.style

    def run(self) -> RunSummary:
        """Process frames until the source ends, ``max_frames``, or a sink says quit."""
        frames, last_t, stopped_by = 0, 0.0, "end of source"
        # With sound on, the audio callback must get the interpreter within a millisecond or so: the
        # stages' pure-Python stretches otherwise keep it waiting a switch interval (5 ms) at a time, and
        # cues came out 60-170 ms late. Restored when the run ends.
        switch_interval = sys.getswitchinterval()
        if self._audio:
            sys.setswitchinterval(AUDIO_SWITCH_INTERVAL_S)
        started = self._clock()
        previous: float | None = None
        try:
            while self.max_frames is None or frames < self.max_frames:
                frame = self.source.read()
                if frame is None:
                    break
                if isinstance(frame, NoSignal):  # the feed is gone: say so, keep the keys alive, retry
                    self._announce(self.outages.lost(frame, self._last_index))
                    if self._idle(frame) == "quit":
                        stopped_by = "quit"
                        break
                    continue
                self._announce(self.outages.restored(frame))
                self._last_index = frame.index
                if self.pacer is not None:
                    self.pacer.wait(frame.t)
                arrived = self._clock()
                if previous is not None:
                    self._update_fps(arrived - previous)
                previous = arrived
                result = self.process(frame, arrived)
                frames, last_t = frames + 1, frame.t
                if self.dispatch(result) == "quit":
                    stopped_by = "quit"
                    break
            else:
                stopped_by = "max frames"
            if self.events is not None:
                self._announce(self.events.finish())
        except KeyboardInterrupt:
            stopped_by = "interrupted"
        finally:
            sys.setswitchinterval(switch_interval)
            self._announce(self.outages.ended())  # a run that stops during an outage still logs its end
            self.close()
        return RunSummary(frames, last_t, self._clock() - started, stopped_by)

    def _idle(self, report: NoSignal) -> Command | None:
        """Show NO SIGNAL on the sinks that show pictures; only quit is taken from them meanwhile."""
        picture = no_signal_screen(*self._frame_size, report.source, report.silent_s)
        quit_asked = False
        for sink in self.sinks:
            idle = getattr(sink, "idle", None)
            if callable(idle) and idle(picture, report) == "quit":
                quit_asked = True
        return "quit" if quit_asked else None

    def process(self, frame: Frame, arrived: float | None) -> FrameResult:
        """One frame through the stages (no sinks). ``arrived``: when the frame came, on this pipeline's
        clock, for the latency shown; None shows none (a picture that must not depend on the machine)."""
        self._frame_size = (frame.width, frame.height)
        subjects = self.subjects.update(frame) if self.subjects is not None else ()
        if getattr(self.subjects, "cut", False):  # a new shot: nothing under way carries over
            if self.events is not None:
                self.events.cut(frame.t)
            if self.director is not None:
                self.director.cut()
            self._ticker.append(f"{frame.t:7.2f}s  cut to a new shot")
        try:
            sharpness = self.meter.measure(frame.image, [s.box for s in subjects])
        except ValueError as exc:  # a frame the tile grid cannot cover: the source's size, not a bug
            raise SourceError(f"{self.source.description}: {exc}") from exc
        # A coasting subject's box is the tracker's guess, not a face: its blur would mean nothing. Faces the
        # subject stage found on this frame come with their blur already (it weighs their distance by it).
        measured = [s for s in subjects if not s.coasting and s.blur_px is None]
        blurs = dict(zip((s.id for s in measured), self.blur.measure(frame.image, [s.box for s in measured])))
        subjects = tuple(replace(s, sharpness=v, blur_px=s.blur_px if s.blur_px is not None else blurs.get(s.id))
                         for s, v in zip(subjects, sharpness.boxes))
        focus_dpt = self.focus.position() if self.focus is not None else None
        events: tuple[Event, ...] = ()
        provisional: tuple[Event, ...] = ()
        if self.events is not None:
            lens = None if focus_dpt is None or self.dof_dpt is None else LensReading(focus_dpt, self.dof_dpt)
            events = tuple(self.events.update(frame.t, frame.index, sharpness, subjects, lens))
            provisional = tuple(self.events.take_provisional())
            self._ticker.extend(f"{p.start:7.2f}s  rack {p.who()} under way" for p in provisional)
            states = [self.events.focus_state(s.id) for s in subjects]
            subjects = tuple(replace(s, focus_score=score, in_focus=sharp) for s, (score, sharp) in zip(subjects, states))
        guidance = None
        if self.director is not None:
            searched_all = getattr(self.subjects, "searched_all", True)
            people = getattr(self.subjects, "people", ())
            guidance, advised = self.director.step(frame.t, frame.index, subjects, focus_dpt, searched_all,
                                                   sharpness, people)
            events += tuple(advised)
        focus_m = None if focus_dpt is None else to_metres(focus_dpt)
        for warning in [*getattr(self.focus, "warnings", ()), *getattr(self.subjects, "warnings", ())]:
            if warning not in self._warnings_shown:  # each driver or detector warning once, on screen
                self._warnings_shown.add(warning)
                self._ticker.append(f"! {warning}")
        target = guidance.target_id if guidance is not None else None
        status = Status(
            source=self.source.description, t=frame.t, frame=frame.index, fps=self._fps,
            latency_ms=None if arrived is None else (self._clock() - arrived) * 1000.0, focus_m=focus_m,
            recording=self.recording,
            note=guidance.text() if guidance is not None else "",
            mode=self.director.mode if self.director is not None else "",
            target=_target_name(subjects, target), audio=(not self.controls.muted) if self._audio else None,
            driver=_driver_state(self.focus), ticker=tuple(self._ticker),
        )
        advice = None
        if guidance is not None and guidance.direction in ("nearer", "farther") and guidance.delta_m is not None:
            advice = (guidance.direction, guidance.delta_m)
        annotated = (draw(frame.image, sharpness, status, self.style, subjects, target, advice)
                     if self._draw else frame.image)
        return FrameResult(frame, sharpness, focus_m, subjects, events, annotated, status, guidance,
                           self.controls.muted, provisional)

    def close(self) -> None:
        """Close every sink, then the source; one failing close does not skip the rest."""
        errors: list[BaseException] = []
        closers = [sink.close for sink in self.sinks] + [self.source.close]
        if callable(getattr(self.focus, "close", None)):
            closers.insert(0, self.focus.close)  # type: ignore[union-attr]  # the motor stops first
        if self.subjects is not None:
            closers.append(self.subjects.close)
        for closer in closers:
            try:
                closer()
            except Exception as exc:  # keep closing the others; report the first
                errors.append(exc)
        if errors:
            raise errors[0]

    def _announce(self, events: Sequence[Event]) -> None:
        for event in events:
            self._ticker.append(ticker_line(event))
            # In suggest mode a rack the operator made names the new target (see FocusDirector.operator_racked).
            if self.director is not None and self.director.operator_racked(event):
                self._ticker.append(f"{event.end:7.2f}s  you racked to #{event.to_id}: it is the target now")
            for listener in self._listeners:
                listener.on_event(event)

    def dispatch(self, result: FrameResult) -> Command | None:
        self._announce(result.events)
        for sink in self.sinks:
            command = sink.consume(result)
            if command == "quit":
                return "quit"
            if command and not self._sink_command(command, result) and not self.controls.apply(command, result.subjects):
                self._ticker.append(f"! {self.controls.last_refusal}")
        return None

    def _sink_command(self, command: Command, result: FrameResult) -> bool:
        """Offer a command, with the frame it came on, to sinks that take their own (a rehearsal's GO key)."""
        return any(sink.on_command(command, result) for sink in self.sinks if callable(getattr(sink, "on_command", None)))

    def _update_fps(self, interval: float) -> None:
        if interval <= 0:
            return
        rate = 1.0 / interval
        self._fps = rate if self._fps is None else 0.9 * self._fps + 0.1 * rate


TICKER_LINES = 4
AUDIO_SWITCH_INTERVAL_S = 0.0005
"""How long the loop may hold the interpreter before the audio callback thread gets a turn (sound on)."""


def ticker_line(event: Event) -> str:
    """One short line for the on-screen event ticker."""
    if event.detail:
        return f"{event.start:7.2f}s  {event.type}: {event.detail}"
    return f"{event.start:7.2f}s  {event.type} {event.who()} ({event.origin}, {event.end - event.start:.1f} s)"


def _target_name(subjects: tuple[Subject, ...], target_id: int | None) -> str:
    if target_id is None:
        return ""
    subject = next((s for s in subjects if s.id == target_id), None)
    return f"{subject.label} #{target_id}" if subject is not None and subject.label else f"#{target_id}"


def _driver_state(focus: FocusReadout | None) -> str:
    """The status bar's word on the driver: its name, STOPPED or the fault."""
    if focus is None:
        return ""
    fault = getattr(focus, "fault", None)
    if fault:
        return f"DRIVER FAULT: {fault}"
    if getattr(focus, "stopped", False):
        return "driver STOPPED (e re-engages)"
    return f"driver {getattr(focus, 'description', 'lens')}"
