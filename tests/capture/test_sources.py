"""Frame sources: real video files through OpenCV, the newest-frame grabber, plugins."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from assistant.capture.grabber import LatestFrameGrabber
from assistant.capture.sources import GrabbedSource, VideoFileSource, as_bgr, open_source
from assistant.config import Config
from assistant.errors import SourceError
from assistant.types import NoSignal


def write_clip(path, frames=12, fps=24.0, size=(160, 96)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    for i in range(frames):
        image = np.full((size[1], size[0], 3), 20 * (i % 12), np.uint8)
        cv2.putText(image, str(i), (10, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
        writer.write(image)
    writer.release()
    return path


def test_video_file_delivers_every_frame_with_media_time(tmp_path):
    source = open_source(str(write_clip(tmp_path / "clip.mp4")), Config())
    assert isinstance(source, VideoFileSource) and not source.live
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    assert [f.index for f in frames] == list(range(12))
    assert [f.t for f in frames] == pytest.approx([i / 24.0 for i in range(12)])
    assert frames[0].image.shape == (96, 160, 3)


def test_missing_and_non_video_files_are_user_errors(tmp_path):
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "nope.mp4"), Config())
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(SourceError, match="cannot open as a video"):
        open_source(str(text), Config())


class FakeCamera:
    """Shaped like cv2.VideoCapture on a USB camera: read() blocks for one frame period."""

    def __init__(self, period=0.005, frames=None, stall_after=None):
        self.period, self.limit, self.stall_after = period, frames, stall_after
        self.count = 0
        self.released = threading.Event()

    def isOpened(self):
        return True

    def get(self, prop):
        return 1.0 / self.period if prop == cv2.CAP_PROP_FPS else 0.0

    def set(self, prop, value):
        return True

    def read(self):
        if self.stall_after is not None and self.count >= self.stall_after:
            time.sleep(10)
        time.sleep(self.period)
        if self.limit is not None and self.count >= self.limit:
            return False, None
        self.count += 1
        return True, np.full((8, 8, 3), self.count % 256, np.uint8)

    def release(self):
        self.released.set()


def test_grabber_keeps_only_the_newest_frame():
    camera = FakeCamera(period=0.002)
    grabber = LatestFrameGrabber(lambda: camera)
    grabber.start()
    first = grabber.next(timeout=1.0)
    time.sleep(0.1)  # a slow consumer: ~50 frames arrive meanwhile
    second = grabber.next(timeout=1.0)
    grabber.stop()
    assert first is not None and second is not None
    assert int(second[0][0, 0, 0]) - int(first[0][0, 0, 0]) > 10
    assert grabber.dropped > 10
    assert camera.released.is_set()


def test_grabbed_source_ends_when_the_stream_ends_and_times_frames_from_capture():
    source = GrabbedSource(lambda: FakeCamera(period=0.01, frames=5), "fake", 100.0, watchdog_s=1.0, reconnect=False)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    source.close()
    assert 1 <= len(frames) <= 5
    assert frames[0].t == 0.0
    assert all(b.t > a.t for a, b in zip(frames, frames[1:]))


def test_a_stalled_camera_reports_no_signal_after_the_watchdog_instead_of_hanging():
    source = GrabbedSource(lambda: FakeCamera(period=0.001, stall_after=2), "stuck", 30.0, watchdog_s=0.3)
    source.read()
    started = time.monotonic()
    while not isinstance(report := source.read(), NoSignal):
        pass
    assert time.monotonic() - started < 1.5
    assert report.source == "stuck" and report.silent_s >= 0.3
    source._grabber._stop.set()  # the fake's read() sleeps on; the daemon thread is left to finish


@pytest.mark.parametrize(
    "image, shape",
    [
        (np.zeros((4, 6), np.uint8), (4, 6, 3)),
        (np.zeros((4, 6, 4), np.uint8), (4, 6, 3)),
        (np.full((4, 6, 3), 65535, np.uint16), (4, 6, 3)),
    ],
)
def test_grey_alpha_and_16_bit_frames_become_bgr(image, shape):
    out = as_bgr(image, "t")
    assert out.shape == shape and out.dtype == np.uint8


def test_unsupported_frames_are_reported():
    with pytest.raises(SourceError, match="float32"):
        as_bgr(np.zeros((4, 4, 3), np.float32), "t")
    with pytest.raises(SourceError, match="empty"):
        as_bgr(np.zeros((0, 4, 3), np.uint8), "t")


class CountingSource:
    fps = 10.0
    live = False

    def __init__(self):
        self.n = 0
        self.closed = False

    def read(self):
        self.n += 1
        if self.n > 3:
            return None
        return np.zeros((32, 48, 3), np.uint8), self.n * 0.5

    def close(self):
        self.closed = True


def make_counting_source():
    return CountingSource()


def test_plugin_source_by_module_and_factory():
    source = open_source("tests.capture.test_sources:make_counting_source", Config())
    frames = [source.read() for _ in range(4)]
    assert [f.t for f in frames[:3]] == [0.5, 1.0, 1.5] and frames[3] is None
    assert source.live is False and source.fps == 10.0
    source.close()


def test_plugin_that_cannot_be_imported_is_a_user_error():
    with pytest.raises(SourceError, match="cannot import module 'no_such_module'"):
        open_source("no_such_module:factory", Config())
