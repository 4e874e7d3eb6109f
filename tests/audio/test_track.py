"""The cue track: every cue at its media time in a WAV that lines up with the video."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from assistant.audio.synth import cue_buffers
from assistant.audio.track import CueTrack
from tests.audio.test_synth import dominant

RATE = 48000


def read_wav(path):
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, RATE)
        return np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32) / 32767


def onsets(samples: np.ndarray, threshold: float = 0.01) -> list[float]:
    loud = np.abs(samples) > threshold
    starts, last = [], -RATE
    for i in np.flatnonzero(loud):
        if i - last > RATE // 6:  # 170 ms of quiet separates cues (a cue has gaps of up to 50 ms)
            starts.append(i / RATE)
        last = i
    return starts


def test_cues_land_at_their_media_times_written_frame_by_frame(tmp_path):
    path = tmp_path / "cues.wav"
    track = CueTrack(path, cue_buffers(RATE), RATE)
    placed = [(0.5, "rack_start"), (1.25, "pull_tick"), (2.0, "rack_landed"), (3.0, "soft_buzz")]
    frames = [i / 30 for i in range(0, 120)]
    pending = list(placed)
    for t in frames:  # cues are added on the frame that triggers them, as the pipeline does
        while pending and pending[0][0] <= t + 1e-9:
            when, name = pending.pop(0)
            track.add(name, when, 1.0)
        track.advance(t)
    track.close()
    samples = read_wav(path)
    assert onsets(samples) == pytest.approx([t for t, _ in placed], abs=0.002)
    for t, name in placed:
        start = round(t * RATE)
        assert dominant(samples[start:start + 1000]) == pytest.approx(
            {"rack_start": 523.25, "pull_tick": 2000.0, "rack_landed": 1046.5, "soft_buzz": 180.0}[name], rel=0.03)
    assert len(samples) == round(frames[-1] * RATE)  # as long as the video: it lines up with it
    assert np.max(np.abs(samples)) <= 1.0


def test_a_cue_track_must_be_a_wav(tmp_path):
    from assistant.errors import OutputError

    with pytest.raises(OutputError, match="unsupported cue track format"):
        CueTrack(tmp_path / "cues.mp3", cue_buffers(RATE), RATE)


def test_a_held_back_track_takes_cues_decided_late_at_their_own_times(tmp_path):
    path = tmp_path / "cues.wav"
    track = CueTrack(path, cue_buffers(RATE), RATE, hold_back_s=2.0)
    decided = {1.5: [(0.5, "rack_start")], 3.0: [(1.8, "rack_landed")], 4.0: [(3.9, "pull_tick")]}
    frames = [i / 30 for i in range(0, 135)]  # to 4.47 s
    for t in frames:
        for key in [k for k in decided if k <= t + 1e-9]:
            for when, name in decided.pop(key):
                track.add(name, when, 1.0)
        track.advance(t)
    track.close()
    samples = read_wav(path)
    assert onsets(samples) == pytest.approx([0.5, 1.8, 3.9], abs=0.002)
    assert len(samples) == round(frames[-1] * RATE)  # the held-back tail is written at close


def test_a_cue_decided_after_its_time_was_written_starts_at_the_cursor(tmp_path):
    path = tmp_path / "cues.wav"
    track = CueTrack(path, cue_buffers(RATE), RATE, hold_back_s=1.0)
    track.advance(4.0)  # written up to 3.0 s
    track.add("rack_landed", 2.0, 1.0)  # too late for 2.0 s: as early as still possible, not dropped
    track.close()
    samples = read_wav(path)
    assert onsets(samples) == pytest.approx([3.0], abs=0.002)
    assert len(samples) == round(4.0 * RATE)


def test_close_writes_until_the_last_cue_has_sounded(tmp_path):
    path = tmp_path / "cues.wav"
    buffers = cue_buffers(RATE)
    track = CueTrack(path, buffers, RATE, hold_back_s=5.0)
    track.advance(1.0)
    track.add("count_go", 0.9, 1.0)
    track.close()
    assert len(read_wav(path)) == round(0.9 * RATE) + len(buffers["count_go"])


def test_hold_back_cannot_be_negative(tmp_path):
    with pytest.raises(ValueError, match="hold_back_s"):
        CueTrack(tmp_path / "cues.wav", cue_buffers(RATE), RATE, hold_back_s=-1.0)
