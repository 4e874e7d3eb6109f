"""Frame sources behind one small interface, and ``open_source`` to pick one.

Every source has ``read() -> Frame | None`` (None = end of stream), ``fps``,
``live`` (True: frames arrive in real time and stale ones are dropped; False:
every frame is delivered, like a file), ``description`` and ``close()``.

- ``sim`` (default): the virtual rig, see :mod:`assistant.sim.source`;
- a camera index (``0``) or device path (``/dev/video0``): a threaded grabber;
- a URL (``rtsp://``, ``http://``...): a threaded grabber over FFmpeg;
- a video file: every frame, timestamped ``index / fps``;
- ``module:factory``: a plugin object following DESIGN.md's duck-typed contract.
"""

from __future__ import annotations

import math
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from assistant.capture.camera import camera_factory, describe_format, request_format, stream_factory
from assistant.capture.grabber import LatestFrameGrabber
from assistant.config import Config
from assistant.errors import SourceError, SourceNotFound, UnreadableVideo
from assistant.plugins import PLUGIN_SPEC, make_plugin
from assistant.types import Frame, FrameSource, NoSignal
from assistant.native_quiet import native_stderr_silenced

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg", ".mxf", ".ts", ".wmv"}


class VideoFileSource:
    """Reads every frame of a video file with its media time ``index / fps``."""

    live = False

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.description = f"file:{self.path.name}"
        self._capture = _quietly_opened(lambda: cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG))
        if not self._capture.isOpened():
            raise UnreadableVideo(f"{self.path}: cannot open as a video; check that it is a video file OpenCV's FFmpeg can read")
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            raise SourceError(f"{self.path}: the frame rate is unknown; re-encode the clip with a fixed frame rate")
        self.fps = fps
        self.frame_count = max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        self._index = 0

    def read(self) -> Frame | None:
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        frame = Frame(as_bgr(image, self.description), self._index / self.fps, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        self._capture.release()


NO_SIGNAL_POLL_S = 0.1
"""During an outage, how long each read waits for the feed to come back (keeps the window responsive)."""


class GrabbedSource:
    """A live camera or stream: a capture thread keeps only the newest frame.

    Timestamps are seconds since the first frame, taken when each frame was
    captured, so a slow consumer sees real time pass rather than a backlog,
    and frames after a reconnect carry on from the real time of the outage.
    After ``watchdog_s`` without a frame, ``read()`` returns :class:`NoSignal`
    (then every ``NO_SIGNAL_POLL_S``) while the grabber reconnects.
    """

    live = True

    def __init__(self, capture_factory: Any, description: str, fps: float, watchdog_s: float,
                 reconnect: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.description = description
        self.fps = fps
        self.watchdog_s = watchdog_s
        self._clock = clock
        self._grabber = LatestFrameGrabber(capture_factory, name=description, clock=clock, reconnect=reconnect)
        self._grabber.start()
        self._index = 0
        self._t0: float | None = None
        self._last_frame_at = clock()
        self._silent = False
        self.format = ""  # what the device delivers, e.g. "1280x720 MJPG 30 fps"

    def read(self) -> Frame | NoSignal | None:
        grabbed = self._grabber.next(timeout=NO_SIGNAL_POLL_S if self._silent else self.watchdog_s)
        if grabbed is None:
            if self._grabber.finished:
                return None
            now = self._clock()
            self._silent = True
            t = 0.0 if self._t0 is None else now - self._t0
            return NoSignal(self.description, t, now - self._last_frame_at, self._grabber.reconnects,
                            self._grabber.last_error)
        image, captured_at = grabbed
        self._silent = False
        self._last_frame_at = self._clock()
        if self._t0 is None:
            self._t0 = captured_at
        frame = Frame(as_bgr(image, self.description), captured_at - self._t0, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        self._grabber.stop()


class PrefetchedSource:
    """Decodes ahead on a thread so decoding overlaps analysis (``analyze`` on a file).

    Keeps every frame in order (a bounded queue, so memory stays flat); an
    error in the reader thread is raised from ``read()``.
    """

    live = False

    def __init__(self, inner: FrameSource, depth: int = 8) -> None:
        self.inner = inner
        self.fps = inner.fps
        self.description = inner.description
        self.frame_count = getattr(inner, "frame_count", None)
        self._queue: queue.Queue[Frame | None | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"prefetch:{self.description}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.inner.read()
                self._put(frame)
                if frame is None:
                    return
        except BaseException as exc:  # handed to the reading thread
            self._put(exc)

    def _put(self, item: Frame | None | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self) -> Frame | None:
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise item
        if item is None:
            self._queue.put(None)  # later reads see the end too
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.inner.close()


class PluginSource:
    """Adapts a user's duck-typed source object (DESIGN.md) to :class:`FrameSource`."""

    def __init__(self, obj: Any, description: str) -> None:
        if not callable(getattr(obj, "read", None)):
            raise SourceError(f"{description}: the plugin object has no read() method; see 'Plugins' in the README")
        self._obj = obj
        self.description = description
        self.fps = float(getattr(obj, "fps", 30.0) or 30.0)
        self.live = bool(getattr(obj, "live", True))
        self._index = 0

    def read(self) -> Frame | None:
        item = self._obj.read()
        if item is None:
            return None
        if isinstance(item, tuple):
            if len(item) != 2:
                raise SourceError(f"{self.description}: read() returned a tuple of {len(item)}; return (array, t_seconds)")
            image, t = item
        else:
            image, t = item, self._index / self.fps
        frame = Frame(as_bgr(image, self.description), float(t), self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        close = getattr(self._obj, "close", None)
        if callable(close):
            close()


def as_bgr(image: Any, description: str) -> np.ndarray:
    """Bring what a source delivered to BGR uint8 (H, W, 3), or say what is wrong."""
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise SourceError(f"{description}: delivered an empty or non-array frame")
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise SourceError(f"{description}: frames of type {image.dtype} are not supported; deliver uint8 BGR")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise SourceError(f"{description}: frames of shape {image.shape} are not supported; deliver (H, W, 3) BGR")


CaptureWrapper = Callable[[Callable[[], Any]], Callable[[], Any]]
"""Wraps a camera's capture factory, so a focus driver sees every capture opened (``UvcFocusDriver.wrap_factory``)."""


def open_source(spec: str, config: Config, scene: Path | None = None,
                wrap_capture: CaptureWrapper | None = None) -> FrameSource:
    """Open the source named by ``spec`` (see the module docstring).

    ``wrap_capture`` applies to camera sources only (the UVC focus driver).
    """
    if spec == "sim":
        from assistant.sim.source import SimSource

        return SimSource.from_file(scene or Path(config.sim.scene))
    if spec.isdigit():
        return _grabbed(_wrapped(camera_factory(spec), wrap_capture), f"camera:{spec}", config, camera=True)
    if "://" in spec:
        return _grabbed(stream_factory(spec), f"stream:{spec}", config, camera=False)
    path = Path(spec)
    if path.exists():
        if stat.S_ISCHR(os.stat(path).st_mode):
            return _grabbed(_wrapped(camera_factory(str(path)), wrap_capture), f"camera:{path}", config, camera=True)
        if path.is_dir():
            raise SourceNotFound(f"{path}: is a directory")
        return VideoFileSource(path)
    if PLUGIN_SPEC.match(spec) and path.suffix.lower() not in VIDEO_SUFFIXES:
        return _plugin(spec)
    raise SourceNotFound(f"{spec}: no such file")  # the command adds what it accepts instead


def _quietly_opened(open_capture: Callable[[], Any]) -> Any:
    """Open a capture with file descriptor 2 pointed at /dev/null.

    On a user's mistake FFmpeg ("moov atom not found") and OpenCV's backends
    ("Camera index out of range") write to stderr before we can say what is
    wrong in one line. Only the open is silenced, and Python exceptions still
    raise. Call it on the caller's thread only: fd 2 is the whole process's.
    """
    with native_stderr_silenced():
        return open_capture()


def _wrapped(factory: Callable[[], Any], wrap: CaptureWrapper | None) -> Callable[[], Any]:
    return factory if wrap is None else wrap(factory)


def _grabbed(factory: Any, description: str, config: Config, camera: bool) -> GrabbedSource:
    """Open a capture now (so a bad device fails at once) and hand it to a reconnecting grabber thread.

    Every capture, first or reopened, gets the requested format (cameras).
    """

    def ready(capture: Any) -> Any:
        if not capture.isOpened():
            raise SourceError(f"{description}: cannot open; check it is connected and not in use ('focus-assistant devices' lists cameras)")
        if camera:
            request_format(capture, config.source)
        return capture

    capture = ready(_quietly_opened(factory))  # the user's first try: a mistake gets only our line
    delivered = describe_format(capture, config.source if camera else None)
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    first = [capture]

    def factory_once() -> Any:
        # Reopens run on the grabber thread, so they are not silenced (that would swallow other threads' stderr).
        return first.pop() if first else ready(factory())

    fps = fps if 0 < fps <= 1000 else config.source.fps
    source = GrabbedSource(factory_once, description, fps, config.source.watchdog_s)
    source.format = delivered
    return source


def _plugin(spec: str) -> PluginSource:
    return PluginSource(make_plugin(spec, "--source", SourceError), f"plugin:{spec}")
