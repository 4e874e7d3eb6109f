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
  way. A subject walking inside a deep depth of field while focus stays is no
  pull.
- **soft**: a subject leaves focus and, ``pair_s`` later, no subject is in
  focus (focus went nowhere useful, or the subject walked out of it).

A subject's first reading is not a change: a face that appears already sharp
or already soft starts there. Onsets and landings come from a hinge fit
(flat, then a straight slope) to the blur ratio around each crossing, so they
are not late by the length of the hysteresis.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.focus.trends import Move, TrendBank, hinge_knee
from assistant.schema import limits
from assistant.types import Box, Event


@dataclass(frozen=True)
class SubjectEventConfig:
    """Thresholds of the subject labeller (``[classify]`` in the config)."""

    soft_ratio: float = field(default=1.5, metadata=limits(lo=1.0, hi=20.0))
    pair_s: float = field(default=2.5, metadata=limits(lo=0.1, hi=10.0))
    land_wait_s: float = field(default=0.7, metadata=limits(lo=0.1, hi=5.0))
    pull_min_change: float = field(default=0.12, metadata=limits(lo=0.01, hi=5.0))
    pull_sharp_share: float = field(default=0.8, metadata=limits(lo=0.1, hi=1.0))
    shift_ratio: float = field(default=0.6, metadata=limits(lo=0.05, hi=20.0))
    background_shift: float = field(default=1.35, metadata=limits(lo=1.01, hi=100.0))
    background_agreement: float = field(default=0.65, metadata=limits(lo=0.5, hi=1.0))
    walk_rate_on: float = field(default=0.05, metadata=limits(lo=0.005, hi=5.0))
    walk_rate_off: float = field(default=0.025, metadata=limits(lo=0.001, hi=5.0))


HISTORY_S = 12.0
"""Seconds of readings kept per subject and for the background: longer than any event it has to explain."""
LANDED_WITHIN = 0.4
"""A rack has landed once the incoming subject's blur ratio is within this of the best it then reaches."""
CONTINUATION_S = 1.0
"""A walk resuming this soon after it paused, the same way, is the same walk."""


@dataclass(frozen=True)
class Reading:
    """One subject on one frame, as the labeller needs it."""

    id: int
    box: Box
    ratio: float | None  # defocus blur over the acceptable limit; None while not measured (coasting)
    distance_m: float | None


@dataclass(frozen=True)
class _Crossing:
    """A subject crossing into or out of focus; ``edge_t`` is where its blur began (fall) or ended (rise) moving."""

    subject: int
    cross_t: float
    cross_frame: int
    edge_t: float
    edge_frame: int


@dataclass
class _Series:
    """What is remembered of one subject."""

    samples: deque = field(default_factory=lambda: deque())  # (t, frame, ratio|nan, box, distance|nan)
    state: str = ""  # "", "sharp" or "soft"
    walks: TrendBank | None = None
    last_seen: float = 0.0
    rise_pending: tuple[float, int] | None = None  # crossing into focus, landing not resolved yet
    walk_pending: Move | None = None  # a finished walk, held in case it goes on
    pulled_until: tuple[float, int] = (-math.inf, 0)  # end and direction of the last pull reported


class SubjectEventLabeller:
    """Subjects' readings in, completed events out (one verb: ``update``)."""

    def __init__(self, config: SubjectEventConfig = SubjectEventConfig()) -> None:
        if config.walk_rate_off >= config.walk_rate_on:
            raise ValueError("classify.walk_rate_off must be below classify.walk_rate_on")
        self.config = config
        self._series: dict[int, _Series] = {}
        self._falls: list[_Crossing] = []
        self._rises: list[_Crossing] = []
        self._background: deque = deque()  # (t, tile log levels, tiles clear of subjects)
        self._t = 0.0
        self._frame = 0
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
        self._background.append((t, tile_levels, tile_clear))
        while self._background and t - self._background[0][0] > HISTORY_S:
            self._background.popleft()
        for reading in readings:
            self._observe(reading, t, frame)
        for sid in [sid for sid, s in self._series.items() if t - s.last_seen > HISTORY_S]:
            del self._series[sid]
        return self._decide(final=False)

    def finish(self) -> list[Event]:
        """End of the clip: resolve what can be resolved with what was seen."""
        for sid, series in self._series.items():
            if series.rise_pending is not None:
                self._resolve_rise(sid, series)
            if series.walks is not None:
                for move in series.walks.flush():
                    self._walk_ended(sid, series, move)
        return self._decide(final=True)

    def _observe(self, reading: Reading, t: float, frame: int) -> None:
        series = self._series.get(reading.id)
        if series is None:
            series = self._series[reading.id] = _Series()
            cfg = self.config
            series.walks = TrendBank(1, cfg.walk_rate_on, cfg.walk_rate_off,
                                     math.log(1.0 + cfg.pull_min_change), window_s=1.0)
        series.last_seen = t
        ratio = math.nan if reading.ratio is None else reading.ratio
        distance = math.nan if not reading.distance_m else reading.distance_m
        series.samples.append((t, frame, ratio, reading.box, distance))
        while series.samples and t - series.samples[0][0] > HISTORY_S:
            series.samples.popleft()
        assert series.walks is not None
        for move in series.walks.push(t, frame, np.array([math.log(distance) if distance == distance else math.nan])):
            self._walk_ended(reading.id, series, move)
        if reading.ratio is not None:
            self._step_state(reading.id, series, reading.ratio, t, frame)
        if series.rise_pending is not None and t - series.rise_pending[0] >= self.config.land_wait_s:
            self._resolve_rise(reading.id, series)

    def _step_state(self, sid: int, series: _Series, ratio: float, t: float, frame: int) -> None:
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
                                                  target_box=series.samples[-1][3], from_id=fall.subject,
                                                  to_id=sid, confidence=0.5))

    def _resolve_rise(self, sid: int, series: _Series) -> None:
        assert series.rise_pending is not None
        cross_t, cross_frame = series.rise_pending
        series.rise_pending = None
        edge_t, edge_frame = self._edge(series, cross_t, before=False)
        self._rises.append(_Crossing(sid, cross_t, cross_frame, edge_t, edge_frame))

    def _edge(self, series: _Series, cross_t: float, before: bool) -> tuple[float, int]:
        """Where the blur began to grow before a fall, or stopped shrinking after a rise."""
        span = self.config.pair_s
        rows = [(s[0], s[1], s[2]) for s in series.samples
                if (cross_t - span <= s[0] <= cross_t if before else cross_t - 0.3 <= s[0] <= cross_t + self.config.land_wait_s)
                and s[2] == s[2]]
        if len(rows) < 6:
            return cross_t, next((s[1] for s in series.samples if s[0] >= cross_t), self._frame)
        ts = np.array([r[0] for r in rows])
        ys = np.minimum(np.array([r[2] for r in rows]), 2.0 * self.config.soft_ratio)  # far out, the slope flattens
        if before:
            knee = _ramp_start(ts, ys)
        else:  # landed: the first reading within a little of the best the subject reached after crossing
            floor = float(ys[ts >= cross_t].min())
            knee = float(ts[np.argmax(ys <= floor + LANDED_WITHIN)])
        index = int(np.argmin(np.abs(ts - knee)))
        return float(ts[index]), int(rows[index][1])

    # ------------------------------------------------------------------ walks
    def _walk_ended(self, sid: int, series: _Series, move: Move) -> None:
        held = series.walk_pending
        if held is not None and (move.delta > 0) == (held.delta > 0) and move.start_t - held.end_t <= CONTINUATION_S:
            move = Move(move.index, held.start_t, move.end_t, held.start_frame, move.end_frame, held.before, move.after)
        series.walk_pending = move

    def _pull(self, sid: int, move: Move) -> Event | None:
        cfg = self.config
        series = self._series[sid]
        during = [s for s in series.samples if move.start_t <= s[0] <= move.end_t and s[2] == s[2]]
        if len(during) < 4:
            return None
        sharp = sum(1 for s in during if s[2] <= cfg.soft_ratio) / len(during)
        if sharp < cfg.pull_sharp_share or during[-1][2] > cfg.soft_ratio:
            return None
        if not (self._others_shifted(sid, move) or self._background_shifted(move.start_t, move.end_t)):
            return None  # the subject walked inside the depth of field; focus stayed
        box = during[-1][3]
        return Event("pull", move.start_t, move.end_t, move.start_frame, move.end_frame, "observed",
                     target_box=box, from_id=sid, to_id=sid, distance_from_m=math.exp(move.before),
                     distance_to_m=math.exp(move.after),
                     confidence=float(min(0.99, 0.5 + abs(move.delta) * 1.5)))

    def _others_shifted(self, sid: int, move: Move) -> bool:
        """Another subject, standing still, got visibly sharper or softer while this one walked.

        Its first and last readings during the walk are compared: a subject too
        blurred to be found at the start is often found as focus comes toward it.
        """
        for other, series in self._series.items():
            if other == sid:
                continue
            during = [s for s in series.samples if move.start_t - 0.15 <= s[0] <= move.end_t + 0.15 and s[2] == s[2]]
            if len(during) < 6 or during[-1][0] - during[0][0] < 0.5:
                continue
            a = float(np.median([s[2] for s in during[:5]]))
            b = float(np.median([s[2] for s in during[-5:]]))
            da, db = _mean_near(series.samples, during[0][0], 4), _mean_near(series.samples, during[-1][0], 4)
            walked = da is not None and db is not None and abs(math.log(db / da)) > math.log(1.08)
            if not walked and abs(math.log(max(b, 0.05) / max(a, 0.05))) >= math.log(1.0 + self.config.shift_ratio):
                return True
        return False

    def _background_shifted(self, start: float, end: float) -> bool:
        """The background, away from the subjects, got sharper or softer all one way."""
        before = [(lv, clear) for t, lv, clear in self._background if start - 0.2 <= t <= start + 0.1]
        after = [(lv, clear) for t, lv, clear in self._background if end - 0.1 <= t <= end + 0.2]
        if not before or not after:
            return False
        a = np.median(np.array([lv for lv, _ in before]), axis=0)
        b = np.median(np.array([lv for lv, _ in after]), axis=0)
        clear = np.logical_and.reduce([c for _, c in before + after])
        change = (b - a)[clear & np.isfinite(a) & np.isfinite(b)]
        if change.size < 4:
            return False
        typical = float(np.median(change))
        agreeing = float(np.mean(np.sign(change) == np.sign(typical)))
        return abs(typical) >= math.log(self.config.background_shift) and agreeing >= self.config.background_agreement

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
                    self._rises.remove(rise)  # came into focus alone: walked into it
                continue
            fall = min(candidates, key=lambda f: abs(f.cross_t - rise.cross_t))
            self._falls.remove(fall)
            self._rises.remove(rise)
            events.append(self._rack(fall, rise))
        return events

    def _rack(self, fall: _Crossing, rise: _Crossing) -> Event:
        start_t, start_frame = min((fall.edge_t, fall.edge_frame), (rise.cross_t, rise.cross_frame))
        end_t, end_frame = max((rise.edge_t, rise.edge_frame), (fall.cross_t, fall.cross_frame))
        box = self._box_near(rise.subject, end_t)
        margin = abs(rise.cross_t - fall.cross_t) / self.config.pair_s
        return Event("rack", start_t, end_t, start_frame, end_frame, "observed", target_box=box,
                     from_id=fall.subject, to_id=rise.subject,
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
            pull = self._pull(sid, move)
            if pull is not None:
                series.pulled_until = (move.end_t, 1 if move.delta > 0 else -1)
                events.append(pull)
        return events

    def _box_near(self, sid: int, t: float) -> Box | None:
        series = self._series.get(sid)
        if series is None or not series.samples:
            return None
        return min(series.samples, key=lambda s: abs(s[0] - t))[3]

    def _distance_near(self, sid: int, t: float) -> float | None:
        series = self._series.get(sid)
        if series is None:
            return None
        return _mean_near(series.samples, t, 4)


def _mean_near(samples: deque, t: float, column: int, half_s: float = 0.15) -> float | None:
    """Median of one column of a subject's samples within ``half_s`` of ``t`` (NaNs left out)."""
    values = [s[column] for s in samples if abs(s[0] - t) <= half_s and s[column] == s[column]]
    return float(np.median(values)) if values else None


def _ramp_start(ts: np.ndarray, ratios: np.ndarray) -> float:
    """When a subject began to leave focus: its rising blur ratio followed back to where it started.

    Defocus blur grows in proportion to how far focus has moved, so the
    clearly rising part of the ratio (0.5 to 1.6) is a straight line that
    meets the subject's earlier level where focus began to move, well before
    the blur could be seen. Where the rise is too short for a line, the
    hinge fit (flat, then a slope) dates it.
    """
    rising = (ratios >= 0.5) & (ratios <= 1.6)
    last_low = np.flatnonzero(ratios < 0.5)
    if last_low.size:
        rising[: last_low[-1]] = False  # only the final climb
    if rising.sum() < 4:
        return hinge_knee(ts, ratios)
    slope, intercept = np.polyfit(ts[rising], ratios[rising], 1)
    if slope <= 0:
        return hinge_knee(ts, ratios)
    earlier = ratios[ts < ts[rising][0]]
    level = float(np.median(earlier)) if earlier.size else 0.0
    start = (level - intercept) / slope
    return float(min(max(start, ts[rising][0] - 1.0, ts[0]), ts[rising][0]))
