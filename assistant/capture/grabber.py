"""A capture thread that keeps only the newest frame, and reconnects when the feed breaks.

Live sources must never queue: if the pipeline is slower than the camera,
old frames are dropped so what the operator sees is always the latest. The
consumer waits on a condition for a frame newer than the one it last took.

When a read fails — a cable pulled, a stream dropped — a live feed is
reopened through its factory with a growing pause between tries (0.25 s
doubling to ``max_backoff_s``), so the camera's format and focus settings are
applied again on the new capture. The consumer never blocks on any of this:
it sees no new frame and says so (``assistant.capture.sources.NoSignal``).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import numpy as np

FIRST_BACKOFF_S = 0.25
STOP_WAIT_S = 6.0
"""Longer than any read or open can block (V4L2 select 2 s, FFmpeg 5 s), so the capture is released on stop."""


class LatestFrameGrabber:
    """Reads a cv2.VideoCapture-like object on a thread; ``next()`` returns the newest frame.

    ``capture_factory()`` returns an object with ``read() -> (ok, image)``,
    ``release()`` and optionally ``isOpened()``, or raises when the device
    cannot be opened. With ``reconnect`` a failed read releases the capture
    and opens a new one; without it the stream has ended and ``finished``
    becomes True.
    """

    def __init__(self, capture_factory: Callable[[], Any], name: str = "capture",
                 clock: Callable[[], float] = time.monotonic, reconnect: bool = False,
                 max_backoff_s: float = 4.0) -> None:
        self._factory = capture_factory
        self._clock = clock
        self._reconnect = reconnect
        self._max_backoff_s = max_backoff_s
        self._cond = threading.Condition()
        self._latest: tuple[np.ndarray, float] | None = None
        self._sequence = 0
        self._taken = 0
        self._stop = threading.Event()
        self._finished = False
        self.dropped = 0
        self.reconnects = 0  # captures opened again after a break
        self.bad_frames = 0  # empty frames skipped
        self.last_error = ""
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
        """Stop and wait for the thread to release the capture (a blocked read ends within its timeout)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_S)

    def _run(self) -> None:
        backoff = FIRST_BACKOFF_S
        opened_before = False
        try:
            while not self._stop.is_set():
                capture = self._open()
                if capture is None:
                    if not self._reconnect:
                        return
                    self._stop.wait(backoff)
                    backoff = min(self._max_backoff_s, backoff * 2)
                    continue
                if opened_before:
                    self.reconnects += 1
                opened_before = True
                if self._stream(capture):
                    backoff = FIRST_BACKOFF_S  # it delivered: the next break starts the pauses afresh
                if not self._reconnect:
                    return
                self._stop.wait(backoff)
                backoff = min(self._max_backoff_s, backoff * 2)
        finally:
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _open(self) -> Any | None:
        try:
            capture = self._factory()
        except Exception as exc:  # noqa: BLE001 - a device that is gone: try again later
            self.last_error = str(exc)
            return None
        if capture is None or (hasattr(capture, "isOpened") and not capture.isOpened()):
            self.last_error = "the device did not open"
            return None
        return capture

    def _stream(self, capture: Any) -> bool:
        """Read until the capture fails or we are stopped; True if any frame came."""
        delivered = False
        try:
            while not self._stop.is_set():
                try:
                    ok, image = capture.read()
                except Exception as exc:  # noqa: BLE001 - a driver error is a broken feed, not a crash
                    self.last_error = str(exc)
                    return delivered
                if not ok or image is None:
                    self.last_error = "the feed stopped"
                    return delivered
                if getattr(image, "size", 0) == 0:  # an empty frame: a glitch, not a picture
                    self.bad_frames += 1
                    self._stop.wait(0.005)
                    continue
                delivered = True
                stamped = (image, self._clock())
                with self._cond:
                    self._latest = stamped
                    self._sequence += 1
                    self._cond.notify_all()
        finally:
            try:
                capture.release()
            except Exception:  # noqa: BLE001 - releasing a dead device may fail too
                pass
        return delivered
