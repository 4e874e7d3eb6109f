"""``--cue-track OUT.wav``: every cue at its media time, so the sound lines up with a recording.

Written as the run goes: silence and cues are mixed up to the current media
time and appended, so memory stays flat however long the run. ``add`` places
a cue at its time unless that part of the file is already written; then it
starts at the write cursor (as early as still possible), never dropped.

Live runs write up to each frame's time (``hold_back_s = 0``). ``analyze``
places cues at the events' own times, which the classifier decides up to a
second or two late, so it holds back: ``advance(t)`` writes only up to
``t - hold_back_s``, leaving room for late cues. ``close`` writes the rest;
the file lasts at least to the last time passed to ``advance`` and until the
last cue has finished sounding.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from assistant.errors import OutputError
from assistant.report.files import prepared


class CueTrack:
    """A mono 16-bit WAV of cues placed at media times (one verb: ``add``; ``advance`` writes)."""

    def __init__(self, path: Path, buffers: dict[str, np.ndarray], rate: int, hold_back_s: float = 0.0) -> None:
        if hold_back_s < 0:
            raise ValueError(f"hold_back_s must be >= 0, got {hold_back_s}")
        self.path = prepared(path, (".wav",), "cue track")
        self.rate = rate
        self.hold_back_s = hold_back_s
        self._buffers = buffers
        try:
            self._wav = wave.open(str(self.path), "wb")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror}); choose a writable path") from exc
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._voices: list[tuple[int, np.ndarray]] = []  # (start sample, scaled buffer)
        self._cursor = 0  # samples written so far
        self._end = 0  # the latest media time passed to advance, in samples
        self.cues: list[tuple[float, str]] = []

    def add(self, name: str, t: float, gain: float) -> None:
        """Place cue ``name`` at media time ``t`` seconds (at the cursor if ``t`` is already written)."""
        self._voices.append((max(self._cursor, round(t * self.rate)), self._buffers[name] * gain))
        self.cues.append((t, name))

    def advance(self, t: float) -> None:
        """Media time has reached ``t``: write everything before ``t - hold_back_s``."""
        self._end = max(self._end, round(t * self.rate))
        self._write(round((t - self.hold_back_s) * self.rate))

    def close(self) -> None:
        """Write the held-back part and the cues still sounding, and finish the file."""
        last = max((start + len(buffer) for start, buffer in self._voices), default=0)
        self._write(max(last, self._end))
        self._wav.close()

    def _write(self, end: int) -> None:
        """Mix and append samples from the cursor up to sample ``end``."""
        if end <= self._cursor:
            return
        chunk = np.zeros(end - self._cursor, np.float32)
        keep = []
        for start, buffer in self._voices:
            a, b = max(start, self._cursor), min(start + len(buffer), end)
            if b > a:
                chunk[a - self._cursor:b - self._cursor] += buffer[a - start:b - start]
            if start + len(buffer) > end:
                keep.append((start, buffer))
        self._voices = keep
        self._wav.writeframes((np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2").tobytes())
        self._cursor = end
