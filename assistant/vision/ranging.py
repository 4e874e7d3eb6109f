"""One filter over a subject's distance: smooths walks, restarts on jumps.

Each subject's per-frame distance measurements (``assistant.vision.depth``)
go through exactly one constant-velocity Kalman filter, in metres (people walk
at a steady speed in metres; a steady walk is an accelerating one in
dioptres). Everything downstream - the tracks file, the labelling, the focus
guide and drive mode - reads its output; nothing filters it again, because a
second filter in series lags twice and turns a step into an overshoot.

A step is told apart from a walk by a gate: a measurement further than
``gate_sigmas`` from the prediction is not used; ``jump_frames`` of them in a
row on the same side mean the subject really jumped (stepped back, or the
track now holds someone else), and the filter restarts there with its speed
unknown - so a step is never extrapolated as if it were a walk. A quick
step the gate lets through frame by frame shows up as a speed no one walks
at (over ``MAX_WALK_M_S``): that restarts the filter too, at the newest
measurement, instead of carrying the step's speed on past where it ended. A subject
measured again after more than ``MAX_GAP_S`` unseen starts afresh too: what
it did meanwhile is not a speed to carry on with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant import kalman
from assistant.vision.depth import DistanceEstimate

NEAR_M = 0.05
MOTION_SIGMAS = 2.0
"""A subject counts as moving in depth when its speed exceeds this many of its own standard deviations."""
MAX_WALK_M_S = 3.0
"""Faster than a brisk walk in depth: a step or a jump, not a walk to extrapolate."""
MIN_WALK_S = 0.3
"""A speed counts as a walk only once the filter has followed it this long since it (re)started:
the tail of a step looks like a fast walk for a frame or two."""
MAX_GAP_S = 0.5
"""Longer than this without a measurement, the next one restarts the filter."""
START_SPEED_SIGMA_M_S = 1.0
"""A fresh filter's speed is unknown to within about a walking pace."""


@dataclass(frozen=True)
class Range:
    """A subject's filtered distance and speed in depth (positive speed: moving away)."""

    metres: float
    sigma_m: float
    speed_m_s: float = 0.0
    moving: bool = False
    """Walking in depth: a speed beyond what noise explains, followed for at least ``MIN_WALK_S``."""
    jumped: bool = False
    """The filter (re)started on this frame: first sight, or a jump in depth (not a walk)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.metres) and self.metres > 0):
            raise ValueError(f"a range needs a finite distance > 0 m, got {self.metres}")
        if not (self.sigma_m >= 0 and math.isfinite(self.speed_m_s)):
            raise ValueError(f"a range needs a sigma >= 0 and a finite speed, got {self}")


class RangeFilter:
    """Constant-velocity Kalman filter with a jump gate (one verb: ``update``)."""

    def __init__(self, accel_sigma_m_s2: float = 4.0, gate_sigmas: float = 4.0, jump_frames: int = 2) -> None:
        if accel_sigma_m_s2 <= 0 or gate_sigmas < 1 or jump_frames < 1:
            raise ValueError("accel_sigma_m_s2 must be > 0, gate_sigmas >= 1 and jump_frames >= 1")
        self.accel_sigma = accel_sigma_m_s2
        self.gate = gate_sigmas
        self.jump_frames = jump_frames
        self._x: list[float] | None = None  # [metres, metres per second]
        self._p = [[0.0, 0.0], [0.0, 0.0]]
        self._t = 0.0
        self._started = 0.0
        self._outliers = 0
        self._outlier_sign = 0.0

    def predict(self, t: float) -> Range | None:
        """Where the subject is expected at ``t`` (no measurement), or None before the first.

        Only a subject known to be walking is carried along by its speed; otherwise the
        speed is two noisy samples' worth of guess, and extrapolating it between looks
        would draw a drift the subject never made.
        """
        if self._x is None:
            return None
        x, p = kalman.predict(self._x, self._p, t - self._t, self.accel_sigma)
        walking = self._range(t, x, p, jumped=False)
        return walking if walking.moving else Range(max(NEAR_M, self._x[0]), walking.sigma_m, self._x[1])

    def update(self, t: float, measurement: DistanceEstimate) -> Range:
        """Fold in one frame's measurement (metres, one sigma)."""
        z, r = measurement.metres, max(1e-8, measurement.sigma_m ** 2)
        if self._x is None or t - self._t > MAX_GAP_S:
            return self._start(t, z, r)
        x, p = kalman.predict(self._x, self._p, t - self._t, self.accel_sigma)
        innovation = z - x[0]
        if innovation * innovation > self.gate * self.gate * kalman.innovation_variance(p, r):
            sign = math.copysign(1.0, innovation)
            self._outliers = self._outliers + 1 if sign == self._outlier_sign else 1
            self._outlier_sign = sign
            if self._outliers >= self.jump_frames:
                return self._start(t, z, r)
            self._x, self._p, self._t = x, p, t  # coast on the prediction
            return self._range(t, x, p, jumped=False)
        self._outliers = 0
        x, p = kalman.correct(x, p, z, r)
        if abs(x[1]) > MAX_WALK_M_S:
            return self._start(t, z, r)
        self._x, self._p, self._t = x, p, t
        return self._range(t, x, p, jumped=False)

    def _start(self, t: float, z: float, r: float) -> Range:
        self._x = [z, 0.0]
        self._p = [[r, 0.0], [0.0, START_SPEED_SIGMA_M_S ** 2]]
        self._t = self._started = t
        self._outliers = 0
        return self._range(t, self._x, self._p, jumped=True)

    def _range(self, t: float, x: list[float], p: list[list[float]], jumped: bool) -> Range:
        speed_sigma = math.sqrt(max(p[1][1], 0.0))
        moving = t - self._started >= MIN_WALK_S and abs(x[1]) > MOTION_SIGMAS * speed_sigma
        return Range(max(NEAR_M, x[0]), math.sqrt(max(p[0][0], 0.0)), x[1], moving, jumped)
