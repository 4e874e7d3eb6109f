"""Racks and soft focus between planes of the picture, for pictures without tracked faces.

Each tile's log-sharpness goes through a :class:`TrendBank`; moves close in
time form a group, and a group becomes at most one event:

- *rack*: at least ``min_plane_tiles`` tiles that were near the sharpest of
  the picture fall while as many others rise to near the sharpest;
- *soft*: sharp tiles fall and nothing rises.

"Sharp" here is relative to the sharpest tile of the same picture: tiles
cross no subject, so there is no face to judge absolutely.
"""

from __future__ import annotations

import math

import numpy as np

from assistant.focus.trends import Move, TrendBank
from assistant.focus.settings import PlaneConfig
from assistant.types import Box, Event, SharpnessMap

MAX_EVENT_S = 5.0
"""Tile moves spread over longer than this are the camera moving (a pan), not a rack or a miss."""
NEAR_TOP = math.log(3.0)
"""A tile within this factor of the sharpest tile counts as part of the sharp plane."""


class PlaneLabeller:
    """Tile levels in, plane events out (one verb: ``update``)."""

    def __init__(self, grid: tuple[int, int], config: PlaneConfig = PlaneConfig()) -> None:
        if config.rate_off >= config.rate_on:
            raise ValueError("classify.rate_off must be below classify.rate_on")
        self.config = config
        self.grid = grid
        self._tiles = TrendBank(grid[0] * grid[1], config.rate_on, config.rate_off, math.log(config.min_change))
        self._pending: list[Move] = []
        self._tile_boxes: list[Box] = []
        self._t = 0.0

    def update(self, t: float, frame: int, sharpness: SharpnessMap, levels: np.ndarray) -> None:
        """Feed one frame's tile log-levels; events are collected by :meth:`events`."""
        self._t = t
        if not self._tile_boxes:
            rows, cols = self.grid
            self._tile_boxes = [sharpness.tile_box(r, c) for r in range(rows) for c in range(cols)]
        self._pending += self._tiles.push(t, frame, levels)

    def events(self, labelling: bool, final: bool = False, since: float = -float("inf")) -> list[Event]:
        """Groups of moves that have settled, as events; dropped unlabelled while ``labelling`` is off, or
        when they began before ``since`` (while faces were still followed) or last longer than any rack."""
        if final:
            self._pending += self._tiles.flush()
        if not self._pending:
            return []
        gap = self.config.group_gap_s
        self._pending.sort(key=lambda m: m.start_t)
        busy_from = self._tiles.earliest_move_start_t()
        events: list[Event] = []
        while self._pending:
            group, end = [self._pending[0]], self._pending[0].end_t
            for move in self._pending[1:]:
                if move.start_t <= end + gap:
                    group.append(move)
                    end = max(end, move.end_t)
            settled = final or (self._t - end > gap + 0.2 and (busy_from is None or busy_from > end + gap))
            if not settled:
                break
            self._pending = [m for m in self._pending if m not in group]
            first_start = min(m.start_t for m in group)
            usable = labelling and first_start >= since and end - first_start <= MAX_EVENT_S
            event = self._label(group) if usable else None
            if event is not None:
                events.append(event)
        return events

    def _label(self, tiles: list[Move]) -> Event | None:
        cfg = self.config
        # "Sharp" tiles are judged against the sharpest tile of the picture as it was then.
        before = self._tiles.sample_near(min(m.start_t for m in tiles))
        levels = self._tiles.value_at(before) if before is not None else self._tiles.latest
        sharpest = float(np.nanmax(levels)) if np.isfinite(levels).any() else -np.inf
        falls = [m for m in tiles if m.delta < 0 and sharpest - m.before <= NEAR_TOP]
        top_after = max(m.after for m in tiles)
        rises = [m for m in tiles if m.delta > 0 and top_after - m.after <= NEAR_TOP]
        if len(falls) >= cfg.min_plane_tiles and len(rises) >= cfg.min_plane_tiles:
            amplitude = float(np.median([abs(m.delta) for m in falls]) + np.median([m.delta for m in rises]))
            return self._event("rack", falls + rises, rises, amplitude)
        if len(falls) >= cfg.min_plane_tiles and not rises:
            amplitude = float(np.median([abs(m.delta) for m in falls]))
            return self._event("soft", falls, falls, amplitude)
        return None

    def _event(self, kind: str, moves: list[Move], sharp_after: list[Move], amplitude: float) -> Event:
        first = min(moves, key=lambda m: m.start_t)
        last = max(moves, key=lambda m: m.end_t)
        return Event(kind, first.start_t, last.end_t, first.start_frame, last.end_frame, "observed",
                     target_box=_union([self._tile_boxes[m.index] for m in sharp_after]),
                     confidence=_confidence(amplitude, len(moves)))


def _union(boxes: list[Box]) -> Box:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return (x0, y0, x1 - x0, y1 - y0)


def _confidence(amplitude: float, supporting: int) -> float:
    """Bigger and better-supported changes are surer: 0.5 at the threshold, toward 0.99."""
    return float(min(0.99, 1.0 - 0.5 * math.exp(-(amplitude - 0.7) / 1.5) / math.sqrt(max(1, supporting - 1))))
