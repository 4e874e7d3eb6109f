"""Pipeline outputs: recording, events and tracks files, the headless status line."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from assistant.sink import Command, FrameResult, Sink
from assistant.types import Event, NoSignal, SharpnessMap
from assistant.report.logs import JsonLinesWriter, track_record
from assistant.ui.overlay import format_distance
from assistant.ui.recorder import VideoRecorder


class RecorderSink(Sink):
    """``--record OUT.mp4`` (the annotated picture) or ``--record-clean OUT.mp4`` (the camera's own),
    at the source frame rate."""

    def __init__(self, path: Path, fps: float, clean: bool = False) -> None:
        self.clean = clean
        self.wants_picture = not clean
        self.recorder = VideoRecorder(path, fps, annotated=not clean)

    def consume(self, result: FrameResult) -> Command | None:
        self.recorder.write(result.frame.image if self.clean else result.annotated)
        return None

    def close(self) -> None:
        self.recorder.close()


class EventsSink(Sink):
    """``--events OUT.jsonl``: one line per labelled event, flushed as it happens."""

    def __init__(self, path: Path) -> None:
        self.writer = JsonLinesWriter(path)

    def consume(self, result: FrameResult) -> Command | None:
        return None

    def on_event(self, event: Event) -> None:
        self.writer.write(event.to_json())

    def close(self) -> None:
        self.writer.close()


class TracksSink(Sink):
    """``--tracks OUT.jsonl``: one line per frame with focus and subjects."""

    def __init__(self, path: Path) -> None:
        self.writer = JsonLinesWriter(path)

    def consume(self, result: FrameResult) -> Command | None:
        frame = result.frame
        self.writer.write(track_record(frame.index, frame.t, result.focus_m, result.subjects))
        return None

    def close(self) -> None:
        self.writer.close()


def sharpest_area(sharpness: SharpnessMap) -> str:
    """Where the sharpest tile lies, in words an operator uses: "top left", "centre", "bottom right"."""
    row, col = sharpness.sharpest_tile()
    rows, cols = sharpness.grid
    vertical = ("top", "middle", "bottom")[min(2, 3 * row // rows)]
    horizontal = ("left", "centre", "right")[min(2, 3 * col // cols)]
    if vertical == "middle":
        return "centre" if horizontal == "centre" else f"{horizontal} of centre"
    return f"{vertical} {horizontal}" if horizontal != "centre" else vertical


class StatusPrinter(Sink):
    """The headless status line: rewritten in place on a terminal, else one line every ``every_s``."""

    def __init__(self, stream: TextIO | None = None, every_s: float = 1.0, tty: bool | None = None) -> None:
        stream = stream or sys.stderr
        self.stream = stream
        self.every_s = every_s
        self.tty = stream.isatty() if tty is None else tty
        self._next_t = 0.0
        self._dirty = False
        self._width = 0

    def consume(self, result: FrameResult) -> Command | None:
        status = result.status
        interval = 0.1 if self.tty else self.every_s
        if status.t + 1e-9 < self._next_t:
            return None
        self._next_t = status.t + interval
        fps = f"{status.fps:5.1f} fps" if status.fps is not None else "  --- fps"
        line = (f"{status.source}  t={status.t:7.2f}s  frame {status.frame:6d}  {fps}  "
                f"focus {format_distance(status.focus_m):>7}  sharpest at {sharpest_area(result.sharpness)}")
        if status.note:
            line += f"  | {status.note}"
        self._write(line)
        return None

    def idle(self, picture: np.ndarray, report: NoSignal) -> Command | None:
        """While the source is gone: say so, once per interval."""
        if report.t + 1e-9 < self._next_t:
            return None
        self._next_t = report.t + (0.1 if self.tty else self.every_s)
        self._write(f"{report.source}  t={report.t:7.2f}s  NO SIGNAL for {report.silent_s:4.1f} s, "
                    f"reconnecting ({report.reconnects} reconnects so far)")
        return None

    def _write(self, line: str) -> None:
        if self.tty:  # pad over a longer previous line
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
            self._dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._dirty:
            self.stream.write("\n")
            self.stream.flush()


class ProgressBar(Sink):
    """``analyze`` on a terminal: a bar with frames, speed and time left (silent when piped)."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None, total: int | None = None, tty: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        stream = stream or sys.stderr
        self.stream = stream
        self.total = total if total and total > 0 else None
        self.tty = stream.isatty() if tty is None else tty
        self._clock = clock
        self._started = clock()
        self._last_draw = -1.0
        self.frames = 0

    def consume(self, result: FrameResult) -> Command | None:
        self.frames += 1
        now = self._clock()
        if self.tty and now - self._last_draw >= 0.1:
            self._last_draw = now
            self.stream.write("\r" + self.line(now))
            self.stream.flush()
        return None

    def line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self.frames / elapsed
        if self.total is None:
            return f"{self.frames} frames  {rate:6.1f} fps"
        share = min(1.0, self.frames / self.total)
        filled = int(share * self.WIDTH)
        left = (self.total - self.frames) / rate if rate > 0 else 0.0
        return (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share * 100:5.1f}%  "
                f"{self.frames}/{self.total} frames  {rate:6.1f} fps  {left:5.1f} s left")

    def close(self) -> None:
        if self.tty and self.frames:
            self.stream.write("\r" + self.line(self._clock()) + "\n")
            self.stream.flush()
