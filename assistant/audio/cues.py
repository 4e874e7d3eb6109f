"""Which cue to sound when: events, guidance and warnings in, cues out (player and cue track).

- a rack that landed (observed or driven) -> ``rack_landed``; a rack the guide
  suggests, or a driven rack starting -> ``rack_start``;
- a tracking pull -> ``pull_tick``, at most once per ``pull_min_interval_s`` so
  a long pull does not chatter;
- a soft event, or the target lost -> ``soft_buzz``, repeated every
  ``soft_repeat_s`` until the target is sharp again (or found);
- a driver fault (a ``fault`` event) -> ``driver_fault``; a change of mode
  (suggest/drive, emergency stop, manual takeover) -> ``mode_change``.

While the operator has muted cues (``m``) nothing sounds, but the cue track
still records every cue, so a review hears what would have played.

Cues sound on the frame that triggered them; the cue track places them at
that frame's media time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from assistant.audio.player import CuePlayer
from assistant.audio.synth import CUE_NAMES
from assistant.audio.track import CueTrack
from assistant.pipeline import Command, FrameResult
from assistant.schema import limits
from assistant.types import Event


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


assert tuple(f.name for f in fields(CueGains)) == CUE_NAMES, "every cue needs a gain"


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


class CueSink:
    """A pipeline sink that sounds cues and writes them to the cue track."""


    def __init__(self, player: CuePlayer, track: CueTrack | None, config: AudioConfig,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.player = player
        self.sounds = player.available  # the status bar shows audio on/muted only when sound can play
        self.track = track
        self.config = config
        self._clock = clock
        self._last_tick = -1e9
        self._soft_since: float | None = None
        self._last_buzz = -1e9
        self._racking = False
        self._t = 0.0
        self._muted = False
        self.sounded: list[tuple[float, str]] = []

    def consume(self, result: FrameResult) -> Command | None:
        t = self._t = result.frame.t
        self._muted = result.muted
        now = self._clock()
        for event in result.events:
            name = self._cue_for(event, t)
            if name:
                self._sound(name, t, now)
        guidance = result.guidance
        if guidance is not None:
            racking = guidance.direction == "rack"
            if racking and not self._racking:
                self._sound("rack_start", t, now)
            self._racking = racking
            if guidance.direction == "lost" and self._soft_since is None:
                self._soft_since = t
        target = guidance.target_id if guidance is not None else None
        if self._soft_since is not None and self._recovered(result, target):
            self._soft_since = None
        if self._soft_since is not None and t - self._last_buzz >= self.config.soft_repeat_s:
            self._last_buzz = t
            self._sound("soft_buzz", t, now)
        if self.track is not None:
            self.track.advance(t)
        return None

    def sound(self, name: str, t: float) -> None:
        """Sound cue ``name`` now, at media time ``t`` (rehearsal count-ins)."""
        self._sound(name, t, self._clock())

    def close(self) -> None:
        try:
            self.player.close()
        finally:
            if self.track is not None:
                self.track.close()

    def _cue_for(self, event: Event, t: float) -> str | None:
        if event.type == "fault":
            return "driver_fault"
        if event.type == "mode":
            return "mode_change"
        if event.type == "rack":
            return "rack_start" if event.origin == "suggested" else "rack_landed"
        if event.type == "pull":
            if t - self._last_tick < self.config.pull_min_interval_s:
                return None
            self._last_tick = t
            return "pull_tick"
        self._soft_since = t  # soft: buzz until it recovers
        self._last_buzz = -1e9
        return None

    def _recovered(self, result: FrameResult, target: int | None) -> bool:
        if result.guidance is not None and result.guidance.direction == "lost":
            return False
        return any(s.in_focus and (target is None or s.id == target) for s in result.subjects)

    def _sound(self, name: str, t: float, now: float) -> None:
        gain = getattr(self.config.cues, name) * self.config.volume
        if gain <= 0:
            return
        self.sounded.append((t, name))
        if not self._muted:
            self.player.play(name, gain, now)
        if self.track is not None:
            self.track.add(name, t, gain)
