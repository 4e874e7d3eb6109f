"""Playing cues: one long-lived PortAudio stream whose callback only mixes.

The main loop queues pre-scaled buffers (a deque append, atomic in CPython);
the callback moves them to its voice list and adds each voice's next slice
into the output block. No synthesis, no locks the main thread holds, no
waiting in the callback. When PortAudio or an output device is missing, one
warning is printed and a silent player takes over: the loop never stops for
audio.
"""

from __future__ import annotations

import collections
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol, TextIO

import numpy as np


class CuePlayer(Protocol):
    """Plays named cues as soon as it can."""

    available: bool

    def play(self, name: str, gain: float, triggered_at: float) -> None: ...

    def close(self) -> None: ...


class SilentPlayer:
    """No sound device: cues are only drawn and written to the cue track."""

    available = False

    def play(self, name: str, gain: float, triggered_at: float) -> None:
        return None

    def close(self) -> None:
        return None


class CueMixer:
    """Mixes queued cue buffers into audio blocks; the only work done in the sound callback.

    ``queue`` (main loop) hands a pre-scaled buffer over a deque; ``mix``
    (audio thread) adds every sounding cue into the block and clips. No
    synthesis, locks or waiting on the audio thread.
    """

    def __init__(self, buffers: dict[str, np.ndarray], clock: Callable[[], float] = time.monotonic) -> None:
        self._buffers = buffers
        self._scaled: dict[tuple[str, float], np.ndarray] = {}
        self._incoming: collections.deque[tuple[np.ndarray, float]] = collections.deque()
        self._voices: list[list[Any]] = []  # [buffer, position, triggered_at]
        self._clock = clock
        self.latencies_ms: collections.deque[float] = collections.deque(maxlen=10_000)
        self.mix_ms: collections.deque[float] = collections.deque(maxlen=10_000)  # block work while cues sound
        self.played = 0

    @property
    def sounding(self) -> int:
        return len(self._voices)

    def queue(self, name: str, gain: float, triggered_at: float) -> None:
        key = (name, round(gain, 3))
        buffer = self._scaled.get(key)
        if buffer is None:
            buffer = self._scaled[key] = (self._buffers[name] * gain).astype(np.float32)
        self._incoming.append((buffer, triggered_at))

    def mix(self, out: np.ndarray) -> None:
        """Fill ``out`` (one channel, one block) with every cue sounding now."""
        out.fill(0.0)
        while self._incoming:
            buffer, triggered_at = self._incoming.popleft()
            self._voices.append([buffer, 0, triggered_at])
        if not self._voices:
            return
        started = time.perf_counter()
        now = self._clock()
        for voice in self._voices:
            buffer, position = voice[0], voice[1]
            n = min(len(out), len(buffer) - position)
            out[:n] += buffer[position:position + n]
            if position == 0:
                self.latencies_ms.append((now - voice[2]) * 1000.0)
            voice[1] = position + n
        finished = [v for v in self._voices if v[1] >= len(v[0])]
        if finished:
            self.played += len(finished)
            self._voices = [v for v in self._voices if v[1] < len(v[0])]
        np.clip(out, -1.0, 1.0, out=out)
        self.mix_ms.append((time.perf_counter() - started) * 1000.0)


class StreamPlayer:
    """Cues through a ``sounddevice.OutputStream`` (one per run, opened once)."""

    available = True

    def __init__(self, buffers: dict[str, np.ndarray], rate: int, device: int | str | None = None,
                 blocksize: int = 256, clock: Callable[[], float] = time.monotonic) -> None:
        import sounddevice  # OSError here when the PortAudio library is missing

        self.mixer = CueMixer(buffers, clock)
        self.underflows = 0
        self._stream = sounddevice.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                                blocksize=blocksize, device=device, callback=self._callback)
        self._stream.start()

    @property
    def latencies_ms(self) -> collections.deque[float]:
        return self.mixer.latencies_ms

    @property
    def mix_ms(self) -> collections.deque[float]:
        return self.mixer.mix_ms

    @property
    def played(self) -> int:
        return self.mixer.played

    def play(self, name: str, gain: float, triggered_at: float) -> None:
        self.mixer.queue(name, gain, triggered_at)

    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.underflows += 1
        self.mixer.mix(outdata[:, 0])

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


def open_player(buffers: dict[str, np.ndarray], rate: int, device: str = "", blocksize: int = 256,
                warn: TextIO | None = None) -> CuePlayer:
    """A :class:`StreamPlayer` on ``device`` (name or index, "" = default), else a silent one with one warning."""
    warn = warn or sys.stderr
    chosen: int | str | None = int(device) if device.isdigit() else (device or None)
    try:
        return StreamPlayer(buffers, rate, chosen, blocksize)
    except OSError as exc:  # PortAudio library missing
        reason = f"PortAudio is not installed ({exc}); install libportaudio2"
    except Exception as exc:  # sounddevice.PortAudioError, bad device name: no sound, no stop
        reason = "no audio output device" if "device -1" in str(exc) else str(exc)
        reason += "; 'focus-assistant devices' lists outputs, audio.device picks one"
    warn.write(f"focus-assistant: warning: no sound ({reason}); cues are shown and written to --cue-track only\n")
    warn.flush()
    return SilentPlayer()
