"""Fault injection on a live source: stalls, errors, empty frames and an unplug.

The camera is a fake shaped like OpenCV's V4L2 capture (this machine has no
camera): ``read()`` returns (ok, image), a stalled device returns
(False, None) when V4L2's select timeout expires, a pulled cable makes reads
fail and reopening fail until it is plugged back.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.capture.sources import GrabbedSource
from assistant.commands import Quit
from assistant.controls import OperatorControls
from assistant.pipeline import Pipeline
from assistant.sink import Sink
from assistant.sinks import EventsSink
from assistant.types import NoSignal
from assistant.ui.overlay import OverlayStyle
from assistant.ui.presenter import OverlayPresenter
from assistant.vision.sharpness import SharpnessMeter


class Device:
    """The camera on the far end of the cable; the test changes its state while the run goes on."""

    def __init__(self) -> None:
        self.state = "ok"  # ok | stall | raise | empty | unplugged
        self.opens = 0
        self.lock = threading.Lock()

    def open(self) -> "FakeCapture":
        with self.lock:
            if self.state == "unplugged":
                raise OSError("No such device")
            self.opens += 1
        return FakeCapture(self)


class FakeCapture:
    def __init__(self, device: Device) -> None:
        self.device = device
        self.count = 0

    def isOpened(self) -> bool:
        return True

    def get(self, prop):
        return 0.0

    def set(self, prop, value):
        return True

    def read(self):
        time.sleep(1 / 100)
        state = self.device.state
        if state == "stall":
            time.sleep(0.4)  # V4L2's select timeout, then the read fails
            return False, None
        if state == "raise":
            raise RuntimeError("VIDIOC_DQBUF: No such device")
        if state == "empty":
            return True, np.zeros((0, 0, 3), np.uint8)
        if state == "unplugged":
            return False, None
        self.count += 1
        image = np.random.default_rng(self.count).integers(0, 255, (90, 160, 3), np.uint8)
        return True, image

    def release(self) -> None:
        pass


class Watch(Sink):
    """Records what the loop did: frames shown, NO SIGNAL screens shown."""

    def __init__(self) -> None:
        self.frames: list[float] = []
        self.idles: list[NoSignal] = []
        self.picture_shape = None

    def consume(self, result):
        self.frames.append(result.frame.t)

    def idle(self, picture, report):
        self.idles.append(report)
        self.picture_shape = picture.shape


def pipeline_on(source: GrabbedSource, sinks: list[Sink], max_frames: int) -> Pipeline:
    """The pipeline with only the sharpness stage, presented as in a live run."""
    controls = OperatorControls(OverlayStyle())
    return Pipeline(source, SharpnessMeter((3, 4)), sinks, OverlayPresenter(controls), controls, max_frames=max_frames)


@pytest.mark.parametrize("fault", ["stall", "raise", "empty", "unplugged"])
def test_the_loop_survives_each_fault_shows_no_signal_and_logs_the_outage(tmp_path: Path, fault: str):
    device = Device()
    source = GrabbedSource(device.open, "camera:fake", 100.0, watchdog_s=0.3)
    watch = Watch()
    events_path = tmp_path / "events.jsonl"
    pipeline = pipeline_on(source, [EventsSink(events_path), watch], max_frames=150)

    def script() -> None:  # 0.4 s fine, 1.2 s of the fault, then fine again
        time.sleep(0.4)
        device.state = fault
        time.sleep(1.2)
        device.state = "ok"

    threading.Thread(target=script, daemon=True).start()
    started = time.monotonic()
    summary = pipeline.run()
    assert summary.stopped_by == "max frames" and summary.frames == 150
    assert time.monotonic() - started < 10
    assert watch.idles, "NO SIGNAL was never shown"
    assert watch.picture_shape == (90, 160, 3)  # the NO SIGNAL screen at the feed's size
    assert all(b > a for a, b in zip(watch.frames, watch.frames[1:]))  # media time strictly increasing
    gap = max(b - a for a, b in zip(watch.frames, watch.frames[1:]))
    assert gap > 1.0  # the outage is in the media time too
    outages = [json.loads(line) for line in events_path.read_text().splitlines()]
    outages = [e for e in outages if e["type"] == "outage"]
    assert len(outages) == 2
    lost, back = outages
    assert lost["detail"].startswith("no signal from camera:fake") and lost["start"] == lost["end"]
    assert back["detail"].startswith("signal back from camera:fake") and back["end"] - back["start"] > 1.0
    if fault in ("stall", "raise", "unplugged"):
        assert device.opens >= 2 and source._grabber.reconnects >= 1  # reopened, settings applied again
    else:
        assert source._grabber.bad_frames > 10 and device.opens == 1  # empty frames skipped, no reopen needed


def test_no_signal_is_reported_within_the_watchdog_and_then_polled(tmp_path: Path):
    device = Device()
    source = GrabbedSource(device.open, "camera:fake", 100.0, watchdog_s=0.3)
    assert source.read() is not None
    device.state = "unplugged"
    started = time.monotonic()
    report = source.read()
    while not isinstance(report, NoSignal):
        report = source.read()
    assert 0.25 < time.monotonic() - started < 0.8
    polled = time.monotonic()
    assert isinstance(source.read(), NoSignal)
    assert time.monotonic() - polled < 0.3  # later reads return quickly: the window stays responsive
    device.state = "ok"
    deadline = time.monotonic() + 5
    while isinstance(report := source.read(), NoSignal) and time.monotonic() < deadline:
        pass
    assert report is not None and not isinstance(report, NoSignal)
    source.close()


def test_quitting_during_an_outage_still_closes_it_in_the_log(tmp_path: Path):
    device = Device()
    source = GrabbedSource(device.open, "camera:fake", 100.0, watchdog_s=0.2)

    class QuitAfterThreeScreens(Watch):
        def idle(self, picture, report):
            super().idle(picture, report)
            return Quit() if len(self.idles) == 3 else None

    watch = QuitAfterThreeScreens()
    events_path = tmp_path / "events.jsonl"
    pipeline = pipeline_on(source, [EventsSink(events_path), watch], max_frames=10_000)
    threading.Timer(0.3, lambda: setattr(device, "state", "unplugged")).start()
    summary = pipeline.run()
    assert summary.stopped_by == "quit"
    outages = [json.loads(line) for line in events_path.read_text().splitlines()]
    assert [e["detail"].split(" ")[0:3] for e in outages] == [["no", "signal", "from"], ["no", "signal", "from"]]
    assert "until the run stopped" in outages[1]["detail"] and outages[1]["end"] > outages[1]["start"]
    assert not source._grabber._thread.is_alive()  # closed: the capture thread has let go of the device
