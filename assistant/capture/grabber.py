"""A capture thread that keeps only the newest frame.

Live sources must never queue: if the pipeline is slower than the camera,
old frames are dropped so what the operator sees is always the latest. The
consumer waits on a condition for a frame newer than the one it last took.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np


class LatestFrameGrabber:
    """Reads a cv2.VideoCapture-like object on a thread; ``next()`` returns the newest frame.

    ``capture_factory()`` returns an object with ``read() -> (ok, image)`` and
    ``release()``. When ``read`` fails the stream has ended (files) or broken
    (cameras); the grabber then stops and ``finished`` becomes True.
    """

    def __init__(self, capture_factory: Callable[[], Any], name: str = "capture",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._factory = capture_factory
        self._clock = clock
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, float] | None = None
        self._sequence = 0
        self._taken = 0
        self._stop = threading.Event()
        self._finished = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name=f"grabber:{name}", daemon=True)

    @property
    def finished(self) -> bool:
        return self._finished

    def start(self) -> None:
        self._thread.start()

    def next(self, timeout: float) -> tuple[np.ndarray, float] | None:
        """The newest frame not yet taken, waiting up to ``timeout`` s; None on timeout or end."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._sequence > self._taken or self._finished, timeout):
                return None
            if self._sequence == self._taken:
                return None
            self.dropped += self._sequence - self._taken - 1
            self._taken = self._sequence
            return self._latest

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)

    def _run(self) -> None:
        capture = self._factory()
        try:
            while not self._stop.is_set():
                ok, image = capture.read()
                if not ok or image is None:
                    break
                stamped = (image, self._clock())
                with self._cond:
                    self._latest = stamped
                    self._sequence += 1
                    self._cond.notify_all()
        finally:
            capture.release()
            with self._cond:
                self._finished = True
                self._cond.notify_all()
