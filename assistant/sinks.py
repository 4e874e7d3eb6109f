"""Pipeline outputs: recording, events and tracks files, the headless status line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from assistant.pipeline import Command, FrameResult
from assistant.report.logs import JsonLinesWriter, event_record, track_record
from assistant.ui.overlay import format_distance
from assistant.ui.recorder import VideoRecorder


class RecorderSink:
    """``--record OUT.mp4``: the annotated picture at the source frame rate."""

    def __init__(self, path: Path, fps: float) -> None:
        self.recorder = VideoRecorder(path, fps)

    def consume(self, result: FrameResult) -> Command | None:
        self.recorder.write(result.annotated)
        return None

    def close(self) -> None:
        self.recorder.close()


class EventsSink:
    """``--events OUT.jsonl``: one line per labelled event, flushed as it happens."""

    def __init__(self, path: Path) -> None:
        self.writer = JsonLinesWriter(path)

    def consume(self, result: FrameResult) -> Command | None:
        for event in result.events:
            self.writer.write(event_record(event))
        return None

    def close(self) -> None:
        self.writer.close()


class TracksSink:
    """``--tracks OUT.jsonl``: one line per frame with focus and subjects."""

    def __init__(self, path: Path) -> None:
        self.writer = JsonLinesWriter(path)

    def consume(self, result: FrameResult) -> Command | None:
        frame = result.frame
        self.writer.write(track_record(frame.index, frame.t, result.focus_m, result.subjects))
        return None

    def close(self) -> None:
        self.writer.close()


class StatusPrinter:
    """The headless status line: rewritten in place on a terminal, else one line every ``every_s``."""

    def __init__(self, stream: TextIO = sys.stderr, every_s: float = 1.0, tty: bool | None = None) -> None:
        self.stream = stream
        self.every_s = every_s
        self.tty = stream.isatty() if tty is None else tty
        self._next_t = 0.0
        self._dirty = False

    def consume(self, result: FrameResult) -> Command | None:
        status = result.status
        interval = 0.1 if self.tty else self.every_s
        if status.t + 1e-9 < self._next_t:
            return None
        self._next_t = status.t + interval
        (row, col) = result.sharpness.sharpest_tile()
        fps = f"{status.fps:5.1f} fps" if status.fps is not None else "  --- fps"
        line = (f"{status.source}  t={status.t:7.2f}s  frame {status.frame:6d}  {fps}  "
                f"focus {format_distance(status.focus_m):>7}  sharpest tile r{row}c{col}")
        if self.tty:
            self.stream.write("\r" + line)
            self._dirty = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        return None

    def close(self) -> None:
        if self._dirty:
            self.stream.write("\n")
            self.stream.flush()
