"""Racks, tracking pulls and soft focus, read from which subjects are in focus and how they move.

Each subject has an absolute in-focus reading every frame (its defocus blur
against the acceptable limit, ``ratio`` <= 1 is in focus; see
``assistant.focus.judge``) and a distance. Focus itself is not seen, but
where it went is:

- **rack**: one subject leaves focus and another, which was out of focus,
  comes into it, within ``pair_s`` of each other (a rack between distant
  planes takes the first subject out of focus long before the second sharpens,
  so the two are paired by time window, not by overlapping moves). It starts
  where the first subject's blur began to grow and ends where the second's
  stopped shrinking.
- **pull** (tracking pull): a subject walks in depth (its distance changes by
  ``pull_min_change`` or more) and stays in focus, *and* focus is seen to move:
  another subject's blur changes, or the background's sharpness shifts one
  way, or the walk was too long for the depth of field seen in this clip (the
  blur per dioptre learned from people out of focus) to have kept the subject
  sharp. A subject walking inside a deep depth of field while focus stays is
  no pull.
- **soft**: a subject leaves focus and, ``pair_s`` later, no subject is in
  focus (focus went nowhere useful, or the subject walked out of it).

A face first judged in focus counts as arriving into it (faces blurred by many
pixels are often not found at all until focus comes to them). A track whose
face size jumps has taken someone else's face: what it did just before is put
down to the jump. Onsets are dated by following the blur ratio's ramp back to
its earlier level (``assistant.focus.onsets``), so they are not late by the
part of the move the picture cannot show; whether focus moved during a walk is
``assistant.focus.focus_moved``'s to say.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.focus.focus_moved import FocusMotionEvidence
from assistant.focus.onsets import descent_start, ramp_start
from assistant.focus.settings import SubjectEventConfig
from assistant.focus.subject_series import HISTORY_S, Reading, SubjectSeries
from assistant.focus.trends import Move, TrendBank, hinge_knee
from assistant.types import Box, Event

JUMP_SETTLE_S = 0.3
"""After a track jumps to another face, its focus readings settle this long before they count."""
JUMP_BLAME_S = 0.5
"""Crossings this soon before a track jumps to another face are put down to the jump."""
ARRIVAL_LOOKBACK_S = 3.0
"""How far back a subject arriving into focus on its own must have been seen out of it."""
LANDED_WITHIN = 0.4
"""A rack has landed once the incoming subject's blur ratio is within this of the best it then reaches."""
MIN_WALK_S = 0.5
"""A shorter change of distance is a wobble of the estimate, not a walk focus could follow."""
CONTINUATION_S = 1.0
"""A walk resuming this soon after it paused, the same way, is the same walk."""


@dataclass(frozen=True)
class _Crossing:
    """A subject crossing into or out of focus; ``edge_t`` is where its blur began (fall) or ended (rise) moving."""

    subject: int
    cross_t: float
    cross_frame: int
    edge_t: float
    edge_frame: int


class SubjectEventLabeller:
    """Subjects' readings in, completed events out (one verb: ``update``)."""

    def __init__(self, config: SubjectEventConfig = SubjectEventConfig()) -> None:
        if config.walk_rate_off >= config.walk_rate_on:
            raise ValueError("classify.walk_rate_off must be below classify.walk_rate_on")
        self.config = config
        self._series: dict[int, SubjectSeries] = {}
        self._falls: list[_Crossing] = []
        self._rises: list[_Crossing] = []
        self._evidence = FocusMotionEvidence(config.shift_ratio, config.background_shift,
                                             config.background_agreement, config.necessity_ratio)
        self._t = 0.0
        self._frame = 0
        self._last_pull_end = -math.inf
        self.provisional: list[Event] = []
        """Racks recognised under way, not landed yet (end = when recognised); taken by live cues."""

    @property
    def followed(self) -> set[int]:
        """Subjects still remembered."""
        return set(self._series)

    # ------------------------------------------------------------------ input
    def update(self, t: float, frame: int, readings: Sequence[Reading], tile_levels: np.ndarray,
               tile_clear: np.ndarray) -> list[Event]:
        """Feed one frame; returns events completed by it."""
        self._t, self._frame = t, frame
        for reading in readings:
            self._observe(reading, t, frame)
        self._evidence.observe(t, readings, tile_levels, tile_clear)
        for sid in [sid for sid, s in self._series.items() if t - s.last_seen > HISTORY_S]:
            del self._series[sid]
        return self._decide(final=False)

    def finish(self) -> list[Event]:
        """End of the clip: resolve what can be resolved with what was seen."""
        for sid, series in self._series.items():
            if series.rise_pending is not None:
                self._resolve_rise(sid, series)
            for move in series.walks.flush():
                self._walk_ended(series, move)
        return self._decide(final=True)

    def _observe(self, reading: Reading, t: float, frame: int) -> None:
        series = self._series.get(reading.id)
        jumped = series is not None and series.jumped(reading, t)
        if jumped:
            self._forget_recent(reading.id, t)
        if series is None or jumped:
            cfg = self.config
            series = self._series[reading.id] = SubjectSeries(TrendBank(
                1, cfg.walk_rate_on, cfg.walk_rate_off, math.log(1.0 + cfg.pull_min_change), window_s=1.0))
            # after a jump the readings still carry the old face for a few frames (smoothing): let them settle
            series.settle_until = t + JUMP_SETTLE_S if jumped else -math.inf
        sample = series.add(reading, t, frame)
        log_distance = math.log(sample.distance) if not math.isnan(sample.distance) else math.nan
        for move in series.walks.push(t, frame, np.array([log_distance])):
            self._walk_ended(series, move)
        if reading.ratio is not None and t >= series.settle_until:
            self._step_state(reading.id, series, reading.ratio, t, frame)
        if series.rise_pending is not None and t - series.rise_pending[0] >= self.config.land_wait_s:
            self._resolve_rise(reading.id, series)

    def _forget_recent(self, sid: int, t: float) -> None:
        """A track that jumped to someone else: what it did just before was the other face coming over it
        (a crossing, not a rack). Earlier crossings stand: a heavily blurred face's box also grows at once."""
        self._falls = [f for f in self._falls if f.subject != sid or t - f.cross_t > JUMP_BLAME_S]
        self._rises = [r for r in self._rises if r.subject != sid or t - r.cross_t > JUMP_BLAME_S]

    def _step_state(self, sid: int, series: SubjectSeries, ratio: float, t: float, frame: int) -> None:
        """Hysteresis between in focus (ratio <= 1) and soft (ratio >= soft_ratio)."""
        if ratio <= 1.0:
            new = "sharp"
        elif ratio >= self.config.soft_ratio:
            new = "soft"
        else:
            return
        old, series.state = series.state, new
        if not old and new == "sharp":
            old = "soft"  # first judged sharp: too blurred to be detected (or judged) until focus came to it
        if old == "sharp" and new == "soft":
            edge_t, edge_frame = self._edge(series, t, before=True)
            self._falls.append(_Crossing(sid, t, frame, edge_t, edge_frame))
            series.rise_pending = None
        elif old == "soft" and new == "sharp":
            series.rise_pending = (t, frame)
            if self._falls:
                fall = max(self._falls, key=lambda f: f.cross_t)
                if fall.subject != sid and t - fall.cross_t <= self.config.pair_s:
                    self.provisional.append(Event("rack", fall.edge_t, t, fall.edge_frame, frame, "observed",
                                                  target_box=series.samples[-1].box, from_id=fall.subject,
                                                  to_id=sid, confidence=0.5))

    def _resolve_rise(self, sid: int, series: SubjectSeries) -> None:
        assert series.rise_pending is not None
        cross_t, cross_frame = series.rise_pending
        series.rise_pending = None
        edge_t, edge_frame = self._edge(series, cross_t, before=False)
        self._rises.append(_Crossing(sid, cross_t, cross_frame, edge_t, edge_frame))

    def _edge(self, series: SubjectSeries, cross_t: float, before: bool) -> tuple[float, int]:
        """Where the blur began to grow before a fall, or stopped shrinking after a rise."""
        if before:
            rows = series.measured(cross_t - self.config.pair_s, cross_t)
        else:
            rows = series.measured(cross_t - 0.3, cross_t + self.config.land_wait_s)
        if len(rows) < 6:
            return cross_t, next((s.frame for s in series.samples if s.t >= cross_t), self._frame)
        ts = np.array([s.t for s in rows])
        ys = np.minimum(np.array([s.ratio for s in rows]), 2.0 * self.config.soft_ratio)  # far out, the slope flattens
        if before:
            knee = ramp_start(ts, ys)
        else:  # landed: the first reading within a little of the best the subject reached after crossing,
            # and after its last soft reading (a landing cannot come before the blur it landed from)
            floor = float(ys[ts >= cross_t].min())
            soft = np.flatnonzero((ys >= self.config.soft_ratio) & (ts <= cross_t))
            landed = (ys <= floor + LANDED_WITHIN) & (np.arange(len(ts)) > (soft[-1] if len(soft) else -1))
            knee = float(ts[np.argmax(landed)])
        index = int(np.argmin(np.abs(ts - knee)))
        return float(ts[index]), rows[index].frame

    # ------------------------------------------------------------------ walks
    @staticmethod
    def _walk_ended(series: SubjectSeries, move: Move) -> None:
        held = series.walk_pending
        if held is not None and (move.delta > 0) == (held.delta > 0) and move.start_t - held.end_t <= CONTINUATION_S:
            move = Move(move.index, held.start_t, move.end_t, held.start_frame, move.end_frame, held.before, move.after)
        series.walk_pending = move

    def _pull(self, sid: int, move: Move) -> Event | None:
        cfg = self.config
        series = self._series[sid]
        trimmed = self._from_first_sharp(series, move)
        if trimmed is None:
            return None
        move = trimmed
        spanned = series.between(move.start_t, move.end_t)
        during = [s for s in spanned if s.measured]
        if len(during) < 4 or len(during) < 0.6 * len(spanned) or move.end_t - move.start_t < MIN_WALK_S:
            return None  # too short, or mostly not seen
        sharp = sum(1 for s in during if s.ratio <= cfg.soft_ratio) / len(during)
        if sharp < cfg.pull_sharp_share or during[-1].ratio > cfg.soft_ratio:
            return None
        walked_dpt = abs(math.exp(-move.before) - math.exp(-move.after))
        if not self._evidence.moved(self._series, sid, move.start_t, move.end_t, walked_dpt):
            return None  # the subject walked inside the depth of field; focus stayed
        return Event("pull", move.start_t, move.end_t, move.start_frame, move.end_frame, "observed",
                     target_box=during[-1].box, from_id=sid, to_id=sid, distance_from_m=math.exp(move.before),
                     distance_to_m=math.exp(move.after),
                     confidence=float(min(0.99, 0.5 + abs(move.delta) * 1.5)))

    def _from_first_sharp(self, series: SubjectSeries, move: Move) -> Move | None:
        """The part of a walk from when the subject was first in focus (focus may have come to it on the way:
        a rack to a walker, then the pull); None when what is left is no walk."""
        first = next((s for s in series.samples if move.start_t <= s.t <= move.end_t and s.ratio <= 1.0), None)
        if first is None or first.t <= move.start_t + 0.2:
            return move
        rows = [s for s in series.between(first.t, move.end_t) if not math.isnan(s.distance)]
        if len(rows) < 6:
            return None
        ts = np.array([s.t for s in rows])
        knee = hinge_knee(ts, np.log(np.array([s.distance for s in rows])))  # where the walk itself began
        start = rows[int(np.argmin(np.abs(ts - knee)))]
        before = series.distance_near(start.t)
        if before is None or abs(move.after - math.log(before)) < math.log(1.0 + self.config.pull_min_change):
            return None
        return Move(move.index, start.t, move.end_t, start.frame, move.end_frame, math.log(before), move.after)

    # ------------------------------------------------------------------ decisions
    def _decide(self, final: bool) -> list[Event]:
        events = self._racks(final) + self._softs(final) + self._pulls(final)
        return sorted(events, key=lambda e: e.start)

    def _racks(self, final: bool) -> list[Event]:
        events = []
        for rise in sorted(self._rises, key=lambda r: r.cross_t):
            candidates = [f for f in self._falls if f.subject != rise.subject
                          and abs(f.cross_t - rise.cross_t) <= self.config.pair_s
                          and rise.cross_t >= f.edge_t - 0.1]  # it arrived after focus began to leave
            if not candidates:
                if final or self._t - rise.cross_t > self.config.pair_s:
                    self._rises.remove(rise)
                    arrival = self._arrival_rack(rise)  # focus came to it from someone not followed, or a plane
                    if arrival is not None:
                        events.append(arrival)
                continue
            fall = min(candidates, key=lambda f: abs(f.cross_t - rise.cross_t))
            self._falls.remove(fall)
            self._rises.remove(rise)
            start, end = min(fall.edge_t, rise.cross_t), max(fall.cross_t, rise.cross_t)
            if not self._held_by_another(start, end, {fall.subject, rise.subject}):
                events.append(self._rack(fall, rise))
        return events

    def _arrival_rack(self, rise: _Crossing) -> Event | None:
        """A subject seen out of focus came into it while standing still: focus moved to it, a rack.

        Nobody tracked left focus (the one who did was too small or too blurred
        to be followed, or focus came from a plane): the rack comes from a
        subject that was in focus and was lost just before, else from no one.
        """
        series = self._series.get(rise.subject)
        if series is None:
            return None
        before = [s for s in series.measured(rise.cross_t - ARRIVAL_LOOKBACK_S, rise.cross_t) if s.t < rise.cross_t]
        if sum(1 for s in before if s.ratio >= self.config.soft_ratio) < 5:
            return None  # not seen out of focus first
        d0, d1 = series.distance_near(before[0].t), series.distance_near(rise.edge_t)
        if d0 is None or d1 is None or abs(math.log(d1 / d0)) > math.log(1.0 + 0.5 * self.config.pull_min_change):
            return None  # it walked into focus; focus stayed
        start_t = descent_start(np.array([s.t for s in before]), np.array([s.ratio for s in before]))
        start_t = min(max(min(start_t, rise.cross_t), rise.cross_t - self.config.pair_s), rise.edge_t)
        if self._held_by_another(start_t, rise.cross_t, {rise.subject}):
            return None  # focus stayed on someone else and passed through this one's plane
        start_frame = min(before, key=lambda s: abs(s.t - start_t)).frame
        lost = [sid for sid, other in self._series.items() if sid != rise.subject and other.state == "sharp"
                and rise.cross_t - self.config.pair_s <= other.last_measured() <= rise.cross_t]
        from_id = lost[0] if len(lost) == 1 else None
        return Event("rack", start_t, rise.edge_t, start_frame, rise.edge_frame, "observed",
                     target_box=self._box_near(rise.subject, rise.edge_t), from_id=from_id, to_id=rise.subject,
                     distance_from_m=None if from_id is None else self._distance_near(from_id, start_t),
                     distance_to_m=self._distance_near(rise.subject, rise.edge_t), confidence=0.7)

    def _held_by_another(self, start: float, end: float, racked: set[int]) -> bool:
        """Someone else stayed in focus all through a would-be rack: focus never left them.

        (Focus following a walker passes other people's planes; they come and go
        while the walker stays sharp. That is a pull, not a rack between them.)
        """
        for sid, series in self._series.items():
            if sid in racked:
                continue
            during = [s.ratio for s in series.measured(start, end)]
            if len(during) >= 4 and max(during) <= 1.0:
                return True
        return False

    def _rack(self, fall: _Crossing, rise: _Crossing) -> Event:
        start_t, start_frame = min((fall.edge_t, fall.edge_frame), (rise.cross_t, rise.cross_frame))
        end_t, end_frame = max((rise.edge_t, rise.edge_frame), (fall.cross_t, fall.cross_frame))
        margin = abs(rise.cross_t - fall.cross_t) / self.config.pair_s
        return Event("rack", start_t, end_t, start_frame, end_frame, "observed",
                     target_box=self._box_near(rise.subject, end_t), from_id=fall.subject, to_id=rise.subject,
                     distance_from_m=self._distance_near(fall.subject, start_t),
                     distance_to_m=self._distance_near(rise.subject, end_t),
                     confidence=float(max(0.5, 0.97 - 0.4 * margin)))

    def _softs(self, final: bool) -> list[Event]:
        events = []
        for fall in list(self._falls):
            if not final and self._t - fall.cross_t <= self.config.pair_s:
                continue
            if any(r.subject != fall.subject and abs(r.cross_t - fall.cross_t) <= self.config.pair_s
                   and r.cross_t >= fall.edge_t - 0.1 for r in self._rises):
                continue  # a rise may still pair with it
            if not final and any(s.rise_pending is not None and sid != fall.subject
                                 for sid, s in self._series.items()):
                continue  # someone is arriving into focus: wait until it has landed
            self._falls.remove(fall)
            series = self._series.get(fall.subject)
            if series is None or series.state != "soft":
                continue  # it came back: a wobble, not a miss
            if any(s.state == "sharp" for sid, s in self._series.items()
                   if sid != fall.subject and self._t - s.last_seen < 0.5):
                continue  # focus stayed on someone else
            events.append(Event("soft", fall.edge_t, fall.cross_t, fall.edge_frame, fall.cross_frame, "observed",
                                target_box=self._box_near(fall.subject, fall.cross_t), from_id=fall.subject,
                                distance_from_m=self._distance_near(fall.subject, fall.edge_t), confidence=0.8))
        return events

    def _pulls(self, final: bool) -> list[Event]:
        events = []
        for sid, series in self._series.items():
            move = series.walk_pending
            if move is None or not (final or self._t - move.end_t > CONTINUATION_S + 0.2):
                continue
            series.walk_pending = None
            end, sign = series.pulled_until
            if move.start_t < end + CONTINUATION_S and (move.delta > 0) == (sign > 0):
                continue  # the rest of a walk whose pull was already reported
            if move.start_t < self._last_pull_end:
                continue  # focus follows one subject at a time: this walk overlaps a pull already reported
            pull = self._pull(sid, move)
            if pull is not None:
                series.pulled_until = (move.end_t, 1 if move.delta > 0 else -1)
                self._last_pull_end = max(self._last_pull_end, move.end_t)
                events.append(pull)
        return events

    def _box_near(self, sid: int, t: float) -> Box | None:
        series = self._series.get(sid)
        return None if series is None else series.box_near(t)

    def _distance_near(self, sid: int, t: float) -> float | None:
        series = self._series.get(sid)
        return None if series is None else series.distance_near(t)
