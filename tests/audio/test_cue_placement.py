"""``analyze --cue-track``: each cue at the event's own media time, however late the event was decided."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from assistant.audio.cues import AudioConfig, CueSink
from assistant.audio.player import SilentPlayer
from assistant.audio.synth import cue_buffers
from assistant.audio.track import CueTrack
from assistant.pipeline import EventListener
from assistant.types import Event
from tests.audio.test_track import RATE, onsets, read_wav

FPS = 30
WINDOW_S = 0.02


def event(type_: str, start: float, end: float) -> Event:
    return Event(type_, start, end, round(start * FPS), round(end * FPS), "observed", from_id=1, to_id=2)


def frame(t: float, events: tuple[Event, ...] = (), provisional: tuple[Event, ...] = ()) -> SimpleNamespace:
    """The parts of a ``FrameResult`` the cue sink reads."""
    return SimpleNamespace(frame=SimpleNamespace(t=t), events=events, muted=False, guidance=None, subjects=(),
                           provisional=provisional)


def run(tmp_path, deliveries: dict[float, list[Event]], last_frame: float, after_end: list[Event] = (),
        config: AudioConfig = AudioConfig(), place_at_event_time: bool = True, hold_back_s: float = 5.0):
    """Frames to ``last_frame`` as the pipeline hands them over: each event to ``on_event``, then the frame
    (carrying the same events); ``after_end`` completes after the last frame. Returns the sink and the WAV."""
    path = tmp_path / "cues.wav"
    sink = CueSink(SilentPlayer(), CueTrack(path, cue_buffers(RATE), RATE, hold_back_s), config,
                   place_at_event_time=place_at_event_time)
    assert isinstance(sink, EventListener)
    pending = dict(deliveries)
    for i in range(round(last_frame * FPS) + 1):
        t = i / FPS
        due = tuple(e for key in [k for k in pending if k <= t + 1e-9] for e in pending.pop(key))
        for e in due:
            sink.on_event(e)
        sink.consume(frame(t, due))
    for e in after_end:  # events.finish(): still before the sinks close
        sink.on_event(e)
    sink.close()
    return sink, read_wav(path)


def loud_windows(samples: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """Start times of the 20 ms windows whose RMS is above ``threshold``."""
    n = round(WINDOW_S * RATE)
    windows = samples[:len(samples) // n * n].reshape(-1, n)
    return np.flatnonzero(np.sqrt(np.mean(windows ** 2, axis=1)) > threshold) * WINDOW_S


def assert_sound_only_near(samples: np.ndarray, times: list[float], within: float = 0.3) -> None:
    loud = loud_windows(samples)
    for t in times:
        assert np.any(np.abs(loud - t) <= within), f"no cue near {t} s"
    stray = [w for w in loud if not any(t - within <= w and w + WINDOW_S <= t + within for t in times)]
    assert stray == [], f"sound away from every event: {stray}"


def test_a_rack_decided_late_sounds_at_its_start_and_end(tmp_path):
    rack = event("rack", 2.0, 3.0)
    sink, samples = run(tmp_path, {4.0: [rack]}, last_frame=6.0)
    assert sink.sounded == [(2.0, "rack_start"), (3.0, "rack_landed")]  # once each, though also in result.events
    assert_sound_only_near(samples, [2.0, 3.0])
    assert onsets(samples) == pytest.approx([2.0, 3.0], abs=0.002)
    assert len(samples) >= round(6.0 * RATE)


def test_an_event_completed_after_the_last_frame_still_sounds_at_its_times(tmp_path):
    last = event("rack", 5.3, 5.9)
    sink, samples = run(tmp_path, {4.0: [event("rack", 2.0, 3.0)]}, last_frame=6.0, after_end=[last])
    assert_sound_only_near(samples, [2.0, 3.0, 5.3, 5.9])
    assert onsets(samples) == pytest.approx([2.0, 3.0, 5.3, 5.9], abs=0.002)
    landed = len(cue_buffers(RATE)["rack_landed"])
    assert len(samples) == round(5.9 * RATE) + landed  # the last frame, and until the last cue has sounded


def test_a_soft_event_buzzes_from_its_start_every_repeat_until_its_end(tmp_path):
    config = AudioConfig(soft_repeat_s=0.75)
    sink, samples = run(tmp_path, {3.5: [event("soft", 1.0, 2.6)]}, last_frame=4.0, config=config)
    assert sink.sounded == [(1.0, "soft_buzz"), (1.75, "soft_buzz"), (2.5, "soft_buzz")]
    assert onsets(samples) == pytest.approx([1.0, 1.75, 2.5], abs=0.002)
    assert_sound_only_near(samples, [1.0, 1.75, 2.5])
    assert len(samples) >= round(4.0 * RATE)


def test_a_short_soft_event_buzzes_once(tmp_path):
    sink, _ = run(tmp_path, {1.0: [event("soft", 0.5, 0.6)]}, last_frame=2.0)
    assert sink.sounded == [(0.5, "soft_buzz")]


def test_pull_ticks_keep_their_minimum_interval_by_event_time(tmp_path):
    pulls = {1.5: [event("pull", 1.0, 1.4)], 2.0: [event("pull", 1.6, 1.9)], 3.5: [event("pull", 2.1, 3.0)],
             4.0: [event("pull", 0.5, 3.2)]}  # the last completes late but started 0.5 s before the first tick
    sink, samples = run(tmp_path, pulls, last_frame=5.0, config=AudioConfig(pull_min_interval_s=1.0))
    assert sink.sounded == [(1.0, "pull_tick"), (2.1, "pull_tick")]
    assert onsets(samples) == pytest.approx([1.0, 2.1], abs=0.002)


def test_mode_and_fault_cues_sound_at_the_event_start_and_outages_are_silent(tmp_path):
    mode = Event("mode", 1.0, 1.0, 30, 30, "operator", detail="drive")
    fault = Event("fault", 2.0, 2.0, 60, 60, "driven", detail="motor stopped answering")
    outage = Event("outage", 2.5, 3.0, 75, 90, "observed", detail="no signal")
    sink, _ = run(tmp_path, {1.5: [mode], 2.5: [fault], 3.5: [outage]}, last_frame=4.0)
    assert sink.sounded == [(1.0, "mode_change"), (2.0, "driver_fault")]


def test_live_mode_sounds_on_the_deciding_frame_and_puts_events_after_the_last_frame_on_the_track(tmp_path):
    sink, samples = run(tmp_path, {4.0: [event("rack", 2.0, 3.0)]}, last_frame=6.0, after_end=[event("rack", 5.3, 5.9)],
                        place_at_event_time=False, hold_back_s=0.0)
    # once for the rack its frame carried (not again for on_event), and the one completed at the end at the last frame
    assert sink.sounded == [(4.0, "rack_landed"), (6.0, "rack_landed")]
    assert onsets(samples) == pytest.approx([4.0, 6.0], abs=0.002)


def test_live_mode_announces_a_rack_under_way_then_its_landing(tmp_path):
    path = tmp_path / "cues.wav"
    sink = CueSink(SilentPlayer(), CueTrack(path, cue_buffers(RATE), RATE), AudioConfig())
    under_way = event("rack", 2.0, 2.6)
    for i in range(round(5.0 * FPS) + 1):
        t = i / FPS
        provisional = (under_way,) if i == round(2.6 * FPS) else ()
        events = (event("rack", 2.0, 3.0),) if i == round(3.8 * FPS) else ()
        sink.consume(frame(t, events, provisional))
    sink.close()
    assert [(round(t, 2), name) for t, name in sink.sounded] == [(2.6, "rack_start"), (3.8, "rack_landed")]
