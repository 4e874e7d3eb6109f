"""Unit tests for the real-time pacer and the outage log, on fake clocks (no sleeping)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.outage import OutageLog
from assistant.pipeline import RealTimePacer
from assistant.types import Frame, NoSignal


class FakeClock:
    """A clock that only moves when told to (or when the pacer sleeps on it)."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_holds_each_frame_to_its_media_time():
    clock = FakeClock()
    pacer = RealTimePacer(clock, clock.sleep)
    for t in (0.0, 1 / 30, 2 / 30, 3 / 30):
        pacer.wait(t)
        assert clock.now == pytest.approx(100.0 + t)
    assert clock.slept == pytest.approx([1 / 30] * 3)


def test_the_pacer_never_sleeps_when_the_machine_is_slow_and_restarts_when_far_behind():
    clock = FakeClock()
    pacer = RealTimePacer(clock, clock.sleep, max_lag_s=0.5)
    pacer.wait(0.0)
    clock.now += 0.2  # processing took longer than a frame: no sleep, the next frame is late already
    pacer.wait(0.1)
    assert clock.slept == []
    clock.now += 2.0  # a stall: 2 s behind, more than max_lag, so media time restarts from now
    pacer.wait(0.2)
    pacer.wait(0.3)
    assert clock.slept == pytest.approx([0.1])  # paced again from the restart, not racing to catch up


def frame(t: float, index: int) -> Frame:
    return Frame(np.zeros((4, 4, 3), np.uint8), t, index)


def test_an_outage_is_one_event_when_it_starts_and_one_spanning_it_when_the_signal_is_back():
    log = OutageLog()
    assert log.restored(frame(1.0, 30)) == []  # frames flowing: nothing to say
    first = log.lost(NoSignal("camera:0", t=3.0, silent_s=2.0, reconnects=0, reason="unplugged"), last_frame=30)
    assert [(e.type, e.start, e.frame_start) for e in first] == [("outage", 3.0, 30)]
    assert "no signal from camera:0 for 2.0 s: unplugged" == first[0].detail
    assert log.lost(NoSignal("camera:0", t=4.0, silent_s=3.0, reconnects=2), last_frame=30) == []  # same outage
    back = log.restored(frame(5.5, 31))
    assert len(back) == 1
    event = back[0]
    assert (event.start, event.end, event.frame_start, event.frame_end) == (1.0, 5.5, 30, 31)
    assert event.detail == "signal back from camera:0 after 4.5 s (2 reconnects)"
    assert log.restored(frame(5.6, 32)) == []  # over: the next frame is ordinary


def test_a_run_that_stops_during_an_outage_closes_it_at_the_last_report():
    log = OutageLog()
    assert log.ended() == []
    log.lost(NoSignal("rtsp://cam", t=10.0, silent_s=1.0), last_frame=299)
    log.lost(NoSignal("rtsp://cam", t=14.0, silent_s=5.0, reconnects=3), last_frame=299)
    (event,) = log.ended()
    assert (event.start, event.end, event.frame_start) == (9.0, 14.0, 299)
    assert event.detail == "no signal from rtsp://cam until the run stopped, 5.0 s (3 reconnects)"
    assert log.ended() == []
