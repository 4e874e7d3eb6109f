"""Drive mode: turn a subject's estimated distance into focus commands.

Focus is handled in dioptres (1/m, 0 = infinity): depth of field is almost
the same width in dioptres at every distance (about ``N * c / f^2`` each side
of focus), so one dead zone and one slew limit suit near and far subjects.

Anti-hunting follows the pattern of libcamera's Raspberry Pi autofocus:

- a **dead zone**: errors smaller than ``deadband_dpt`` never move the lens,
  so estimate noise on a still subject cannot wiggle focus; it widens to three
  standard deviations of the filtered estimate when that is larger (a noisy
  estimate close to the camera);
- **persistence**: an error must keep the same sign for ``persistence_frames``
  frames before a move starts, so one bad estimate cannot start a move;
- a **slew limit** on the commands, so focus never snaps;
- **settle frames**: after a move ends, a move back the other way must wait
  ``settle_frames`` frames, so a move cannot immediately undo itself;
- a move only ever goes one way; going back means ending it, settling and
  starting again through the dead zone and persistence.

A subject walking in depth is followed with a small **velocity feed-forward**:
the estimates feed a constant-velocity Kalman filter (over metres: people walk
at a steady speed in metres) and focus is placed where the subject will be
``lead_s`` from now (the time a command takes to reach the lens). The filter rejects a single estimate far outside its
prediction; several in a row on the same side mean the subject really jumped
(or the target changed), and the filter restarts there.

When the estimate itself is uncertain (its sigma in dioptres above
``probe_sigma_dpt``) and the caller measures the subject's sharpness, a held
focus is **refined by contrast**: focus visits ``-step, 0, +step`` around where
it is, a parabola is fitted to log-sharpness over the lens positions actually
reached, and focus moves to its peak. The difference between the peak and the
estimate is then kept as the estimate's bias until the filter restarts.

A **lost** target holds focus for ``lost_hold_s``, then holds for good or goes
to ``safe_distance_m`` (``lost_action``); it never moves anywhere else.

A :class:`RackMove` is an eased, scheduled move between two focus distances;
the controller plays it on request (:meth:`TrackingController.start_rack`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from assistant.focus.easing import EASINGS, ease
from assistant import kalman
from assistant.schema import check_limits, limits
from assistant.units import to_dioptres, to_metres
from assistant.vision.depth import DistanceEstimate

KINDS = ("hold", "track", "rack", "probe", "safe")
"""What a :class:`FocusCommand` is doing: holding, following the subject, playing
a rack, probing contrast, or going to (or holding at) the safe distance."""
LOST_ACTIONS = ("hold", "safe")
MOTION_SIGMAS = 3.0
"""A subject counts as moving in depth when its filtered speed exceeds this many
of its own standard deviations; below that, noise could explain the speed."""
DEADBAND_SIGMAS = 3.0
"""The dead zone widens to this many standard deviations of the filtered estimate
when that is wider than ``deadband_dpt``: a noisy estimate must not steer focus."""
MIN_SIGMA_DPT = 1e-4
MIN_SIGMA_M = 1e-4
"""Floors on an estimate's sigma, so a claimed-perfect estimate cannot divide by zero."""
NEAR_M, FAR_M = 0.05, 1000.0
"""The subject filter works between these distances (1000 m is 0.001 dpt: infinity to a lens)."""
PROBE_TIMEOUT_FRAMES = 15
"""A probe position the lens has not reached after this many frames is given up."""


@dataclass(frozen=True)
class DriveConfig:
    """How drive mode follows a subject (``[drive]`` in the config).

    The default dead zone, 0.02 dpt, is half the depth of field on each side of
    focus for the rig's camera (34.2 mm at f/2 with a 0.025 mm circle of
    confusion: ``N c / f^2`` = 0.043 dpt), so a held focus that has drifted to
    the edge of the dead zone still has the subject sharp; use
    :func:`dof_half_width_dpt` to scale it for another lens.
    """

    deadband_dpt: float = field(default=0.02, metadata=limits(lo=0.0, hi=1.0))
    persistence_frames: int = field(default=2, metadata=limits(lo=1, hi=30))
    max_slew_dpt_s: float = field(default=3.0, metadata=limits(lo=0.0, lo_open=True, hi=1000.0))
    settle_frames: int = field(default=3, metadata=limits(lo=0, hi=120))
    lead_s: float = field(default=0.033, metadata=limits(lo=0.0, hi=1.0))
    accel_sigma_m_s2: float = field(default=2.0, metadata=limits(lo=0.0, lo_open=True, hi=100.0))
    jump_gate_sigmas: float = field(default=4.0, metadata=limits(lo=1.0, hi=100.0))
    lost_hold_s: float = field(default=1.0, metadata=limits(lo=0.0, hi=60.0))
    lost_action: str = field(default="hold", metadata=limits(choices=LOST_ACTIONS))
    safe_distance_m: float = field(default=3.0, metadata=limits(lo=0.05))
    probe_sigma_dpt: float = field(default=0.04, metadata=limits(lo=0.0, lo_open=True, hi=10.0))
    probe_step_dpt: float = field(default=0.05, metadata=limits(lo=0.0, lo_open=True, hi=1.0))
    probe_dwell_frames: int = field(default=1, metadata=limits(lo=0, hi=30))
    probe_rounds: int = field(default=3, metadata=limits(lo=0, hi=10))

    def __post_init__(self) -> None:
        check_limits(self)


def dof_half_width_dpt(focal_length_mm: float, f_number: float, coc_limit_mm: float) -> float:
    """Depth of field on each side of focus, in dioptres: ``N c / f^2``.

    Both sides are exactly ``N c (1 - f/s) / f^2`` for focus at ``s``, so this
    is within 3 % from 1.2 m out (f = 34 mm); a good scale for the dead zone
    (``deadband_dpt`` about half of it).
    """
    if focal_length_mm <= 0 or f_number <= 0 or coc_limit_mm <= 0:
        raise ValueError("focal length, f-number and circle of confusion must all be > 0")
    f = focal_length_mm / 1000.0
    return f_number * (coc_limit_mm / 1000.0) / (f * f)


@dataclass(frozen=True)
class FocusCommand:
    """One frame's focus command for the lens driver, and why.

    ``subject_dpt`` is where the controller believes the subject is (with any
    contrast-refined bias applied), or None while it has no target.
    """

    t: float
    target_dpt: float
    kind: str
    subject_dpt: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.t):
            raise ValueError(f"a focus command needs a finite time, got {self.t}")
        if not math.isfinite(self.target_dpt) or self.target_dpt < 0:
            raise ValueError(f"a focus command must be a finite number of dioptres >= 0, got {self.target_dpt}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown focus command kind {self.kind!r}; expected one of: {', '.join(KINDS)}")
        if self.subject_dpt is not None and not math.isfinite(self.subject_dpt):
            raise ValueError(f"subject_dpt must be finite or None, got {self.subject_dpt}")

    @property
    def target_m(self) -> float:
        return to_metres(self.target_dpt)


def _peak_slope(curve: str) -> float:
    """Largest slope of an easing curve over progress 0..1 (1 for linear)."""
    n = 1000
    return max((ease(curve, (i + 1) / n) - ease(curve, i / n)) * n for i in range(n))


@dataclass(frozen=True)
class RackMove:
    """An eased, scheduled move from ``start_dpt`` to ``end_dpt`` over ``duration_s``.

    Focus moves evenly in dioptres along the easing curve, so the picture
    changes at the pace the curve promises at any distance.
    """

    start_dpt: float
    end_dpt: float
    start_t: float
    duration_s: float
    curve: str = "s-curve"

    def __post_init__(self) -> None:
        for name in ("start_dpt", "end_dpt"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number of dioptres >= 0, got {value}")
        if not math.isfinite(self.start_t):
            raise ValueError(f"start_t must be a finite time in seconds, got {self.start_t}")
        if not math.isfinite(self.duration_s) or self.duration_s <= 0:
            raise ValueError(f"a rack's duration_s must be > 0 seconds, got {self.duration_s}")
        if self.curve not in EASINGS:
            raise ValueError(f"unknown easing {self.curve!r}; expected one of: {', '.join(EASINGS)}")

    @classmethod
    def between(cls, start_m: float, end_m: float, start_t: float, duration_s: float, curve: str = "s-curve") -> "RackMove":
        """A rack between two distances in metres (``math.inf`` for infinity)."""
        for name, value in (("start_m", start_m), ("end_m", end_m)):
            if not value > 0:
                raise ValueError(f"{name} must be a distance > 0 metres, got {value}")
        return cls(to_dioptres(start_m), to_dioptres(end_m), start_t, duration_s, curve)

    @property
    def end_t(self) -> float:
        return self.start_t + self.duration_s

    @property
    def peak_speed_dpt_s(self) -> float:
        """The fastest focus speed the rack asks for; a slower lens falls behind schedule."""
        return abs(self.end_dpt - self.start_dpt) / self.duration_s * _peak_slope(self.curve)

    def position(self, t: float) -> float:
        """Scheduled focus in dioptres at ``t`` (start before, end after the rack)."""
        p = ease(self.curve, (t - self.start_t) / self.duration_s)
        return self.start_dpt + (self.end_dpt - self.start_dpt) * p

    def done(self, t: float) -> bool:
        return t >= self.end_t


class _WalkFilter:
    """Constant-velocity Kalman filter over the subject's distance in metres.

    Metres, not dioptres, because people walk at a steady speed in metres; a
    steady walk is an accelerating one in dioptres (``2 v^2 / d^3``), which a
    constant-velocity model in dioptres would lag. Only this filter uses metres.

    A measurement further than ``gate`` sigmas from the prediction is not
    used; ``persistence`` of them in a row on the same side restart the filter
    at the newest one (a jump, not noise).
    """

    def __init__(self, accel_sigma: float, gate: float, persistence: int) -> None:
        self.accel_sigma = accel_sigma
        self.gate = gate
        self.persistence = persistence
        self.x: list[float] | None = None  # [metres, metres per second]
        self.p = [[0.0, 0.0], [0.0, 0.0]]
        self.t = 0.0
        self._outliers = 0
        self._outlier_sign = 0.0

    def reset(self) -> None:
        self.x = None
        self._outliers = 0

    def update(self, t: float, z: float, sigma: float) -> bool:
        """Fold in measurement ``z`` (m, one-sigma ``sigma``); True when the filter (re)started."""
        r = sigma * sigma
        if self.x is None:
            self._start(t, z, r)
            return True
        x, p = self._propagate(t)
        s = kalman.innovation_variance(p, r)
        innovation = z - x[0]
        if innovation * innovation > self.gate * self.gate * s:
            sign = math.copysign(1.0, innovation)
            self._outliers = self._outliers + 1 if sign == self._outlier_sign else 1
            self._outlier_sign = sign
            if self._outliers >= self.persistence:
                self._start(t, z, r)
                return True
            self.x, self.p, self.t = x, p, t  # coast on the prediction
            return False
        self._outliers = 0
        self.x, self.p = kalman.correct(x, p, z, r)
        self.t = t
        return False

    @property
    def position(self) -> float:
        assert self.x is not None
        return self.x[0]

    @property
    def speed(self) -> float:
        assert self.x is not None
        return self.x[1]

    @property
    def position_sigma(self) -> float:
        return math.sqrt(max(self.p[0][0], 0.0))

    @property
    def speed_sigma(self) -> float:
        return math.sqrt(max(self.p[1][1], 0.0))

    def _start(self, t: float, z: float, r: float) -> None:
        # Speed starts unknown to within about a walking pace (1 m/s).
        self.x = [z, 0.0]
        self.p = [[r, 0.0], [0.0, 1.0]]
        self.t = t
        self._outliers = 0

    def _propagate(self, t: float) -> tuple[list[float], list[list[float]]]:
        assert self.x is not None
        return kalman.predict(self.x, self.p, t - self.t, self.accel_sigma)


@dataclass
class _Probe:
    """A contrast probe in progress: positions still to visit and samples taken."""

    estimate_dpt: float  # the subject estimate (without bias) when the probe began
    centre_dpt: float  # focus when the probe began, to return to if it is given up
    pending: list[float]
    samples: list[tuple[float, float]] = field(default_factory=list)
    rounds_left: int = 0
    waited: int = 0  # frames spent on the current position
    arrived: int = 0  # frames since the lens reached the current position


def fit_peak(samples: list[tuple[float, float]]) -> float | None:
    """Focus (dpt) of the peak of a parabola fitted to log-sharpness, or None without a peak.

    Sharpness against defocus is close to a Gaussian near focus, so its
    logarithm is close to a parabola; least squares over all ``(focus, sharpness)``
    samples, which need at least three distinct focus positions.
    """
    if len({round(x, 9) for x, _ in samples}) < 3:
        return None
    xs = np.array([x for x, _ in samples])
    ys = np.log(np.maximum([s for _, s in samples], 1e-12))
    centre = float(xs.mean())  # fit around the samples' centre for a well-conditioned fit
    a, b, _ = np.polyfit(xs - centre, ys, 2)
    if a >= 0:
        return None  # a valley or a slope: no peak to go to
    return centre - float(b) / (2.0 * float(a))


class TrackingController:
    """Follows one target's distance with anti-hunting (one verb: ``step``).

    ``limits_dpt`` (the lens's ``(min, max)`` in dioptres) keeps commands
    inside the range the lens can reach, so a subject nearer than the lens can
    focus does not wind the command up past the end stop.
    """

    def __init__(self, config: DriveConfig = DriveConfig(), limits_dpt: tuple[float, float] | None = None) -> None:
        if not isinstance(config, DriveConfig):
            raise ValueError(f"config must be a DriveConfig, got {type(config).__name__}")
        if limits_dpt is not None:
            lo, hi = limits_dpt
            if not (0.0 <= lo < hi and math.isfinite(hi)):
                raise ValueError(f"limits_dpt must be (min, max) dioptres with 0 <= min < max, got {limits_dpt}")
        self.config = config
        self.limits_dpt = limits_dpt
        self._filter = _WalkFilter(config.accel_sigma_m_s2, config.jump_gate_sigmas, config.persistence_frames)
        self._command: float | None = None
        self._t: float | None = None
        self._moving = False
        self._direction = 0.0
        self._streak = 0
        self._streak_sign = 0.0
        self._settle_left = 0
        self._lost_since: float | None = None
        self._bias = 0.0
        self._refined = False
        self._probe: _Probe | None = None
        self._rack: RackMove | None = None

    # ------------------------------------------------------------------ operator
    def start_rack(self, move: RackMove) -> None:
        """Play ``move`` from its start time; target estimates are ignored until it ends.

        When it ends the target is taken afresh (a rack usually hands focus to
        another subject), through the dead zone and persistence as usual.
        """
        if not isinstance(move, RackMove):
            raise ValueError(f"start_rack needs a RackMove, got {type(move).__name__}")
        self._rack = move
        self._probe = None

    # ------------------------------------------------------------------ the verb
    def step(
        self,
        t: float,
        target: DistanceEstimate | None,
        lens_position_dpt: float,
        sharpness: float | None = None,
    ) -> FocusCommand:
        """The focus command for the frame at time ``t``.

        ``target`` is this frame's distance estimate for the subject to keep
        sharp (None while it is not seen); ``lens_position_dpt`` is where the
        lens is now; ``sharpness`` is the subject's measured sharpness in this
        frame, used only to refine an uncertain estimate by contrast.
        """
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite time in seconds, got {t}")
        if self._t is not None and t < self._t:
            raise ValueError(f"steps must come in time order ({t} after {self._t})")
        if not math.isfinite(lens_position_dpt):
            raise ValueError(f"lens_position_dpt must be a finite number of dioptres, got {lens_position_dpt}")
        if target is not None and not (target.metres > 0 and target.sigma_m >= 0):
            raise ValueError(f"a target needs a distance > 0 m and a sigma >= 0, got {target}")
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        if self._command is None:
            self._command = self._clamp(lens_position_dpt)

        if self._rack is not None:
            return self._play_rack(t)
        if target is None:
            return self._lost(t, dt)
        return self._follow(t, dt, target, lens_position_dpt, sharpness)

    # ------------------------------------------------------------------ rack
    def _play_rack(self, t: float) -> FocusCommand:
        rack = self._rack
        assert rack is not None
        # Command where the rack will be when the command has reached the lens.
        self._command = self._clamp(rack.position(t + self.config.lead_s))
        if rack.done(t):
            self._rack = None
            self._restart_target()
            self._settle_left = self.config.settle_frames
        return FocusCommand(t, self._command, "rack")

    # ------------------------------------------------------------------ lost
    def _lost(self, t: float, dt: float) -> FocusCommand:
        cfg = self.config
        if self._lost_since is None:
            self._lost_since = t
            self._restart_target()
        assert self._command is not None
        if t - self._lost_since < cfg.lost_hold_s or cfg.lost_action == "hold":
            return FocusCommand(t, self._command, "hold")
        safe = self._clamp(to_dioptres(cfg.safe_distance_m))
        self._command = self._slew(self._command, safe, dt)
        return FocusCommand(t, self._command, "safe")

    def _restart_target(self) -> None:
        """Forget the subject: the next estimate starts the filter afresh."""
        self._filter.reset()
        self._bias = 0.0
        self._refined = False
        self._probe = None
        self._moving = False
        self._streak = 0

    # ------------------------------------------------------------------ follow
    def _follow(
        self, t: float, dt: float, target: DistanceEstimate, lens_dpt: float, sharpness: float | None
    ) -> FocusCommand:
        cfg = self.config
        self._lost_since = None
        metres = min(target.metres, FAR_M)
        sigma = max(MIN_SIGMA_DPT, target.sigma_m / metres ** 2)  # the estimate's sigma in dioptres
        if self._filter.update(t, metres, max(MIN_SIGMA_M, target.sigma_m)):
            # A fresh start (first sight, or a jump): the old bias and probe no longer apply.
            self._bias = 0.0
            self._refined = False
            self._probe = None
        distance = max(NEAR_M, self._filter.position)
        estimate = 1.0 / distance
        speed = -self._filter.speed / distance ** 2  # dioptres per second
        moving = abs(self._filter.speed) > MOTION_SIGMAS * self._filter.speed_sigma
        # An error the estimate cannot resolve is no reason to move.
        deadband = max(cfg.deadband_dpt, DEADBAND_SIGMAS * self._filter.position_sigma / distance ** 2)
        subject = estimate + self._bias
        desired = self._clamp(subject + (speed * cfg.lead_s if moving else 0.0))
        subject_out = max(0.0, subject)

        if self._probe is not None:
            if abs(estimate - self._probe.estimate_dpt) > deadband:
                # The subject moved: its estimate is news again.
                self._command = self._probe.centre_dpt
                self._probe = None
                self._refined = False
            else:
                return self._continue_probe(t, lens_dpt, sharpness, estimate, subject_out)

        assert self._command is not None
        error = desired - self._command
        if not self._moving:
            if self._settle_left > 0:
                self._settle_left -= 1
            if abs(error) <= deadband:
                self._streak = 0
                if self._settle_left == 0 and self._wants_probe(sigma, sharpness, moving):
                    return self._begin_probe(t, lens_dpt, sharpness, estimate, subject_out)
                return FocusCommand(t, self._command, "hold", subject_out)
            sign = math.copysign(1.0, error)
            self._streak = self._streak + 1 if sign == self._streak_sign else 1
            self._streak_sign = sign
            if self._streak < cfg.persistence_frames:
                return FocusCommand(t, self._command, "hold", subject_out)
            if self._settle_left > 0 and sign != self._direction:
                # Going back straight after a move is how hunting starts: let it settle first.
                return FocusCommand(t, self._command, "hold", subject_out)
            self._moving = True
            self._direction = sign
            self._refined = False

        # A move goes one way only: never back toward where it came from.
        if error * self._direction > 0:
            self._command = self._slew(self._command, desired, dt)
        remaining = (desired - self._command) * self._direction
        following = moving and speed * self._direction > 0
        if remaining < -cfg.deadband_dpt / 2 or (abs(remaining) <= cfg.deadband_dpt / 2 and not following):
            self._moving = False
            self._streak = 0
            self._settle_left = cfg.settle_frames
        return FocusCommand(t, self._command, "track", subject_out)

    # ------------------------------------------------------------------ probe
    def _wants_probe(self, sigma: float, sharpness: float | None, moving: bool) -> bool:
        cfg = self.config
        return (
            sharpness is not None
            and cfg.probe_rounds > 0
            and sigma > cfg.probe_sigma_dpt
            and not moving
            and not self._refined
        )

    def _begin_probe(
        self, t: float, lens_dpt: float, sharpness: float | None, estimate: float, subject: float
    ) -> FocusCommand:
        assert self._command is not None
        self._probe = _Probe(
            estimate, self._command, self._probe_positions(self._command), rounds_left=self.config.probe_rounds - 1
        )
        return self._continue_probe(t, lens_dpt, sharpness, estimate, subject)

    def _probe_positions(self, centre: float) -> list[float]:
        step = self.config.probe_step_dpt
        # Centre first (the lens is already there), then either side.
        return [self._clamp(centre), self._clamp(centre - step), self._clamp(centre + step)]

    def _continue_probe(
        self, t: float, lens_dpt: float, sharpness: float | None, estimate: float, subject: float
    ) -> FocusCommand:
        cfg = self.config
        probe = self._probe
        assert probe is not None and self._command is not None
        if sharpness is None:
            self._end_probe(None, estimate)  # nothing to measure with: keep focus where it is
            return FocusCommand(t, self._command, "hold", subject)
        goal = probe.pending[0]
        probe.waited += 1
        if abs(lens_dpt - goal) <= cfg.probe_step_dpt / 10:
            probe.arrived += 1
            if probe.arrived > cfg.probe_dwell_frames:
                probe.samples.append((lens_dpt, sharpness))
                probe.pending.pop(0)
                probe.waited = probe.arrived = 0
        elif probe.waited > PROBE_TIMEOUT_FRAMES:
            self._end_probe(None, estimate)  # the lens cannot get there; keep what we have
            return FocusCommand(t, self._command, "hold", subject)
        if not probe.pending:
            self._finish_round(estimate)
            if self._probe is None:
                return FocusCommand(t, self._command, "hold", max(0.0, estimate + self._bias))
        self._command = probe.pending[0]
        return FocusCommand(t, self._command, "probe", subject)

    def _finish_round(self, estimate: float) -> None:
        probe = self._probe
        assert probe is not None
        xs = [x for x, _ in probe.samples]
        lo, hi = min(xs), max(xs)
        peak = fit_peak(probe.samples)
        if peak is None:
            # No peak inside the samples' curvature: take the sharpest sample.
            peak = max(probe.samples, key=lambda s: s[1])[0]
            inside = lo < peak < hi
        else:
            inside = lo <= peak <= hi
        step = self.config.probe_step_dpt
        peak = self._clamp(min(hi + step, max(lo - step, peak)))
        if inside or probe.rounds_left <= 0:
            self._end_probe(peak, estimate)
            return
        probe.rounds_left -= 1
        probe.samples = []
        probe.pending = self._probe_positions(peak)

    def _end_probe(self, peak: float | None, estimate: float) -> None:
        """Go to the peak and keep its offset from the estimate; without a peak, go back."""
        assert self._probe is not None
        if peak is None:
            self._command = self._probe.centre_dpt
        else:
            self._command = peak
            self._bias = peak - estimate
        self._probe = None
        self._refined = True
        self._settle_left = self.config.settle_frames

    # ------------------------------------------------------------------ helpers
    def _slew(self, current: float, goal: float, dt: float) -> float:
        limit = self.config.max_slew_dpt_s * max(0.0, dt)
        return current + max(-limit, min(limit, goal - current))

    def _clamp(self, value: float) -> float:
        value = max(0.0, value)
        if self.limits_dpt is None:
            return value
        lo, hi = self.limits_dpt
        return min(hi, max(lo, value))
