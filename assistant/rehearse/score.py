"""Scoring a rack against its cue: when it started, when the target was sharp, how it moved.

Everything is measured from what the assistant saw in each frame. With the
lens focus known (the rig, a driver that reports position) the achieved
focus curve is compared with the planned one directly; without it the
target's own in-focus state carries the timing (start, landing, buzz) and
the curve-shape measures are left out. When the lens focus is known and did
not move during a cue, nobody pulled: the cue is marked "no pull seen" and
gets no score, rather than the score of a bad pull.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

from assistant.easing import ease
from assistant.focus.peak import sharpness_peak
from assistant.types import Subject

START_SHARE = 0.1
"""A rack has started when focus has covered this share of the planned travel."""
HOLD_S = 0.3
"""Focus must stay on the target this long to count as landed."""
STILL_SHARE = 0.02
"""A rack has ended when focus moves less than this share of the rack's mean speed."""
DIP_FRAMES = 3
"""The target must be off for this many frames for a dip to count as buzz (not one noisy frame)."""
STILL_FOCUS_SHARE = 0.5
"""Focus that moves less than this share of the depth of field over a cue's window was not pulled (readout noise)."""


@dataclass(frozen=True)
class Sample:
    """What one frame showed: the lens focus (None: not known) and the subjects."""

    t: float
    frame: int
    focus_dpt: float | None
    subjects: tuple[Subject, ...]


@dataclass(frozen=True)
class FiredCue:
    """A cue as it happened: when, from where, to whom and where that was."""

    index: int
    name: str
    t0: float
    duration_s: float
    curve: str
    start_dpt: float | None
    target_dpt: float | None
    target_id: int | None
    fps: float

    @property
    def planned_end_frame(self) -> int:
        return round((self.t0 + self.duration_s) * self.fps)


@dataclass(frozen=True)
class CueScore:
    """How a take's rack compared with its cue (seconds, dioptres; None: could not be measured)."""

    cue: str
    planned_start: float
    planned_end: float
    start_delay_s: float | None
    time_to_sharp_s: float | None
    landing_error_frames: int | None
    overshoot_dpt: float | None
    buzz: int
    smoothness_rms: float | None
    right_subject: bool
    score: float | None  # None: not scored (no pull seen)
    no_pull_seen: bool = False  # the lens focus was known and did not move during the cue: not scored

    def to_json(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def score_cue(cue: FiredCue, samples: Sequence[Sample], window: tuple[float, float], tolerance_dpt: float) -> CueScore:
    """Score ``cue`` on the samples inside ``window`` (from before the count-in to the next cue)."""
    frames = [s for s in samples if window[0] <= s.t <= window[1]]
    known = cue.target_dpt is not None and bool(frames) and all(s.focus_dpt is not None for s in frames)
    cue = measured_cue(cue, samples, window)
    if known and abs(cue.target_dpt - cue.start_dpt) > tolerance_dpt:  # type: ignore[operator]
        timing = _focus_timing(cue, frames, tolerance_dpt)
    else:
        timing = _sharpness_timing(cue, frames)
    start, sharp, landed, overshoot, rms, right, on_target = timing
    if _no_pull_seen(frames, tolerance_dpt):  # the times of a pull that never happened would mean nothing
        return CueScore(cue.name, cue.t0, cue.t0 + cue.duration_s, None, None, None, None, 0, None, right, None,
                        no_pull_seen=True)
    planned_start = cue.t0 + cue.duration_s * _inverse_ease(cue.curve, START_SHARE)
    delay = None if start is None else start - planned_start
    to_sharp = None if sharp is None else sharp - cue.t0
    landing_frames = None if landed is None else round(landed * cue.fps) - cue.planned_end_frame
    buzz = _buzz(frames, sharp, on_target)
    return CueScore(cue.name, cue.t0, cue.t0 + cue.duration_s, delay, to_sharp, landing_frames, overshoot, buzz, rms,
                    right, _points(cue, delay, to_sharp, overshoot, rms, buzz, right))


def measured_cue(cue: FiredCue, samples: Sequence[Sample], window: tuple[float, float]) -> FiredCue:
    """The cue's start and target as the picture showed them, not as estimated when it fired.

    Start: the focus before the count-in (an early pull is already under way
    when the cue fires). Target: the focus at which the target subject was
    really sharpest in this take, when the take passed through it; a distance
    estimated from face size can be 5-10 % off, and an operator pulls to what
    looks sharp. Unchanged when the lens focus is not known.
    """
    frames = [s for s in samples if window[0] <= s.t <= window[1]]
    if not frames or any(s.focus_dpt is None for s in frames):
        return cue
    start = frames[0].focus_dpt
    peak = [(s.focus_dpt, subject.sharpness) for s in frames for subject in s.subjects
            if subject.id == cue.target_id and subject.sharpness and not subject.coasting]
    target = cue.target_dpt
    if cue.target_id is not None and len(peak) >= 5:
        spread = max(p for p, _ in peak) - min(p for p, _ in peak)  # type: ignore[type-var]
        if spread > 0:
            target = sharpness_peak(peak)  # type: ignore[arg-type]
    return replace(cue, start_dpt=start, target_dpt=target)


def _no_pull_seen(frames: list[Sample], tol: float) -> bool:
    """True when the lens focus was known and stayed put (within readout noise) over the cue's window.

    An operator who never pulled (a headless manual take, a missed cue) must
    not get a score as if a bad pull had happened: its start, sharp and land
    times would be measured from nothing. Unknown focus (no readout) is left
    to the normal scoring from who is in focus.
    """
    known = [s.focus_dpt for s in frames if s.focus_dpt is not None]
    return len(known) >= 2 and max(known) - min(known) <= STILL_FOCUS_SHARE * tol


def _focus_timing(cue: FiredCue, frames: list[Sample], tol: float):
    start_dpt, target = cue.start_dpt, cue.target_dpt
    assert start_dpt is not None and target is not None
    travel = target - start_dpt
    progress = [((s.focus_dpt or 0.0) - start_dpt) / travel for s in frames]
    start = next((s.t for s, p in zip(frames, progress) if p >= START_SHARE), None)

    def on_target(sample: Sample) -> bool:
        return abs((sample.focus_dpt or 0.0) - target) <= tol

    sharp = _landed_at(frames, on_target)
    mean_step = abs(travel) / (cue.duration_s * cue.fps)
    landed = _stopped_at(frames, target, tol, STILL_SHARE * mean_step)
    halfway = next((i for i, p in enumerate(progress) if p >= 0.5), None)
    overshoot = 0.0 if halfway is None else max(0.0, max(progress[halfway:]) - 1.0) * abs(travel)
    rms = None
    if start is not None:  # the curve's shape, with the start delay taken out
        shift = start - (cue.t0 + cue.duration_s * _inverse_ease(cue.curve, START_SHARE))
        inside = [(s.t, p) for s, p in zip(frames, progress) if cue.t0 + shift <= s.t <= cue.t0 + shift + cue.duration_s]
        errors = [p - ease(cue.curve, (t - cue.t0 - shift) / cue.duration_s) for t, p in inside]
        rms = math.sqrt(sum(e * e for e in errors) / len(errors)) if errors else None
    right = on_target(_judged_frame(cue, frames))
    return start, sharp, landed, overshoot, rms, right, on_target


def _stopped_at(frames: list[Sample], target: float, tol: float, still_step: float) -> float | None:
    """When the rack ended: focus on the target and no longer travelling (a frame's step under ``still_step``).

    Small corrections after that (drive mode refining a distance estimate,
    an operator trimming) belong to holding focus, not to the rack.
    """
    for sample, after in zip(frames, frames[1:]):
        on_target = abs((sample.focus_dpt or 0.0) - target) <= tol
        if on_target and abs((after.focus_dpt or 0.0) - (sample.focus_dpt or 0.0)) <= still_step:
            return sample.t
    return None


def _sharpness_timing(cue: FiredCue, frames: list[Sample]):
    """Timing from the target's in-focus state alone (no lens readout): start, sharp and landing coincide."""
    def target_sharp(sample: Sample) -> bool:
        return any(s.id == cue.target_id and s.in_focus for s in sample.subjects)

    def origin_soft(sample: Sample) -> bool:
        return not any(s.in_focus and s.id != cue.target_id for s in sample.subjects)

    start = next((s.t for s in frames if origin_soft(s)), None)
    sharp = _landed_at(frames, target_sharp)
    right = bool(frames) and target_sharp(_judged_frame(cue, frames))
    return start, sharp, sharp, None, None, right, target_sharp


def _judged_frame(cue: FiredCue, frames: list[Sample]) -> Sample:
    """The frame that says who ended sharp: half a second after the planned landing (or the last)."""
    when = cue.t0 + cue.duration_s + 0.5
    return next((s for s in frames if s.t >= when), frames[-1])


def _landed_at(frames: list[Sample], on_target) -> float | None:
    """The first time focus is on the target and stays there for ``HOLD_S``."""
    since = None
    for sample in frames:
        if on_target(sample):
            since = sample.t if since is None else since
            if sample.t - since >= HOLD_S:
                return since
        else:
            since = None
    return None


def _buzz(frames: list[Sample], sharp: float | None, on_target: Callable[[Sample], bool]) -> int:
    """Times the target went soft again after it was first sharp (hunting or buzzing the mark)."""
    if sharp is None:
        return 0
    dips, off = 0, 0
    for sample in frames:
        if sample.t < sharp:
            continue
        off = 0 if on_target(sample) else off + 1
        dips += off == DIP_FRAMES
    return dips


def _inverse_ease(curve: str, share: float) -> float:
    """Progress at which the curve reaches ``share`` (bisection: every curve rises)."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ease(curve, mid) < share else (lo, mid)
    return (lo + hi) / 2


def _points(cue: FiredCue, delay: float | None, to_sharp: float | None, overshoot: float | None,
            rms: float | None, buzz: int, right: bool) -> float:
    """0-100: 100 is on time, sharp on schedule, no overshoot, the planned curve, the right subject."""
    points = 100.0
    points -= 60.0 * abs(delay) if delay is not None else 40.0
    points -= 40.0 * max(0.0, to_sharp - cue.duration_s) if to_sharp is not None else 40.0
    points -= 200.0 * (overshoot or 0.0)
    points -= 60.0 * (rms or 0.0)
    points -= 15.0 * buzz
    points -= 0.0 if right else 50.0
    return max(0.0, min(100.0, points))
