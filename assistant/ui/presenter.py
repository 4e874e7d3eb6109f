"""The live view's presenter: each frame's analysis becomes the status and, when wanted, the annotated picture.

The pipeline analyses; this decides what is said and shown about it. It
keeps the event ticker (labelled events, racks under way, cuts, refused
commands, each driver or detector warning once), writes the status bar's
words, and draws the overlay exactly once per frame, only when some sink
shows or stores the picture. Every sink then gets the same
:class:`~assistant.sink.FrameResult`.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from assistant.sink import DriverState, FrameAnalysis, FrameResult, Status
from assistant.types import Event, NoSignal, Subject
from assistant.ui.overlay import OverlayStyle, draw, no_signal_screen

TICKER_LINES = 4


class View(Protocol):
    """Where the overlay elements on now are kept (``assistant.controls.OperatorControls``: the keys toggle them)."""

    @property
    def style(self) -> OverlayStyle: ...


class OverlayPresenter:
    """Status, ticker and overlay for the window, the recording and the status line."""

    def __init__(self, view: View, recording: bool = False) -> None:
        self.view = view
        self.recording = recording
        self._ticker: deque[str] = deque(maxlen=TICKER_LINES)
        self._warnings_shown: set[str] = set()

    @property
    def style(self) -> OverlayStyle:
        """The overlay elements on now (the config's, as toggled by the operator)."""
        return self.view.style

    def present(self, analysis: FrameAnalysis, picture: bool, sound: bool) -> FrameResult:
        """The frame's status, and its annotated picture when ``picture`` (else the camera's own).

        ``sound``: some sink plays sound, so the status bar says whether it is on or muted.
        """
        t = analysis.frame.t
        if analysis.cut:
            self._ticker.append(f"{t:7.2f}s  cut to a new shot")
        self._ticker.extend(f"{p.start:7.2f}s  rack {p.who()} under way" for p in analysis.provisional)
        for warning in analysis.warnings:
            if warning not in self._warnings_shown:  # each driver or detector warning once, on screen
                self._warnings_shown.add(warning)
                self._ticker.append(f"! {warning}")
        guidance = analysis.guidance
        target = guidance.target_id if guidance is not None else None
        status = Status(
            source=analysis.source, t=t, frame=analysis.frame.index, fps=analysis.fps,
            latency_ms=analysis.latency_ms, focus_m=analysis.focus_m, recording=self.recording,
            note=guidance.text() if guidance is not None else "", mode=analysis.mode,
            target=target_name(analysis.subjects, target), audio=(not analysis.muted) if sound else None,
            driver=driver_words(analysis.driver), ticker=tuple(self._ticker),
        )
        annotated = analysis.frame.image
        if picture:
            advice = None
            if guidance is not None and guidance.direction in ("nearer", "farther") and guidance.delta_m is not None:
                advice = (guidance.direction, guidance.delta_m)
            annotated = draw(analysis.frame.image, analysis.sharpness, status, self.style, analysis.subjects,
                             target, advice)
        return FrameResult.of(analysis, annotated, status)

    def no_signal(self, size: tuple[int, int], report: NoSignal) -> np.ndarray:
        """The picture shown while the source is gone, at the feed's last ``size`` (width, height)."""
        return no_signal_screen(*size, report.source, report.silent_s)

    def on_event(self, event: Event) -> None:
        """A labelled event completed: onto the ticker."""
        self._ticker.append(ticker_line(event))

    def on_followed_rack(self, event: Event) -> None:
        """Suggest mode followed the operator's rack: its destination is the target now."""
        self._ticker.append(f"{event.end:7.2f}s  you racked to #{event.to_id}: it is the target now")

    def on_refused(self, why: str) -> None:
        """An operator command could not be carried out: why, on the ticker."""
        self._ticker.append(f"! {why}")


def ticker_line(event: Event) -> str:
    """One short line for the on-screen event ticker."""
    if event.detail:
        return f"{event.start:7.2f}s  {event.type}: {event.detail}"
    return f"{event.start:7.2f}s  {event.type} {event.who()} ({event.origin}, {event.end - event.start:.1f} s)"


def target_name(subjects: tuple[Subject, ...], target_id: int | None) -> str:
    """The status bar's name for the target: "A #1", or "#1" for a subject without a label."""
    if target_id is None:
        return ""
    subject = next((s for s in subjects if s.id == target_id), None)
    return f"{subject.label} #{target_id}" if subject is not None and subject.label else f"#{target_id}"


def driver_words(driver: DriverState | None) -> str:
    """The status bar's word on the driver: its name, STOPPED or the fault."""
    if driver is None:
        return ""
    if driver.fault:
        return f"DRIVER FAULT: {driver.fault}"
    if driver.stopped:
        return "driver STOPPED (e re-engages)"
    return f"driver {driver.description}"
