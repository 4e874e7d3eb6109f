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
