"""The one pipeline behind ``live``, ``analyze`` and ``rehearse``: the analysis core.

source -> subjects (detect, track, range) -> sharpness, blur widths -> events (classify) -> director
       -> presenter (status, ticker, overlay) -> sinks

The core turns each frame into a :class:`~assistant.sink.FrameAnalysis`; the
presenter it is given (the live view's ``OverlayPresenter``, made in ``live``)
adds the status and the annotated picture, drawn only when some sink wants it;
every sink gets the :class:`~assistant.sink.FrameResult`. Nothing here draws.
The loop is the only place that reads the wall clock (for pacing and the fps
readout); every stage gets the frame's own timestamp. Ctrl-C and SIGTERM end
the run between frames (:mod:`assistant.stop_request`), and sinks are closed in
a ``finally`` block, so a stop still leaves a playable recording and flushed logs.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from assistant.commands import Quit
from assistant.errors import SourceError
from assistant.focus.director import FocusDirector
from assistant.focus.judge import LensReading
from assistant.outage import OutageLog
from assistant.sink import Command, DriverState, EventListener, FrameAnalysis, FrameResult, Sink
from assistant.stop_request import StopRequest
from assistant.types import Box, Event, Frame, FrameSource, NoSignal, SharpnessMap, Subject
from assistant.units import to_metres
from assistant.vision.blur import BlurMeter
from assistant.vision.sharpness import SharpnessMeter

__all__ = ["Command", "EventListener", "FrameAnalysis", "FrameResult", "Pipeline", "RealTimePacer", "RunSummary",
           "Sink"]


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

    cut: bool
    """The last frame updated started a new shot."""

    def update(self, frame: Frame) -> tuple[Subject, ...]: ...

    def close(self) -> None: ...

    @property
    def searched_all(self) -> bool:
        """The whole frame has been searched for faces since the start (or the last cut)."""

    @property
    def people(self) -> tuple[Box, ...]:
        """People seen without a face (the person segmenter), for the director's search."""

    @property
    def warnings(self) -> Sequence[str]:
        """Detector failures survived, one line each."""


class FocusReadout(Protocol):
    """The lens the run reads and drives: the guarded driver (``assistant.drivers.guard.GuardedDriver``),
    which also wraps the virtual rig's own lens."""

    @property
    def fault(self) -> str | None: ...

    @property
    def stopped(self) -> bool:
        """Held by the operator's emergency stop."""

    @property
    def description(self) -> str: ...

    @property
    def warnings(self) -> Sequence[str]: ...

    def position(self) -> float | None:
        """The focus in dioptres, None when unknown."""

    def close(self) -> None: ...


class Controls(Protocol):
    """The operator's commands applied to the run (``assistant.controls.OperatorControls``)."""

    muted: bool
    last_refusal: str

    def apply(self, command: Command, subjects: tuple[Subject, ...]) -> bool: ...


class Presenter(Protocol):
    """Says and shows what the analysis found (the live view's ``OverlayPresenter``)."""

    def present(self, analysis: FrameAnalysis, picture: bool, sound: bool) -> FrameResult:
        """The status, and the annotated picture when ``picture``; ``sound``: a sink plays sound."""

    def no_signal(self, size: tuple[int, int], report: NoSignal) -> np.ndarray:
        """The picture shown while the source is gone."""

    def on_event(self, event: Event) -> None: ...

    def on_followed_rack(self, event: Event) -> None:
        """Suggest mode made the destination of the operator's rack the target."""

    def on_refused(self, why: str) -> None:
        """An operator command could not be carried out."""


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
    """Runs frames from a source through the stages and the presenter into the sinks."""

    def __init__(
        self,
        source: FrameSource,
        meter: SharpnessMeter,
        sinks: Sequence[Sink],
        presenter: Presenter,
        controls: Controls | None = None,
        pacer: RealTimePacer | None = None,
        focus: FocusReadout | None = None,
        subjects: SubjectStage | None = None,
        events: EventStage | None = None,
        director: FocusDirector | None = None,
        max_frames: int | None = None,
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
        self.presenter = presenter
        self.controls = controls
        """Applies the operator commands no sink takes; None: every such command is refused."""
        self.pacer = pacer
        self.focus = focus
        self.subjects = subjects
        self.events = events
        self.director = director
        self.dof_dpt = dof_dpt
        """Depth of field on each side of focus (dioptres) when the optics are known: judges in-focus with the lens reading."""
        self.max_frames = max_frames
        self._clock = clock
        self._fps: float | None = None
        self.outages = OutageLog()
        self._last_index = 0
        self._frame_size = (1280, 720)
        self._draw_overlay = draw_overlay
        self._outputs_changed()

    def add_sink(self, sink: Sink) -> None:
        """An output added after construction (a test, a benchmark): it gets every frame, event and command."""
        self.sinks.append(sink)
        self._outputs_changed()

    def _outputs_changed(self) -> None:
        self._audio = any(sink.sounds for sink in self.sinks)

    def _drawing(self) -> bool:
        """Drawing the overlay costs milliseconds: only when a window, a recording or a watching browser
        shows it (asked each frame: a web viewer comes and goes)."""
        if self._draw_overlay is not None:
            return self._draw_overlay
        return any(sink.wants_picture for sink in self.sinks)

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
        with StopRequest() as stop:  # Ctrl-C and SIGTERM end the run between frames, never inside one
            try:
                while self.max_frames is None or frames < self.max_frames:
                    if stop.requested:
                        stopped_by = "interrupted"
                        break
                    frame = self.source.read()
                    if frame is None:
                        break
                    if isinstance(frame, NoSignal):  # the feed is gone: say so, keep the keys alive, retry
                        self._announce(self.outages.lost(frame, self._last_index))
                        if self._idle(frame):
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
                    if isinstance(self.dispatch(result), Quit):
                        stopped_by = "quit"
                        break
                else:
                    stopped_by = "max frames"
                if self.events is not None and stopped_by != "interrupted":
                    self._announce(self.events.finish())
            except KeyboardInterrupt:  # a second Ctrl-C: the way out of a loop that hangs
                stopped_by = "interrupted"
            finally:
                sys.setswitchinterval(switch_interval)
                self._announce(self.outages.ended())  # a run that stops during an outage still logs its end
                self.close()
        return RunSummary(frames, last_t, self._clock() - started, stopped_by)

    def _idle(self, report: NoSignal) -> bool:
        """Show NO SIGNAL on the sinks that show pictures; True when one of them asked to quit (the only
        command taken meanwhile)."""
        picture = self.presenter.no_signal(self._frame_size, report)
        quit_asked = False
        for sink in self.sinks:
            if isinstance(sink.idle(picture, report), Quit):
                quit_asked = True
        return quit_asked

    def process(self, frame: Frame, arrived: float | None) -> FrameResult:
        """One frame through the stages and the presenter (no sinks). ``arrived``: when the frame came, on
        this pipeline's clock, for the latency shown; None shows none (a picture that must not depend on the
        machine)."""
        return self.presenter.present(self.analyse(frame, arrived), self._drawing(), self._audio)

    def analyse(self, frame: Frame, arrived: float | None = None) -> FrameAnalysis:
        """One frame through the stages: subjects with their focus state, sharpness, events, guidance."""
        self._frame_size = (frame.width, frame.height)
        subjects = self.subjects.update(frame) if self.subjects is not None else ()
        cut = self.subjects is not None and self.subjects.cut
        if cut:  # a new shot: nothing under way carries over
            if self.events is not None:
                self.events.cut(frame.t)
            if self.director is not None:
                self.director.cut()
        try:
            sharpness = self.meter.measure(frame.image, [s.box for s in subjects], frame.overview())
        except ValueError as exc:  # a frame the tile grid cannot cover: the source's size, not a bug
            raise SourceError(f"{self.source.description}: {exc}") from exc
        # A coasting subject's box is the tracker's guess, not a face: its blur would mean nothing. Faces the
        # subject stage found on this frame come with their blur already (it weighs their distance by it).
        measured = [s for s in subjects if not s.coasting and s.blur_px is None]
        blurs = dict(zip((s.id for s in measured), self.blur.measure_frame(frame, [s.box for s in measured])))
        subjects = tuple(replace(s, sharpness=v, blur_px=s.blur_px if s.blur_px is not None else blurs.get(s.id))
                         for s, v in zip(subjects, sharpness.boxes))
        focus_dpt = self.focus.position() if self.focus is not None else None
        events: tuple[Event, ...] = ()
        provisional: tuple[Event, ...] = ()
        if self.events is not None:
            lens = None if focus_dpt is None or self.dof_dpt is None else LensReading(focus_dpt, self.dof_dpt)
            events = tuple(self.events.update(frame.t, frame.index, sharpness, subjects, lens))
            provisional = tuple(self.events.take_provisional())
            states = [self.events.focus_state(s.id) for s in subjects]
            subjects = tuple(replace(s, focus_score=score, in_focus=sharp) for s, (score, sharp) in zip(subjects, states))
        guidance = None
        if self.director is not None:
            searched_all = self.subjects.searched_all if self.subjects is not None else True
            people = self.subjects.people if self.subjects is not None else ()
            guidance, advised = self.director.step(frame.t, frame.index, subjects, focus_dpt, searched_all,
                                                   sharpness, people)
            events += tuple(advised)
        focus = self.focus
        warnings = (*(focus.warnings if focus is not None else ()),
                    *(self.subjects.warnings if self.subjects is not None else ()))
        return FrameAnalysis(
            frame, sharpness, None if focus_dpt is None else to_metres(focus_dpt), subjects, events, guidance,
            self.controls is not None and self.controls.muted, provisional, source=self.source.description,
            cut=cut, mode=self.director.mode if self.director is not None else "",
            driver=None if focus is None else DriverState(focus.description, focus.stopped, focus.fault),
            warnings=warnings, fps=self._fps,
            latency_ms=None if arrived is None else (self._clock() - arrived) * 1000.0,
        )

    def close(self) -> None:
        """Close every sink, then the source; one failing close does not skip the rest."""
        errors: list[BaseException] = []
        closers = [sink.close for sink in self.sinks] + [self.source.close]
        if self.focus is not None:
            closers.insert(0, self.focus.close)  # the motor stops first
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
            self.presenter.on_event(event)
            # In suggest mode a rack the operator made names the new target (see FocusDirector.operator_racked).
            if self.director is not None and self.director.operator_racked(event):
                self.presenter.on_followed_rack(event)
            for sink in self.sinks:
                sink.on_event(event)

    def dispatch(self, result: FrameResult) -> Command | None:
        """Hand ``result`` to every sink (its events first) and carry out the commands they answer with, telling
        each such sink the outcome (``on_command_result``); returns Quit when one asks to end the run (the sinks
        after it do not get this frame)."""
        self._announce(result.events)
        for sink in self.sinks:
            command = sink.consume(result)
            if isinstance(command, Quit):
                return command
            if command is not None:
                taken = self._sink_command(command, result)
                sink.on_command_result(command, None if taken else self._operator_command(command, result.subjects))
        return None

    def _sink_command(self, command: Command, result: FrameResult) -> bool:
        """Offer a command, with the frame it came on, to sinks that take their own (a rehearsal's GO key)."""
        return any(sink.on_command(command, result) for sink in self.sinks)

    def _operator_command(self, command: Command, subjects: tuple[Subject, ...]) -> str | None:
        """Carry out ``command``; None when done, else why not (also on the ticker)."""
        if self.controls is None:
            why = f"{command}: no operator controls in this run"
        elif not self.controls.apply(command, subjects):
            why = self.controls.last_refusal or f"{command}: refused"
        else:
            return None
        self.presenter.on_refused(why)
        return why

    def _update_fps(self, interval: float) -> None:
        if interval <= 0:
            return
        rate = 1.0 / interval
        self._fps = rate if self._fps is None else 0.9 * self._fps + 0.1 * rate


AUDIO_SWITCH_INTERVAL_S = 0.0005
"""How long the loop may hold the interpreter before the audio callback thread gets a turn (sound on)."""
