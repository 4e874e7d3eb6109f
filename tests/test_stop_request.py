"""Ctrl-C and SIGTERM end a run between frames: never inside a MediaPipe call, never inside a frame."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from assistant.live import LiveOptions, build_pipeline
from assistant.sim.assets import AssetLibrary
from assistant.sink import FrameResult, Sink
from assistant.stop_request import StopRequest
from assistant.vision.faces import MediaPipeFaceDetector


def raise_interrupt(number, frame):
    raise KeyboardInterrupt


@pytest.fixture
def sigterm_raises():
    """SIGTERM handled the way the command line does (it raises), restored afterwards."""
    previous = signal.signal(signal.SIGTERM, raise_interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


def send_soon(number: int, delay_s: float = 0.001) -> threading.Thread:
    sender = threading.Thread(target=lambda: (time.sleep(delay_s), os.kill(os.getpid(), number)))
    sender.start()
    return sender


def photograph(name: str) -> np.ndarray:
    rgba = AssetLibrary().get(name).rgba
    return np.clip(rgba[..., :3] / np.maximum(rgba[..., 3:], 1e-3), 0, 255).astype(np.uint8)


def test_a_signal_during_a_detection_lets_the_detection_finish():
    # The cause of a segmentation fault on SIGTERM: MediaPipe runs the native call on its own thread, and an
    # interrupt raised in the waiting main thread freed the picture under it.
    detector = MediaPipeFaceDetector("short")
    image = photograph("grace_hopper")
    region = (0, 0, image.shape[1], image.shape[0])
    quiet = detector.detect(image, region)
    try:
        with StopRequest() as stop:
            sender = send_soon(signal.SIGINT)
            found = detector.detect(image, region)
            sender.join()  # the signal has come by now; raising it would have left this block before here
            finished = True
    finally:
        detector.close()
    assert finished and stop.requested == "SIGINT"
    assert [d.box for d in found] == [d.box for d in quiet] and len(found) == 1


def test_handlers_are_put_back_and_ignored_signals_stay_ignored(sigterm_raises):
    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a batch worker's choice
    try:
        with StopRequest() as stop:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not raise_interrupt
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            assert stop.requested is None
        assert signal.getsignal(signal.SIGTERM) is raise_interrupt
    finally:
        signal.signal(signal.SIGINT, previous_int)


def test_a_second_ctrl_c_raises_and_a_second_sigterm_is_ignored(sigterm_raises):
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)  # a supervisor's repeat must not cut the shutdown short
        assert stop.requested == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # the operator insists: the way out of a loop that hangs
            time.sleep(1.0)


def test_outside_the_main_thread_nothing_is_taken_over(sigterm_raises):
    seen = []
    worker = threading.Thread(target=lambda: seen.append(StopRequest().__enter__()._previous))
    worker.start()
    worker.join()
    assert seen == [{}] and signal.getsignal(signal.SIGTERM) is raise_interrupt


class SignalOnFrame(Sink):
    """Sends ``signals`` to this process while consuming frame ``at``; notes how far that frame got."""

    def __init__(self, at: int, *signals: int) -> None:
        self.at, self.signals = at, signals
        self.frames: list[int] = []
        self.finished_the_frame = False
        self.closed = False

    def consume(self, result: FrameResult) -> None:
        self.frames.append(result.frame.index)
        if result.frame.index == self.at:
            for number in self.signals:
                os.kill(os.getpid(), number)
            self.finished_the_frame = True

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_the_pipeline_stops_after_the_frame_the_signal_came_in(sigterm_raises, number):
    pipeline = build_pipeline(LiveOptions(source="sim", analyze=True), with_sinks=False)
    sink = SignalOnFrame(12, number)
    pipeline.add_sink(sink)
    summary = pipeline.run()
    assert sink.finished_the_frame and sink.frames == list(range(13)) and sink.closed
    assert summary.frames == 13 and summary.stopped_by == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is raise_interrupt
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_still_stops_a_pipeline_and_closes_it():
    pipeline = build_pipeline(LiveOptions(source="sim", analyze=True), with_sinks=False)
    sink = SignalOnFrame(5, signal.SIGINT, signal.SIGINT)
    pipeline.add_sink(sink)
    summary = pipeline.run()
    assert not sink.finished_the_frame and sink.closed
    assert summary.stopped_by == "interrupted" and summary.frames == 6
