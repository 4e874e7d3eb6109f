"""Label what focus did, from the picture alone: racks, tracking pulls, soft focus.

Needs no lens data, so it works on any video. Per frame it gets every
subject's face-box sharpness and distance, and the tile grid:

- each subject's sharpness is turned into a log level, scaled by its box width
  (a face twice as large shows its texture at half the spatial frequency, so
  its Laplacian variance halves even when it is perfectly sharp), and each
  tile's sharpness into a log level; :class:`TrendBank` finds their moves;
- *rack*: one region that was sharp goes soft while another becomes sharp
  (a sharp subject falling and another subject rising in the same stretch of
  time; on the tile grid, when no faces are tracked: sharp tiles falling while
  others rise to become the sharpest);
- *pull* (tracking pull): a sharp subject moves in depth (its distance moves
  by at least 12 %) and stays sharp while the rest of the picture's sharpness
  shifts (another region's level changes by at least 1.5x) - focus followed it;
- *soft*: a sharp subject (or the sharp tiles) goes soft and nothing takes its
  place.

"Sharp" for a region means within a factor of two of the best it has shown,
so each subject is compared with itself, never with another face's texture.
Exposure flicker cancels in the normalised sharpness; sensor noise and box
jitter stay below the move thresholds (a move needs a 2x change at 0.8/s).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.focus.trends import Move, TrendBank
from assistant.schema import limits
from assistant.types import Box, Event, SharpnessMap, Subject


CONTINUATION_S = 1.0
"""A subject's distance move starting this soon after its last pull, the same way, is that pull going on."""


@dataclass(frozen=True)
class ClassifierConfig:
    """Thresholds of the observed-event classifier (``[classify]`` in the config)."""

    rate_on: float = field(default=0.8, metadata=limits(lo=0.05, hi=50.0))
    rate_off: float = field(default=0.3, metadata=limits(lo=0.01, hi=50.0))
    min_change: float = field(default=2.0, metadata=limits(lo=1.1, hi=100.0))
    pull_min_change: float = field(default=0.12, metadata=limits(lo=0.01, hi=5.0))
    shift_min_change: float = field(default=1.5, metadata=limits(lo=1.05, hi=100.0))
    sharp_within: float = field(default=2.0, metadata=limits(lo=1.05, hi=100.0))
    group_gap_s: float = field(default=0.35, metadata=limits(lo=0.0, hi=10.0))
    min_plane_tiles: int = field(default=2, metadata=limits(lo=1, hi=1000))
    reference_half_life_s: float = field(default=30.0, metadata=limits(lo=0.5, hi=3600.0))


SLOTS = 16
"""Subjects followed at once; each has a slot (a series) in the shared trend banks."""
FREE_SLOT_AFTER_S = 2.0
FORGET_AFTER_S = 30.0


@dataclass
class _SubjectSeries:
    """What the classifier remembers of one subject; its series live in ``slot`` of the banks."""

    id: int
    slot: int
    width0: float
    last_seen: float
    best: float = -math.inf
    best_t: float = 0.0
    boxes: dict[int, Box] = field(default_factory=dict)  # sample number -> box
    distances: dict[int, float] = field(default_factory=dict)


class EventClassifier:
    """Frames' measurements in, completed events out (one verb: ``update``)."""

    def __init__(self, grid: tuple[int, int], config: ClassifierConfig = ClassifierConfig()) -> None:
        if config.rate_off >= config.rate_on:
            raise ValueError("classify.rate_off must be below classify.rate_on")
        self.config = config
        self.grid = grid
        self._tiles = self._bank(grid[0] * grid[1], math.log(config.min_change))
        # Every subject's sharpness and distance in two banks, so a frame costs the same
        # few vectorised steps however many subjects come and go.
        self._sharp = self._bank(SLOTS, math.log(config.min_change))
        self._dist = TrendBank(SLOTS, rate_on=0.06, rate_off=0.035,
                               min_delta=math.log(1.0 + config.pull_min_change), window_s=1.0)
        self._owner: list[int | None] = [None] * SLOTS
        self._subjects: dict[int, _SubjectSeries] = {}
        self._pending: list[tuple[str, int, Move]] = []  # ("subject"|"tile"|"distance", key, move)
        self._tracked_recently: list[float] = []
        self._tile_boxes: list[Box] = []
        self._pulled_until: dict[int, tuple[float, int]] = {}  # subject -> (end, direction) of its last pull
        self._t = 0.0

    def _bank(self, count: int, min_delta: float) -> TrendBank:
        return TrendBank(count, self.config.rate_on, self.config.rate_off, min_delta)

    def focus_state(self, subject_id: int) -> tuple[float | None, bool | None]:
        """(score, in focus): sharpness now over the best this subject has shown (0..1), and whether
        that is within ``sharp_within`` of it; (None, None) while not known yet."""
        score = self._focus_score(subject_id)
        return score, (None if score is None else score >= 1.0 / self.config.sharp_within)

    def _focus_score(self, subject_id: int) -> float | None:
        series = self._subjects.get(subject_id)
        if series is None or self._owner[series.slot] != subject_id:
            return None
        level = float(self._sharp.latest[series.slot])
        if not math.isfinite(level) or not math.isfinite(series.best):
            return None
        return min(1.0, math.exp(level - series.best))

    # ------------------------------------------------------------------ update
    def update(self, t: float, frame: int, sharpness: SharpnessMap, subjects: Sequence[Subject]) -> list[Event]:
        """Feed one frame; returns the events that completed (usually none)."""
        self._t = t
        if not self._tile_boxes:
            rows, cols = self.grid
            self._tile_boxes = [sharpness.tile_box(r, c) for r in range(rows) for c in range(cols)]
        tile_levels = np.log(np.maximum(sharpness.tiles.ravel(), 1e-9))
        for move in self._tiles.push(t, frame, tile_levels):
            self._pending.append(("tile", move.index, move))
        if subjects:
            self._tracked_recently.append(t)
        self._tracked_recently = [x for x in self._tracked_recently if t - x < 5.0]
        self._release_slots(t)
        levels = np.full(SLOTS, np.nan)
        distances = np.full(SLOTS, np.nan)
        present = []
        for subject in subjects:
            series = self._series_for(subject, t)
            if series is None:
                continue  # more subjects than slots: the newest wait
            present.append((subject, series))
            if not subject.coasting and subject.sharpness and subject.sharpness > 0:
                levels[series.slot] = math.log(subject.sharpness * subject.box[2] / series.width0)
                if subject.distance_m:
                    distances[series.slot] = math.log(subject.distance_m)
        owners = list(self._owner)
        self._pending += [("subject", owners[m.index], m) for m in self._sharp.push(t, frame, levels)
                          if owners[m.index] is not None]
        self._pending += [("distance", owners[m.index], m) for m in self._dist.push(t, frame, distances)
                          if owners[m.index] is not None]
        sample = self._sharp.samples - 1
        for subject, series in present:
            self._remember(series, subject, sample, t)
        return self._emit(final=False)

    def finish(self) -> list[Event]:
        """End of the clip: close moves in progress and emit what they complete."""
        for move in self._tiles.flush():
            self._pending.append(("tile", move.index, move))
        owners = list(self._owner)
        self._pending += [("subject", owners[m.index], m) for m in self._sharp.flush() if owners[m.index] is not None]
        self._pending += [("distance", owners[m.index], m) for m in self._dist.flush() if owners[m.index] is not None]
        return self._emit(final=True)

    def _series_for(self, subject: Subject, t: float) -> _SubjectSeries | None:
        series = self._subjects.get(subject.id)
        if series is not None and self._owner[series.slot] == subject.id:
            series.last_seen = t
            return series
        if None not in self._owner:
            return None
        slot = self._owner.index(None)
        self._owner[slot] = subject.id
        series = _SubjectSeries(subject.id, slot, float(subject.box[2]), t)
        self._subjects[subject.id] = series
        return series

    def _release_slots(self, t: float) -> None:
        """Free the slots of subjects gone for a while (their series have reset), forget old ones."""
        for slot, sid in enumerate(self._owner):
            if sid is not None and t - self._subjects[sid].last_seen > FREE_SLOT_AFTER_S:
                self._owner[slot] = None
        waiting = {key for kind, key, _ in self._pending if kind != "tile"}
        self._subjects = {sid: s for sid, s in self._subjects.items()
                          if t - s.last_seen <= FORGET_AFTER_S or sid in waiting}

    def _remember(self, series: _SubjectSeries, subject: Subject, sample: int, t: float) -> None:
        series.boxes[sample] = subject.box
        if subject.distance_m is not None:
            series.distances[sample] = subject.distance_m
        for old in [k for k in series.boxes if k < sample - 600]:
            series.boxes.pop(old, None)
            series.distances.pop(old, None)
        smoothed = float(self._sharp.latest[series.slot])
        if math.isfinite(smoothed):
            decay = math.log(2.0) / self.config.reference_half_life_s * (t - series.best_t)
            series.best = max(series.best - max(decay, 0.0), smoothed)
            series.best_t = t

    # ------------------------------------------------------------------ events
    def _emit(self, final: bool) -> list[Event]:
        if not self._pending:
            return []
        cfg = self.config
        self._pending.sort(key=lambda item: item[2].start_t)
        busy_from = self._earliest_active_start()
        events: list[Event] = []
        while self._pending:
            group, end = [self._pending[0]], self._pending[0][2].end_t
            for item in self._pending[1:]:
                # A walk read as two stretches of distance change is one walk: wait longer for it.
                gap = CONTINUATION_S if item[0] == "distance" else cfg.group_gap_s
                if item[2].start_t <= end + gap:
                    group.append(item)
                    end = max(end, item[2].end_t)
            wait = CONTINUATION_S if any(kind == "distance" for kind, _, _ in group) else cfg.group_gap_s
            settled = final or (self._t - end > wait + 0.2 and (busy_from is None or busy_from > end + wait))
            if not settled:
                break
            self._pending = [item for item in self._pending if item not in group]
            event = self._label(group)
            if event is not None:
                events.append(event)
        return events

    def _earliest_active_start(self) -> float | None:
        starts = [b.earliest_move_start_t() for b in (self._tiles, self._sharp, self._dist)]
        known = [s for s in starts if s is not None]
        return min(known) if known else None

    def _label(self, group: list[tuple[str, int, Move]]) -> Event | None:
        """Turn a group of moves that overlap in time into at most one event."""
        log_sharp = math.log(self.config.sharp_within)
        falls = [(k, m) for kind, k, m in group if kind == "subject" and m.delta < 0
                 and self._was_sharp(k, m.before)]
        rises = [(k, m) for kind, k, m in group if kind == "subject" and m.delta > 0
                 and self._subjects[k].best - m.after <= log_sharp]
        distance_moves = _merged_distance_moves([(k, m) for kind, k, m in group if kind == "distance"])
        if falls and rises:
            (x, fall), (y, rise) = max(falls, key=lambda f: -f[1].delta), max(rises, key=lambda r: r[1].delta)
            if x != y:
                return self._event("rack", fall, rise, x, y, min(fall.start_t, rise.start_t),
                                   max(fall.end_t, rise.end_t), abs(fall.delta) + rise.delta)
        for y, move in sorted(distance_moves, key=lambda d: -abs(d[1].delta)):
            pull = self._pull(y, move, group)
            if pull is not None:
                return pull
        if falls:
            x, fall = max(falls, key=lambda f: -f[1].delta)
            if not rises:
                return self._event("soft", fall, fall, x, None, fall.start_t, fall.end_t, abs(fall.delta))
        if not self._subjects_present(group):
            return self._plane_event(group)
        return None

    def _was_sharp(self, sid: int, level: float) -> bool:
        return self._subjects[sid].best - level <= math.log(self.config.sharp_within)

    def _pull(self, sid: int, move: Move, group: list[tuple[str, int, Move]]) -> Event | None:
        series = self._subjects[sid]
        bank = self._sharp
        first, last = bank.sample_near(move.start_t), bank.sample_near(move.end_t)
        if first is None or last is None:
            return None
        levels = np.array([bank.value_at(s)[series.slot] for s in range(first, last + 1)])
        levels = levels[np.isfinite(levels)]
        drawdown = float(np.max(np.maximum.accumulate(levels) - levels)) if levels.size else math.inf
        if drawdown > math.log(self.config.sharp_within) or series.best - levels[-1] > math.log(self.config.sharp_within):
            return None  # it went soft on the way: not a pull (a soft event covers it)
        reported_end, reported_sign = self._pulled_until.get(sid, (-math.inf, 0))
        if move.start_t < reported_end + CONTINUATION_S and (move.delta > 0) == (reported_sign > 0):
            return None  # the rest of a walk whose pull was already reported
        self._pulled_until[sid] = (move.end_t, 1 if move.delta > 0 else -1)
        d0, d1 = math.exp(move.before), math.exp(move.after)
        box = series.boxes.get(last) or next(iter(series.boxes.values()))
        confidence = min(0.99, 0.5 + abs(move.delta) * 2.0)
        return Event("pull", move.start_t, move.end_t, move.start_frame, move.end_frame, "observed",
                     target_box=box, from_id=sid, to_id=sid, distance_from_m=d0, distance_to_m=d1,
                     confidence=confidence)

    def _scene_shifted(self, sid: int, start_t: float, end_t: float) -> bool:
        shift = math.log(self.config.shift_min_change)
        a, b = self._sharp.sample_near(start_t), self._sharp.sample_near(end_t)
        for other, series in self._subjects.items():
            if other == sid or self._owner[series.slot] != other:
                continue
            if a is not None and b is not None:
                va, vb = self._sharp.value_at(a)[series.slot], self._sharp.value_at(b)[series.slot]
                if math.isfinite(va) and math.isfinite(vb) and abs(vb - va) >= shift:
                    return True
        a, b = self._tiles.sample_near(start_t), self._tiles.sample_near(end_t)
        if a is None or b is None:
            return False
        change = np.abs(self._tiles.value_at(b) - self._tiles.value_at(a))
        return bool(np.nansum(change >= shift) >= self.config.min_plane_tiles)

    def _subjects_present(self, group: list[tuple[str, int, Move]]) -> bool:
        start = min(m.start_t for _, _, m in group) - 1.0
        end = max(m.end_t for _, _, m in group) + 1.0
        return any(start <= t <= end for t in self._tracked_recently) or any(
            kind != "tile" for kind, _, _ in group)

    def _plane_event(self, group: list[tuple[str, int, Move]]) -> Event | None:
        """Racks and soft focus on the tile grid, for pictures without tracked faces."""
        cfg = self.config
        near_top = math.log(3.0)
        tiles = [m for kind, _, m in group if kind == "tile"]
        if not tiles:
            return None
        # "Sharp" tiles are judged against the sharpest tile of the picture as it was then.
        before = self._tiles.sample_near(min(m.start_t for m in tiles))
        levels = self._tiles.value_at(before) if before is not None else self._tiles.latest
        sharpest = float(np.nanmax(levels)) if np.isfinite(levels).any() else -np.inf
        falls = [m for m in tiles if m.delta < 0 and sharpest - m.before <= near_top]
        ends = [m.after for m in tiles]
        top_after = max(ends) if ends else -np.inf
        rises = [m for m in tiles if m.delta > 0 and top_after - m.after <= near_top]
        if len(falls) >= cfg.min_plane_tiles and len(rises) >= cfg.min_plane_tiles:
            start = min(m.start_t for m in falls + rises)
            end = max(m.end_t for m in falls + rises)
            first = min(falls + rises, key=lambda m: m.start_t)
            last = max(falls + rises, key=lambda m: m.end_t)
            amplitude = float(np.median([abs(m.delta) for m in falls]) + np.median([m.delta for m in rises]))
            return Event("rack", start, end, first.start_frame, last.end_frame, "observed",
                         target_box=self._union([self._tile_boxes[m.index] for m in rises]),
                         confidence=_confidence(amplitude, len(falls) + len(rises)))
        if len(falls) >= cfg.min_plane_tiles and not rises:
            start, end = min(m.start_t for m in falls), max(m.end_t for m in falls)
            first = min(falls, key=lambda m: m.start_t)
            last = max(falls, key=lambda m: m.end_t)
            return Event("soft", start, end, first.start_frame, last.end_frame, "observed",
                         target_box=self._union([self._tile_boxes[m.index] for m in falls]),
                         confidence=_confidence(float(np.median([abs(m.delta) for m in falls])), len(falls)))
        return None

    def _event(self, kind: str, first: Move, last: Move, from_id: int, to_id: int | None,
               start: float, end: float, amplitude: float) -> Event:
        target = self._subjects[to_id if to_id is not None else from_id]
        sample = self._sharp.sample_near(end)
        box = target.boxes.get(sample) if sample is not None else None
        if box is None:
            box = target.boxes[max(target.boxes)]
        return Event(kind, start, end, min(first.start_frame, last.start_frame),
                     max(first.end_frame, last.end_frame), "observed", target_box=box,
                     from_id=from_id, to_id=to_id,
                     distance_from_m=self._distance_near(from_id, start),
                     distance_to_m=self._distance_near(to_id, end) if to_id is not None else None,
                     confidence=_confidence(amplitude, 2))

    def _distance_near(self, sid: int, t: float) -> float | None:
        series = self._subjects[sid]
        sample = self._sharp.sample_near(t)
        if sample is None:
            return None
        known = [k for k in series.distances if k <= sample]
        return series.distances[max(known)] if known else None

    @staticmethod
    def _union(boxes: list[Box]) -> Box:
        x0 = min(b[0] for b in boxes)
        y0 = min(b[1] for b in boxes)
        x1 = max(b[0] + b[2] for b in boxes)
        y1 = max(b[1] + b[3] for b in boxes)
        return (x0, y0, x1 - x0, y1 - y0)


def _merged_distance_moves(moves: list[tuple[int, Move]]) -> list[tuple[int, Move]]:
    """One move per subject and direction: a walk read as two stretches is one walk."""
    merged: dict[tuple[int, bool], Move] = {}
    for sid, move in sorted(moves, key=lambda item: item[1].start_t):
        key = (sid, move.delta > 0)
        earlier = merged.get(key)
        if earlier is None:
            merged[key] = move
        else:
            merged[key] = Move(move.index, earlier.start_t, move.end_t, earlier.start_frame, move.end_frame,
                               earlier.before, move.after)
    return list(merged.items()) and [(sid, m) for (sid, _), m in merged.items()]


def _confidence(amplitude: float, supporting: int) -> float:
    """Bigger and better-supported changes are surer: 0.5 at the threshold, toward 0.99."""
    return float(min(0.99, 1.0 - 0.5 * math.exp(-(amplitude - 0.7) / 1.5) / math.sqrt(max(1, supporting - 1))))
