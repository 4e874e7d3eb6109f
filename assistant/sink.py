"""What the pipeline hands its outputs, and :class:`Sink`, the base of every output.

The analysis core (``assistant.pipeline``) turns each frame into a
:class:`FrameAnalysis`: subjects with their focus state, sharpness, events,
guidance. A presenter (``assistant.ui.presenter``) adds what is shown, once
per frame: the :class:`Status` and, when some sink wants it, the annotated
picture. The result, a :class:`FrameResult`, goes to every sink (window,
recorder, status line, sound, logs, reports, a rehearsal).

Nothing here draws or reads clocks; this module loads no other layer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from assistant.commands import Command
from assistant.types import Event, Frame, NoSignal, SharpnessMap, Subject

if TYPE_CHECKING:
    from assistant.focus.guidance import Guidance


@dataclass(frozen=True)
class DriverState:
    """The focus driver as the run sees it on a frame."""

    description: str
    stopped: bool = False
    """The operator's emergency stop holds it until drive is re-engaged."""
    fault: str | None = None


@dataclass(frozen=True)
class Status:
    """What the status bar says about the run."""

    source: str
    t: float
    frame: int
    fps: float | None = None
    latency_ms: float | None = None
    focus_m: float | None = None
    recording: bool = False
    note: str = ""
    mode: str = ""
    target: str = ""
    audio: bool | None = None  # None: no sound output at all
    driver: str = ""
    ticker: tuple[str, ...] = ()
    """The last few labelled events, newest last."""


@dataclass(frozen=True)
class FrameAnalysis:
    """Everything the analysis core knows about one frame."""

    frame: Frame
    sharpness: SharpnessMap
    focus_m: float | None
    subjects: tuple[Subject, ...]
    events: tuple[Event, ...]
    guidance: Guidance | None = None
    muted: bool = False
    """The operator muted sound cues (``m``)."""
    provisional: tuple[Event, ...] = ()
    """Racks recognised under way on this frame (not landed yet; the labelled rack follows)."""
    source: str = ""
    """The source's description."""
    cut: bool = False
    """This frame starts a new shot: nothing under way carried over."""
    mode: str = ""
    """suggest or drive ("" without a focus director)."""
    driver: DriverState | None = None
    warnings: tuple[str, ...] = ()
    """The driver's and the subject stage's one-line warnings so far (each shown once)."""
    fps: float | None = None
    """Frames per second arriving (the wall clock's; None before the second frame or when not timed)."""
    latency_ms: float | None = None
    """From the frame's arrival to the end of its analysis; None when not timed."""


@dataclass(frozen=True, kw_only=True)
class FrameResult(FrameAnalysis):
    """A frame's analysis with what the presenter made of it, handed to every sink."""

    annotated: np.ndarray
    """The picture with the overlay, or the camera's own when no sink wants the overlay."""
    status: Status

    @classmethod
    def of(cls, analysis: FrameAnalysis, annotated: np.ndarray, status: Status) -> FrameResult:
        return cls(**{f.name: getattr(analysis, f.name) for f in fields(FrameAnalysis)},
                   annotated=annotated, status=status)


@runtime_checkable
class EventListener(Protocol):
    """Anything that wants each labelled event as it completes (every :class:`Sink` does)."""

    def on_event(self, event: Event) -> None: ...


class Sink:
    """An output: gets every frame's result and may answer with a command.

    Subclasses override the hooks they need; the defaults do nothing, so the
    pipeline calls every hook on every sink.
    """

    wants_picture: bool = False
    """True for a sink that shows or stores the annotated picture; with none, the overlay is not drawn."""
    sounds: bool = False
    """True for a sink that plays sound: the status bar then shows sound on or muted."""

    def consume(self, result: FrameResult) -> Command | None:
        """One frame's result; may return a command (``assistant.commands``: Quit, or an operator's)."""
        return None

    def on_event(self, event: Event) -> None:
        """A labelled event as it completes, before the frame that carries it is consumed.

        Events that complete only when the source ends (a move still under way
        in the last frames) arrive here after the last frame.
        """

    def on_command(self, command: Command, result: FrameResult) -> bool:
        """A command some sink returned, with the frame it came on: True when this sink took it
        (a rehearsal's GO key); otherwise the operator controls get it."""
        return False

    def on_command_result(self, command: Command, refusal: str | None) -> None:
        """What became of a command this sink returned from ``consume``: ``refusal`` None when it was carried
        out (by a sink's ``on_command`` or the operator controls), else why not (a remote panel answers with it)."""

    def idle(self, picture: np.ndarray, report: NoSignal) -> Command | None:
        """While the source is gone: the NO SIGNAL ``picture``; only Quit is taken meanwhile."""
        return None

    def close(self) -> None:
        """The run ended (also on Ctrl-C or an error): flush and release."""

    def __enter__(self) -> "Sink":
        return self

    def __exit__(self, *exc_info: object) -> None:
        """A sink is a context manager: leaving the block closes it, also on an error."""
        self.close()
