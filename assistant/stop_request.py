"""Ctrl-C and SIGTERM during a run become a request the frame loop honours between frames.

Python raises ``KeyboardInterrupt`` at whatever line the main thread is on. MediaPipe 1.2 runs each
native call on a worker thread while the main thread waits for it, so an interrupt there abandons a
detection half-way: the image it reads is freed under it and the process dies of a segmentation fault
before the motor stops or the recording gets its trailer. Taking the signal as a request instead lets the
frame finish and the outputs close in order.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """While entered, SIGINT and SIGTERM set ``requested`` instead of raising.

    A second Ctrl-C raises ``KeyboardInterrupt`` as before: the way out of a loop that hangs. A second
    SIGTERM is ignored, so a supervisor's repeat cannot cut the shutdown short. Only signals that already
    run a Python handler are taken over: a process that ignores a signal (a batch worker) or dies of it
    keeps doing so. Outside the main thread (where Python cannot set handlers) nothing changes.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is not threading.main_thread():
            return self
        for number in STOP_SIGNALS:
            current = signal.getsignal(number)
            if callable(current):
                self._previous[number] = current
                signal.signal(number, self._on_signal)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def _on_signal(self, number: int, frame: FrameType | None) -> None:
        if self.requested is None:
            self.requested = signal.Signals(number).name
        elif number == signal.SIGINT:
            raise KeyboardInterrupt
