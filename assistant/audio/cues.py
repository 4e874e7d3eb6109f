"""Which cue to sound when: events, guidance and warnings in, cues out (player and cue track).

- a rack that landed (observed or driven) -> ``rack_landed``; a rack the guide
  suggests, a driven rack starting, or an observed rack recognised while still
  under way (``FrameResult.provisional``) -> ``rack_start``;
- a tracking pull -> ``pull_tick``, at most once per ``pull_min_interval_s`` so
  a long pull does not chatter;
- a soft event, or the target lost -> ``soft_buzz``, repeated every
  ``soft_repeat_s`` until the target is sharp again (or found);
- a driver fault (a ``fault`` event) -> ``driver_fault``; a change of mode
  (suggest/drive, emergency stop, manual takeover) -> ``mode_change``.

While the operator has muted cues (``m``) nothing sounds, but the cue track
still records every cue, so a review hears what would have played.

Live (the default), cues sound on the frame that triggered them and the cue
track places them at that frame's media time; events come from each frame's
``result.events``, and those that complete only after the last frame (which
no frame carries) reach the track through ``on_event`` at the last frame's time.

Offline (``place_at_event_time``, for ``analyze``: no director, no guidance),
nothing is decided from frames: events arrive through ``on_event``, including
those that complete only after the last frame, and each cue goes to the cue
track at the event's own media time, however late the classifier decided it:

- rack -> ``rack_start`` at its start and ``rack_landed`` at its end;
- pull -> ``pull_tick`` at its start, unless another tick is within
  ``pull_min_interval_s`` of it;
- soft -> ``soft_buzz`` at its start, then every ``soft_repeat_s`` before its
  end (at least one);
- fault and mode -> their cue at the event's start; an outage -> none.

The track must then hold back its writing (``CueTrack(hold_back_s=...)``) so
the late-decided cues still land at their times.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import fields

from assistant.audio.player import CuePlayer
from assistant.audio.settings import AudioConfig, CueGains
from assistant.audio.synth import CUE_NAMES
from assistant.audio.track import CueTrack
from assistant.sink import Command, FrameResult, Sink
from assistant.types import Event


assert tuple(f.name for f in fields(CueGains)) == CUE_NAMES, "every cue needs a gain"


class CueSink(Sink):
    """A pipeline sink that sounds cues and writes them to the cue track.

    ``place_at_event_time`` (``analyze``): cues from ``on_event`` at the events'
    own times instead of from each frame at the frame's time.
    """

    def __init__(self, player: CuePlayer, track: CueTrack | None, config: AudioConfig,
                 clock: Callable[[], float] = time.monotonic, place_at_event_time: bool = False) -> None:
        self.player = player
        self.place_at_event_time = place_at_event_time
        self._ticks: deque[float] = deque(maxlen=32)  # recent pull ticks (offline), by event time
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
        self._unframed: list[Event] = []  # live: events announced but not yet carried by a frame
        self.sounded: list[tuple[float, str]] = []

    def consume(self, result: FrameResult) -> Command | None:
        t = self._t = result.frame.t
        self._muted = result.muted
        if self.place_at_event_time:
            if self.track is not None:
                self.track.advance(t)
            return None
        self._unframed = [e for e in self._unframed if not any(e is carried for carried in result.events)]
        now = self._clock()
        for _ in result.provisional:  # a rack recognised under way: announced now, its landing follows
            self._sound("rack_start", t, now)
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

    def on_event(self, event: Event) -> None:
        """Offline: the event's cues at its own media times. Live: cues come from the frame that carries
        the event; an event completed after the last frame (no frame carries it) goes to the track at close."""
        if not self.place_at_event_time:
            self._unframed.append(event)
            return
        now = self._clock()
        for t, name in self._placed(event):
            self._sound(name, t, now)

    def sound(self, name: str, t: float) -> None:
        """Sound cue ``name`` now, at media time ``t`` (rehearsal count-ins)."""
        self._sound(name, t, self._clock())

    def close(self) -> None:
        for event in self._unframed:  # live: completed when the source ended; on the track at the last frame
            name = self._cue_for(event, self._t)
            if name and self.track is not None:
                self.sounded.append((self._t, name))
                self.track.add(name, self._t, getattr(self.config.cues, name) * self.config.volume)
        self._unframed = []
        try:
            self.player.close()
        finally:
            if self.track is not None:
                self.track.close()

    def _placed(self, event: Event) -> list[tuple[float, str]]:
        """Offline: (media time, cue) for one event."""
        if event.type == "rack":
            return [(event.start, "rack_start"), (event.end, "rack_landed")]
        if event.type == "pull":
            if any(abs(event.start - tick) < self.config.pull_min_interval_s for tick in self._ticks):
                return []
            self._ticks.append(event.start)
            return [(event.start, "pull_tick")]
        if event.type == "soft":
            repeats = max(1, math.ceil((event.end - event.start) / self.config.soft_repeat_s - 1e-9))
            return [(event.start + k * self.config.soft_repeat_s, "soft_buzz") for k in range(repeats)]
        name = {"fault": "driver_fault", "mode": "mode_change"}.get(event.type)  # an outage: no cue
        return [(event.start, name)] if name else []

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
