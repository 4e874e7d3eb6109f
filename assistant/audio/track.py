"""``--cue-track OUT.wav``: every cue at its media time, so the sound lines up with a recording.

Written as the run goes: silence and cues are mixed up to the current media
time and appended, so memory stays flat however long the run.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from assistant.errors import OutputError
from assistant.report.files import prepared


class CueTrack:
    """A mono 16-bit WAV of cues placed at media times (one verb: ``add``; ``advance`` writes)."""

    def __init__(self, path: Path, buffers: dict[str, np.ndarray], rate: int) -> None:
        self.path = prepared(path, (".wav",), "cue track")
        self.rate = rate
        self._buffers = buffers
        try:
            self._wav = wave.open(str(self.path), "wb")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror}); choose a writable path") from exc
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._voices: list[tuple[int, np.ndarray]] = []  # (start sample, scaled buffer)
        self._cursor = 0
        self.cues: list[tuple[float, str]] = []

    def add(self, name: str, t: float, gain: float) -> None:
        """Place cue ``name`` at media time ``t`` seconds."""
        self._voices.append((max(self._cursor, round(t * self.rate)), self._buffers[name] * gain))
        self.cues.append((t, name))

    def advance(self, t: float) -> None:
        """Write everything before media time ``t``."""
        end = round(t * self.rate)
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

    def close(self) -> None:
        """Write the cues still sounding and finish the file."""
        last = max((start + len(buffer) for start, buffer in self._voices), default=self._cursor)
        self.advance(last / self.rate)
        self._wav.close()
