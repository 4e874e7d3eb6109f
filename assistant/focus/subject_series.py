"""What the labeller remembers of one subject: its recent readings and where it stands.

Each frame a subject is a :class:`Reading` (box, blur ratio, distance); the
series keeps the last ``HISTORY_S`` of them as :class:`Sample` rows, which the
labeller queries by time.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from assistant.focus.trends import Move, TrendBank
from assistant.types import Box

HISTORY_S = 12.0
"""Seconds of readings kept per subject: longer than any event they have to explain."""
IDENTITY_JUMP = 1.2
"""A face's width changing this factor from one look to the next is another face on the same track ..."""
WALK_GROWTH_PER_S = 2.0
"""... plus what a fast walk can change it by in the time between the looks."""


@dataclass(frozen=True)
class Reading:
    """One subject on one frame, as the labeller needs it."""

    id: int
    box: Box
    ratio: float | None  # defocus blur over the acceptable limit; None while not measured (coasting)
    distance_m: float | None


class Sample(NamedTuple):
    """A reading as kept: NaN where it was not measured."""

    t: float
    frame: int
    ratio: float
    box: Box
    distance: float

    @property
    def measured(self) -> bool:
        return not math.isnan(self.ratio)


@dataclass
class SubjectSeries:
    """One subject's recent samples, its in/out of focus state and its walks."""

    walks: TrendBank
    samples: deque[Sample] = field(default_factory=deque)
    state: str = ""  # "", "sharp" or "soft"
    last_seen: float = 0.0
    rise_pending: tuple[float, int] | None = None  # crossing into focus, landing not resolved yet
    walk_pending: Move | None = None  # a finished walk, held in case it goes on
    pulled_until: tuple[float, int] = (-math.inf, 0)  # end and direction of the last pull reported
    settle_until: float = -math.inf  # no in/out of focus decisions before this time

    def add(self, reading: Reading, t: float, frame: int) -> Sample:
        """Keep this frame's reading (and forget what is older than ``HISTORY_S``)."""
        sample = Sample(t, frame, math.nan if reading.ratio is None else reading.ratio, reading.box,
                        reading.distance_m or math.nan)
        self.samples.append(sample)
        self.last_seen = t
        while self.samples and t - self.samples[0].t > HISTORY_S:
            self.samples.popleft()
        return sample

    def measured(self, start: float, end: float) -> list[Sample]:
        """Measured samples with ``start <= t <= end``."""
        return [s for s in self.samples if start <= s.t <= end and s.measured]

    def between(self, start: float, end: float) -> list[Sample]:
        """All samples with ``start <= t <= end``, measured or held on the tracker's prediction."""
        return [s for s in self.samples if start <= s.t <= end]

    def distance_near(self, t: float, half_s: float = 0.15) -> float | None:
        """Median distance within ``half_s`` of ``t``."""
        values = [s.distance for s in self.samples if abs(s.t - t) <= half_s and not math.isnan(s.distance)]
        return float(np.median(values)) if values else None

    def box_near(self, t: float) -> Box | None:
        return min(self.samples, key=lambda s: abs(s.t - t)).box if self.samples else None

    def last_measured(self) -> float:
        """When the subject was last measured (not held on the tracker's prediction)."""
        return next((s.t for s in reversed(self.samples) if s.measured), -math.inf)

    def jumped(self, reading: Reading, t: float) -> bool:
        """The face's size changed at once by more than a walk can change it: the track took someone else.

        (A person walking 2 m/s at 1 m changes face size by about 7 % a frame at
        30 fps; a jump of 20 % from one look to the next is another face.)
        """
        if not self.samples:
            return False
        last = self.samples[-1]
        allowed = IDENTITY_JUMP + WALK_GROWTH_PER_S * max(t - last.t, 0.0)
        ratio = reading.box[2] / max(last.box[2], 1)
        return not 1.0 / allowed <= ratio <= allowed
