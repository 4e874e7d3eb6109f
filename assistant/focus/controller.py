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

The controller reads the subject's *filtered* range
(:class:`~assistant.vision.ranging.Range`: the one distance filter, in the
subject stage) and filters nothing again. A subject walking in depth is
followed with a small **velocity feed-forward**: focus is placed where the
subject will be ``lead_s`` from now (the time a command takes to reach the
lens), but only while the range says it is moving - never on the frame a jump
restarted the filter, whose speed is then unknown - so a step is not
extrapolated into an overshoot.

When the estimate itself is uncertain (its sigma in dioptres above
``probe_sigma_dpt``) and the caller measures the subject's sharpness, a held
focus is **refined by contrast**: focus visits ``-step, 0, +step`` around where
it is, a parabola is fitted to log-sharpness over the lens positions actually
reached, and focus moves to its peak. The ratio of the peak to the estimate is
then kept as the face's **scale**: a face larger or smaller than the average
adult's reads its distance off by a steady factor, so the scale is kept
through walks and jumps of the same subject.

A **lost** target holds focus for ``lost_hold_s``, then (``lost_action``)
searches for it, holds for good, or goes to ``safe_distance_m``. Before any
target was ever found there is nothing to hold on to, so it searches at once.
A search (:class:`~assistant.focus.search.FocusSearch`) runs only while the
caller passes a ``contrast`` reading: the caller does so when nobody at all is
in sight, so a visible face the targeting rules are still waiting for is
never blurred by it.

A :class:`~assistant.focus.moves.RackMove` (``focus/moves.py``, with the
per-frame :class:`~assistant.focus.moves.FocusCommand`) is an eased,
scheduled move between two focus distances; the controller plays it on
request (:meth:`TrackingController.start_rack`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from assistant.focus.moves import FocusCommand, RackMove
from assistant.focus.peak import parabola_vertex
from assistant.focus.search import FocusSearch
from assistant.focus.settings import DriveConfig
from assistant.units import to_dioptres
from assistant.vision.ranging import Range

"""What a :class:`FocusCommand` is doing: holding, following the subject, playing
a rack, probing contrast, going to (or holding at) the safe distance, or
searching the lens range for a subject nobody can see."""
DEADBAND_SIGMAS = 3.0
"""The dead zone widens to this many standard deviations of the filtered estimate
when that is wider than ``deadband_dpt``: a noisy estimate must not steer focus."""
MIN_SIGMA_DPT = 1e-4
"""Floor on an estimate's sigma, so a claimed-perfect estimate cannot divide by zero."""
NEAR_M, FAR_M = 0.05, 1000.0
"""Subjects are followed between these distances (1000 m is 0.001 dpt: infinity to a lens)."""
SOFT_SEARCH_FRAMES = 6
"""Frames a target must stay soft, with focus not moving toward it, before its region's contrast is searched."""
MAX_SCALE = 1.35
"""A face's distance reads at most this factor off an average adult's (children, large heads, detector boxes)."""
ANCHOR_S = 0.3
"""After a search finds the target's contrast peak, focus holds this long before the offset between it
and the (now sharp) face's distance estimate is kept as the estimate's bias."""
SEARCH_COOLDOWN_S = 3.0
"""A target's contrast is searched at most once in this long (a soft target may simply be soft)."""
NEAR_SEARCH_M = 0.3
"""Without known lens limits, a search covers infinity to this distance."""
PROBE_TIMEOUT_FRAMES = 15
"""A probe position the lens has not reached after this many frames is given up."""


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
        self._command: float | None = None
        self._t: float | None = None
        self._moving = False
        self._direction = 0.0
        self._streak = 0
        self._streak_sign = 0.0
        self._settle_left = 0
        self._lost_since: float | None = None
        self._scale = 1.0
        self._refined = False
        self._probe: _Probe | None = None
        self._rack: RackMove | None = None
        self._search: FocusSearch | None = None
        self._search_kind = ""  # "lost": nobody in sight; "soft": the target's own contrast
        self._searched_at = -math.inf
        self._soft_frames = 0
        self._anchor_until: float | None = None  # after a search: hold until the face is ranged again
        self._last_estimate: float | None = None
        self._ever_followed = False

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
        target: Range | None,
        lens_position_dpt: float,
        sharpness: float | None = None,
        contrast: float | None = None,
        in_focus: bool | None = None,
    ) -> FocusCommand:
        """The focus command for the frame at time ``t``.

        ``target`` is this frame's filtered range of the subject to keep
        sharp (None while it is not seen); ``lens_position_dpt`` is where the
        lens is now; ``sharpness`` is the subject's measured sharpness in this
        frame, used only to refine an uncertain estimate by contrast;
        ``contrast`` is the sharpness of the region a search would climb (the
        target's, or where people are while nobody is in sight), None where no
        search may run; ``in_focus``: the picture's verdict on the target (its
        blur): soft while focus sits on the estimate means the estimate is wrong.
        """
        if not math.isfinite(t):
            raise ValueError(f"t must be a finite time in seconds, got {t}")
        if self._t is not None and t < self._t:
            raise ValueError(f"steps must come in time order ({t} after {self._t})")
        if not math.isfinite(lens_position_dpt):
            raise ValueError(f"lens_position_dpt must be a finite number of dioptres, got {lens_position_dpt}")
        if target is not None and not isinstance(target, Range):
            raise ValueError(f"a target is a Range (the subject's filtered distance), got {type(target).__name__}")
        dt = 0.0 if self._t is None else t - self._t
        self._t = t
        if self._command is None:
            self._command = self._clamp(lens_position_dpt)

        if self._rack is not None:
            return self._play_rack(t)
        if target is None:
            return self._lost(t, dt, lens_position_dpt, contrast)
        self._ever_followed = True
        if self._search is not None and self._search_kind == "lost":
            self._search = None  # the target is back: follow it
        return self._follow(t, dt, target, lens_position_dpt, sharpness, contrast, in_focus)

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
    def _lost(self, t: float, dt: float, lens_dpt: float, contrast: float | None) -> FocusCommand:
        cfg = self.config
        if self._lost_since is None:
            self._lost_since = t
            self._restart_target()
        assert self._command is not None
        waited = t - self._lost_since >= cfg.lost_hold_s
        if self._search is not None and self._search_kind == "soft" and contrast is not None:
            return self._searching(t, lens_dpt, contrast)  # the face blurs out of the detector mid-search
        if cfg.lost_action == "search" and (waited or not self._ever_followed):
            if contrast is None:  # someone is in sight, or nothing to measure: pause the search
                return FocusCommand(t, self._command, "hold")
            return self._searching(t, lens_dpt, contrast)
        if not waited or cfg.lost_action == "hold":
            return FocusCommand(t, self._command, "hold")
        safe = self._clamp(to_dioptres(cfg.safe_distance_m))
        self._command = self._slew(self._command, safe, dt)
        return FocusCommand(t, self._command, "safe")

    def _searching(self, t: float, lens_dpt: float, contrast: float | None, kind: str = "lost") -> FocusCommand:
        """Sweep the lens range for the best contrast, once; afterwards hold where it ended."""
        if self._search is None:
            limits_dpt = self.limits_dpt or (0.0, max(1.0 / NEAR_SEARCH_M, lens_dpt))
            self._search = FocusSearch(limits_dpt, lens_dpt, self.config.search_speed_dpt_s)
            self._search_kind = kind
            self._searched_at = t
        if self._search.done:
            return FocusCommand(t, self._command, "hold")
        self._command = self._clamp(self._search.step(t, lens_dpt, contrast))
        return FocusCommand(t, self._command, "search")

    def _restart_target(self) -> None:
        """Forget the subject: the next range is news (no bias, no probe, no move under way)."""
        self._anchor_until = None
        self._last_estimate = None
        self._scale = 1.0
        self._refined = False
        self._probe = None
        self._moving = False
        self._streak = 0

    # ------------------------------------------------------------------ follow
    def _follow(self, t: float, dt: float, target: Range, lens_dpt: float, sharpness: float | None,
                contrast: float | None, in_focus: bool | None) -> FocusCommand:
        cfg = self.config
        soft = in_focus is False
        self._lost_since = None
        if self._search is not None:
            if not self._search.done:
                return self._searching(t, lens_dpt, contrast, "soft")
            # Focus sits where the target's region is sharpest; hold it while the face, clear now, is ranged
            # again, then keep the estimate's offset from here (a face whose size misreads its distance).
            self._search = None
            self._anchor_until = t + ANCHOR_S
        elif self._anchor_until is None and self._wants_search(t, soft, contrast, target):
            self._probe = None
            self._moving = False
            return self._searching(t, lens_dpt, contrast, "soft")
        distance = min(FAR_M, max(NEAR_M, target.metres))
        sigma = max(MIN_SIGMA_DPT, target.sigma_m / distance ** 2)  # the estimate's sigma in dioptres
        estimate = 1.0 / distance
        deadband = max(cfg.deadband_dpt, DEADBAND_SIGMAS * sigma)  # an error the estimate cannot resolve
        if target.jumped and (self._last_estimate is None or abs(estimate - self._last_estimate) > deadband):
            # A jump: a probe around the old place no longer applies (the face's scale still does).
            self._refined = False
            self._probe = None
        self._last_estimate = estimate
        speed = -target.speed_m_s / distance ** 2  # dioptres per second
        moving = target.moving
        subject = estimate * self._scale
        desired = self._clamp(subject + (speed * cfg.lead_s if moving else 0.0))
        subject_out = max(0.0, subject)

        if self._anchor_until is not None:
            assert self._command is not None
            if t < self._anchor_until:
                return FocusCommand(t, self._command, "hold", subject_out)
            self._anchor_until = None
            self._settle_left = cfg.settle_frames
            if not soft and estimate > 0:
                self._scale, self._refined = self._clamped_scale(self._command / estimate), True
                return FocusCommand(t, self._command, "hold", self._command)

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
    @staticmethod
    def _clamped_scale(scale: float) -> float:
        return min(MAX_SCALE, max(1.0 / MAX_SCALE, scale))

    def _wants_search(self, t: float, soft: bool, contrast: float | None, target: Range) -> bool:
        """The picture has said soft for a while though focus is not on its way anywhere.

        A face blurred far enough reads much too near (blur widens its box), so
        the estimate itself is wrong and following it, or probing around it,
        cannot help; only the contrast of the target's region can tell where it
        is sharp. Not again within ``SEARCH_COOLDOWN_S`` of the last search.
        """
        settled = not self._moving and not target.moving
        self._soft_frames = self._soft_frames + 1 if soft and settled else 0
        return (contrast is not None and self._soft_frames >= SOFT_SEARCH_FRAMES
                and t - self._searched_at >= SEARCH_COOLDOWN_S)

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
                return FocusCommand(t, self._command, "hold", max(0.0, estimate * self._scale))
        self._command = probe.pending[0]
        return FocusCommand(t, self._command, "probe", subject)

    def _finish_round(self, estimate: float) -> None:
        probe = self._probe
        assert probe is not None
        xs = [x for x, _ in probe.samples]
        lo, hi = min(xs), max(xs)
        peak = parabola_vertex(probe.samples)
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
            self._scale = self._clamped_scale(peak / estimate) if estimate > 0 else self._scale
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
