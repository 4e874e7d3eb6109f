"""The cue vocabulary: pitch, rhythm, level and click-free edges, checked by FFT."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.audio.synth import CUE_NAMES, FADE_S, cue_buffers

RATE = 48000
BUFFERS = cue_buffers(RATE)


def segments(buffer: np.ndarray, threshold: float = 0.02) -> list[tuple[int, int]]:
    """(start, end) sample ranges where the cue sounds (envelope above threshold)."""
    loud = np.convolve(np.abs(buffer) > threshold, np.ones(48), mode="same") > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


def dominant(buffer: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(buffer * np.hanning(len(buffer)), n=1 << 16))
    return float(np.argmax(spectrum) * RATE / (1 << 16))


EXPECTED = {  # cue: [(dominant Hz, seconds) per sounding segment]
    "rack_start": [(523.25, 0.09), (783.99, 0.12)],
    "rack_landed": [(1046.5, 0.06), (1046.5, 0.12)],
    "pull_tick": [(2000.0, 0.025)],
    "soft_buzz": [(180.0, 0.25)],
    "count_beat": [(880.0, 0.1)],
    "count_go": [(1318.5, 0.6)],
    "mode_change": [(783.99, 0.08), (523.25, 0.08)],
    "driver_fault": [(1000.0, 0.1), (1400.0, 0.1)],  # then the same again
}


@pytest.mark.parametrize("name", CUE_NAMES)
def test_each_cue_has_its_pitches_and_rhythm(name):
    buffer = BUFFERS[name]
    expected = EXPECTED[name]
    found = segments(buffer)
    if name == "driver_fault":  # two alternating tones with no gap: split by pitch
        half = len(buffer) // 4
        found = [(i * half, (i + 1) * half) for i in range(4)]
        expected = expected * 2
    assert len(found) == len(expected), found
    for (start, end), (freq, seconds) in zip(found, expected):
        assert dominant(buffer[start:end]) == pytest.approx(freq, rel=0.02)
        assert (end - start) / RATE == pytest.approx(seconds, abs=0.004)


@pytest.mark.parametrize("name", CUE_NAMES)
def test_no_sample_above_full_scale_and_fades_at_both_ends(name):
    buffer = BUFFERS[name]
    assert buffer.dtype == np.float32
    assert np.max(np.abs(buffer)) <= 0.5 + 1e-6
    fade = int(FADE_S * RATE)
    head, tail = np.abs(buffer[:fade]), np.abs(buffer[-fade:][::-1])
    for edge in (head, tail):
        assert edge[0] < 1e-4  # starts and ends at silence: no click
        thirds = [edge[i * fade // 3:(i + 1) * fade // 3].max() for i in range(3)]
        assert thirds[0] < thirds[1] < thirds[2]  # and ramps up to the tone


def test_cues_are_told_apart_by_their_first_pitch_or_rhythm():
    signatures = {name: (round(dominant(BUFFERS[name][s:e]) / 20), len(segments(BUFFERS[name])))
                  for name in CUE_NAMES for s, e in segments(BUFFERS[name])[:1]}
    assert len(set(signatures.values())) == len(CUE_NAMES)


def test_low_sample_rates_are_refused():
    with pytest.raises(ValueError, match="at least 8000"):
        cue_buffers(4000)
