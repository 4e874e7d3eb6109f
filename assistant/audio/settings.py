"""Sound-cue settings (``[audio]`` in the config): a leaf, so the config loads no player or pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.schema import limits


def _gain() -> float:
    return field(default=1.0, metadata=limits(lo=0.0, hi=1.0))  # type: ignore[return-value]


@dataclass(frozen=True)
class CueGains:
    """Loudness of each cue, 0 (off) to 1 (``[audio.cues]`` in the config)."""

    rack_start: float = _gain()
    rack_landed: float = _gain()
    pull_tick: float = _gain()
    soft_buzz: float = _gain()
    count_beat: float = _gain()
    count_go: float = _gain()
    mode_change: float = _gain()
    driver_fault: float = _gain()


@dataclass(frozen=True)
class AudioConfig:
    """Sound cues (``[audio]`` in the config)."""

    enabled: bool = True
    device: str = ""  # output device name or index; "" = the system default
    sample_rate: int = field(default=48000, metadata=limits(lo=8000, hi=192000))
    block_size: int = field(default=256, metadata=limits(lo=32, hi=8192))
    volume: float = field(default=0.8, metadata=limits(lo=0.0, hi=1.0))
    pull_min_interval_s: float = field(default=1.0, metadata=limits(lo=0.0, hi=60.0))
    soft_repeat_s: float = field(default=0.75, metadata=limits(lo=0.2, hi=60.0))
    cues: CueGains = CueGains()
