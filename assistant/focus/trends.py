"""Find monotone moves in many scalar series at once (vectorised over series).

A *move* is a stretch where a series (a region's log-sharpness, a subject's
log-distance) climbs or falls steadily by at least ``min_delta``. Each new
sample is median-filtered over five samples (a one-frame glitch cannot start
a move), the slope is a least-squares fit over ``window_s``, and a move starts
after two samples above ``rate_on`` and ends after three below ``rate_off``.
The start is then refined back to where the series left its previous level,
so onsets are not late by the length of the windows.

Missing samples (NaN: a subject coasting behind someone) shorter than
``bridge_s`` hold the last value; longer gaps reset that series, ending any
move at its last good sample, so a move never spans a real gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MEDIAN = 5
MEDIAN_LAG = MEDIAN // 2


@dataclass(frozen=True)
class Move:
    """A completed move of series ``index``; ``before``/``after`` are smoothed levels."""

    index: int
    start_t: float
    end_t: float
    start_frame: int
    end_frame: int
    before: float
    after: float

    @property
    def delta(self) -> float:
        return self.after - self.before


class TrendBank:
    """Detects moves in ``count`` series sampled together (one verb: ``push``)."""

    def __init__(self, count: int, rate_on: float, rate_off: float, min_delta: float,
                 window_s: float = 0.3, history: int = 600, bridge_s: float = 0.25) -> None:
        if count < 1:
            raise ValueError(f"a trend bank needs at least one series, got {count}")
        if not 0 < rate_off < rate_on:
            raise ValueError(f"need 0 < rate_off < rate_on, got {rate_off} and {rate_on}")
        if min_delta <= 0 or window_s <= 0:
            raise ValueError("min_delta and window_s must be > 0")
        self.count = count
        self.rate_on, self.rate_off, self.min_delta = rate_on, rate_off, min_delta
        self.window_s = window_s
        self.bridge_s = bridge_s
        self.size = history
        self._last_value = np.full(count, np.nan)
        self._last_t = np.full(count, -np.inf)
        self._raw = np.full((history, count), np.nan)
        self.smooth = np.full((history, count), np.nan)  # smoothed value of sample i, centred at times[i - lag]
        self.times = np.full(history, np.nan)
        self.frames = np.zeros(history, dtype=np.int64)
        self._n = 0  # samples pushed so far
        self._valid = np.zeros(count, dtype=np.int64)  # consecutive valid samples per series
        self._direction = np.zeros(count, dtype=np.int8)  # 0 idle, +1 rising, -1 falling
        self._on = np.zeros(count, dtype=np.int64)
        self._off = np.zeros(count, dtype=np.int64)
        self._start = np.zeros(count, dtype=np.int64)  # sample number where the current move began
        self._window = 0

    # ----------------------------------------------------------------- access
    def value_at(self, sample: int) -> np.ndarray:
        """Smoothed values of every series at absolute sample number ``sample`` (must be recent)."""
        return self.smooth[sample % self.size]

    def sample_near(self, t: float) -> int | None:
        """The most recent sample number whose (smoothed, lag-corrected) time is <= ``t``."""
        for back in range(min(self._n, self.size) - 1):
            i = self._n - 1 - back
            st = self._time_of(i)
            if st is not None and st <= t:
                return i
        return None

    @property
    def samples(self) -> int:
        """How many samples have been pushed."""
        return self._n

    @property
    def latest(self) -> np.ndarray:
        return self.smooth[(self._n - 1) % self.size] if self._n else np.full(self.count, np.nan)

    @property
    def moving(self) -> np.ndarray:
        return self._direction != 0

    def earliest_move_start_t(self) -> float | None:
        """When the earliest move still in progress (in any series) began, or None."""
        moving = self._direction != 0
        if not moving.any():
            return None
        return self._time_of(int(self._start[moving].min()))

    # ----------------------------------------------------------------- update
    def push(self, t: float, frame: int, values: np.ndarray) -> list[Move]:
        """Add one sample per series; returns the moves that ended with it."""
        values = np.array(values, dtype=np.float64)
        # A short dropout (a missed detection or two) holds the last value instead of breaking the series.
        fresh = np.isfinite(values)
        self._last_value[fresh] = values[fresh]
        self._last_t[fresh] = t
        bridge = ~fresh & (t - self._last_t <= self.bridge_s)
        values[bridge] = self._last_value[bridge]
        i = self._n
        slot = i % self.size
        self._raw[slot] = values
        self.times[slot] = t
        self.frames[slot] = frame
        self._n += 1
        valid = np.isfinite(values)
        self._valid = np.where(valid, self._valid + 1, 0)
        # A gap ends whatever was going on in that series: a move in progress ends
        # at the last good sample (a subject blurring out of detection has fallen).
        reset = ~valid
        cut = []
        for index in np.nonzero(reset & (self._direction != 0))[0]:
            move = self._finish(int(index), i - 1)
            if move is not None:
                cut.append(move)
        self._direction[reset] = 0
        self._on[reset] = 0
        self._off[reset] = 0
        recent = self._raw[(i - np.arange(min(MEDIAN, i + 1))) % self.size]
        smoothed = np.where(self._valid >= MEDIAN, np.median(recent, axis=0), np.nan)
        self.smooth[slot] = smoothed
        return cut + self._step(i)

    def flush(self) -> list[Move]:
        """End every move still in progress (end of a clip)."""
        ended = []
        last = self._n - 1
        for index in np.nonzero(self._direction)[0]:
            move = self._finish(int(index), last)
            if move is not None:
                ended.append(move)
        self._direction[:] = 0
        return ended

    def _step(self, i: int) -> list[Move]:
        window = self._window_samples(i)
        if window < 4:
            return []
        back = np.arange(window)
        ys = self.smooth[(i - back) % self.size]
        ts = self.times[(i - back - MEDIAN_LAG) % self.size]
        ready = np.all(np.isfinite(ys), axis=0)
        tc = ts - ts.mean()
        denom = float((tc * tc).sum())
        if denom <= 0:
            return []
        slope = (tc[:, None] * (ys - ys.mean(axis=0))).sum(axis=0) / denom  # NaN where not ready
        slope = np.where(ready, slope, 0.0)

        idle = self._direction == 0
        strong = np.abs(slope) >= self.rate_on
        self._on = np.where(idle & strong, self._on + 1, 0)
        begin = idle & (self._on >= 2)
        for index in np.nonzero(begin)[0]:
            self._direction[index] = 1 if slope[index] > 0 else -1
            self._start[index] = self._refine_start(int(index), i, window)
            self._off[index] = 0

        moving = self._direction != 0
        weak = (np.abs(slope) < self.rate_off) | (np.sign(slope) != self._direction)
        self._off = np.where(moving & weak, self._off + 1, 0)
        ended = []
        for index in np.nonzero(moving & (self._off >= 3))[0]:
            move = self._finish(int(index), self._refine_end(int(index), i))
            self._direction[index] = 0
            self._on[index] = 0
            if move is not None:
                ended.append(move)
        return ended

    def _finish(self, index: int, end: int) -> Move | None:
        start = int(self._start[index])
        end = max(min(end, self._n - 1), start)
        before = float(self.smooth[start % self.size, index])
        after = float(self.smooth[end % self.size, index])
        start_t, end_t = self._time_of(start), self._time_of(end)
        if start_t is None or end_t is None or not np.isfinite(before) or not np.isfinite(after):
            return None
        if abs(after - before) < self.min_delta:
            return None
        return Move(index, start_t, end_t, int(self.frames[(start - MEDIAN_LAG) % self.size]),
                    int(self.frames[(end - MEDIAN_LAG) % self.size]), before, after)

    def _refine_start(self, index: int, i: int, window: int) -> int:
        """Where the move began: the knee of a flat-then-straight fit to the recent samples.

        The windows that make detection robust also make it late; fitting a
        hinge over the last few windows puts the onset back where the series
        actually left its earlier level.
        """
        span = int(min(self._valid[index] - MEDIAN + 1, 4 * window, self.size - MEDIAN))
        if span < 6:
            return max(0, i - window)
        samples = np.arange(i - span + 1, i + 1)
        ys = self.smooth[samples % self.size, index]
        ts = self.times[(samples - MEDIAN_LAG) % self.size]
        if not (np.all(np.isfinite(ys)) and np.all(np.isfinite(ts))):
            return max(0, i - window)
        knee = hinge_knee(ts, ys)
        return int(samples[int(np.argmin(np.abs(ts - knee)))])

    def _refine_end(self, index: int, i: int) -> int:
        """The first sample after the start where the series reached its new level."""
        start = int(self._start[index])
        settled = self.smooth[i % self.size, index]
        before = self.smooth[start % self.size, index]
        tolerance = 0.15 * abs(settled - before) + 0.02
        for j in range(start + 1, i + 1):
            if abs(self.smooth[j % self.size, index] - settled) <= tolerance:
                return j
        return i

    def _window_samples(self, i: int) -> int:
        """Samples in ``window_s`` at the current frame rate (re-measured every second or so)."""
        if i < 2:
            return 0
        if self._window and i % 32:
            return self._window
        recent = self.times[(i - np.arange(min(i + 1, 8))[::-1]) % self.size]
        dt = float(np.nanmedian(np.diff(recent)))
        if not np.isfinite(dt) or dt <= 0:
            return 0
        self._window = int(max(4, min(self.size // 4, round(self.window_s / dt) + 1)))
        return self._window

    def _time_of(self, sample: int) -> float | None:
        if sample < MEDIAN_LAG or sample < self._n - self.size:
            return None
        t = self.times[(sample - MEDIAN_LAG) % self.size]
        return float(t) if np.isfinite(t) else None


def hinge_knee(ts: np.ndarray, ys: np.ndarray) -> float:
    """The time where a series left a flat level for a straight slope (least squares over every knee).

    The knee leaves at least three samples on the slope; with fewer than six
    samples the first time is returned.
    """
    if len(ts) < 6:
        return float(ts[0])
    knees = ts[:-3]
    ramp = np.maximum(0.0, ts[None, :] - knees[:, None])  # (knees, samples)
    n = float(len(ts))
    sr, srr = ramp.sum(axis=1), (ramp * ramp).sum(axis=1)
    sy, sry = ys.sum(), (ramp * ys[None, :]).sum(axis=1)
    det = n * srr - sr * sr
    det = np.where(det > 1e-12, det, np.nan)
    a = (srr * sy - sr * sry) / det
    b = (n * sry - sr * sy) / det
    fitted = a[:, None] + b[:, None] * ramp
    sse = ((fitted - ys[None, :]) ** 2).sum(axis=1)
    return float(knees[int(np.nanargmin(sse))]) if np.isfinite(sse).any() else float(ts[0])
