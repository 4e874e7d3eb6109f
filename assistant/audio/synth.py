"""The cue vocabulary, synthesised with numpy: distinct pitch contours and rhythms.

Every cue is a mono float32 buffer in -1..1 with raised-cosine fades at both
ends of every tone (no clicks), peaking at ``PEAK`` so mixing two cues rarely
clips (the player clips whatever does). Buffers are made once per sample rate
and reused; playing one costs no synthesis.

| cue | sound | meaning |
|---|---|---|
| rack_start | rising two-tone, C5 -> G5 | a rack began |
| rack_landed | two short high beeps, C6 C6 | the rack landed: the new subject is sharp |
| pull_tick | one soft 25 ms tick at 2 kHz | a tracking pull (rate-limited) |
| soft_buzz | low 180 Hz buzz, 0.25 s (repeated while soft) | the target is soft or lost |
| count_beat | 880 Hz, 0.1 s | a countdown beat (3, 2, 1) |
| count_go | 1320 Hz, 0.6 s | the countdown's long tone: go |
| mode_change | falling two-tone, G5 -> C5 | suggest/drive changed |
| driver_fault | alternating 1000/1400 Hz, 4 x 0.1 s | the focus driver failed |
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PEAK = 0.5
FADE_S = 0.005

Part = tuple[float, float, float]  # (frequency Hz, seconds, amplitude); frequency 0 = silence


def tone(freq: float, seconds: float, rate: int, amplitude: float = PEAK, harmonics: int = 1) -> np.ndarray:
    """A tone with raised-cosine fades; ``harmonics`` > 1 adds odd harmonics (a buzzier timbre)."""
    n = max(1, round(seconds * rate))
    t = np.arange(n) / rate
    wave = np.zeros(n)
    if freq > 0:
        for k in range(1, 2 * harmonics, 2):
            wave += np.sin(2 * np.pi * freq * k * t) / k
        wave *= amplitude / np.max(np.abs(wave))
    fade = min(round(FADE_S * rate), n // 2)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
        wave[:fade] *= ramp
        wave[n - fade:] *= ramp[::-1]
    return wave


def sequence(parts: list[Part], rate: int, harmonics: int = 1) -> np.ndarray:
    """Tones and gaps one after another."""
    return np.concatenate([tone(f, s, rate, a, harmonics) for f, s, a in parts]).astype(np.float32)


CUE_PARTS: dict[str, Callable[[int], np.ndarray]] = {
    "rack_start": lambda r: sequence([(523.25, 0.09, PEAK), (0, 0.02, 0), (783.99, 0.12, PEAK)], r),
    "rack_landed": lambda r: sequence([(1046.5, 0.06, PEAK), (0, 0.05, 0), (1046.5, 0.12, PEAK)], r),
    "pull_tick": lambda r: sequence([(2000.0, 0.025, 0.3)], r),
    "soft_buzz": lambda r: sequence([(180.0, 0.25, PEAK)], r, harmonics=4),
    "count_beat": lambda r: sequence([(880.0, 0.1, PEAK)], r),
    "count_go": lambda r: sequence([(1318.5, 0.6, PEAK)], r),
    "mode_change": lambda r: sequence([(783.99, 0.08, PEAK), (0, 0.02, 0), (523.25, 0.08, PEAK)], r),
    "driver_fault": lambda r: sequence([(1000.0, 0.1, PEAK), (1400.0, 0.1, PEAK)] * 2, r, harmonics=2),
}
CUE_NAMES = tuple(CUE_PARTS)


def cue_buffers(rate: int) -> dict[str, np.ndarray]:
    """Every cue rendered at ``rate`` samples per second."""
    if rate < 8000:
        raise ValueError(f"sample rate must be at least 8000 Hz, got {rate}")
    return {name: make(rate) for name, make in CUE_PARTS.items()}
