"""The one distance filter: follows walks with their speed, restarts on steps and after gaps."""

from __future__ import annotations

import random

import pytest

from assistant.vision.depth import DistanceEstimate
from assistant.vision.ranging import MIN_WALK_S, Range, RangeFilter

FPS = 30.0


def measured(rng: random.Random, metres: float, noise: float = 0.03) -> DistanceEstimate:
    return DistanceEstimate(metres * (1.0 + rng.gauss(0.0, noise)), noise * metres)


def test_a_steady_walk_is_followed_with_its_speed_and_called_moving():
    rng = random.Random(1)
    ranger = RangeFilter()
    ranges = [ranger.update(i / FPS, measured(rng, 4.0 - 1.0 * i / FPS)) for i in range(75)]  # 4 m -> 1.5 m
    late = ranges[45:]
    assert all(r.moving for r in late)
    assert sum(r.speed_m_s for r in late) / len(late) == pytest.approx(-1.0, abs=0.2)
    truth = [4.0 - 1.0 * i / FPS for i in range(45, 75)]
    assert max(abs(r.metres - d) for r, d in zip(late, truth)) < 0.1


@pytest.mark.parametrize("before_m, after_m", [(1.5, 3.0), (3.0, 1.5)])
def test_a_step_restarts_the_filter_and_is_not_carried_on_as_a_walk(before_m, after_m):
    for seed in range(8):
        rng = random.Random(seed)
        ranger = RangeFilter()
        ranges = []
        for i in range(60):
            t = i / FPS
            share = min(1.0, max(0.0, (t - 1.0) / 0.15))  # the step: 0.15 s from t = 1 s
            ranges.append((t, ranger.update(t, measured(rng, before_m + (after_m - before_m) * share))))
        step = [r for t, r in ranges if 1.0 <= t <= 1.2]
        assert any(r.jumped for r in step)
        # Not a walk: the step itself (its first 0.15 s after the restart) is never extrapolated.
        first = next(t for t, r in ranges if r.jumped and t >= 1.0)
        assert not any(r.moving for t, r in ranges if first <= t < first + MIN_WALK_S)
        beyond = max((r.metres - after_m) * (1 if after_m > before_m else -1) for t, r in ranges if t >= 1.15)
        assert beyond < 3 * 0.03 * after_m, (seed, beyond)  # within the noise, never a run past it


def test_one_wild_measurement_is_ignored_and_a_long_gap_starts_afresh():
    ranger = RangeFilter()
    for i in range(30):
        ranger.update(i / FPS, DistanceEstimate(2.0, 0.05))
    wild = ranger.update(30 / FPS, DistanceEstimate(4.0, 0.05))  # one bad detection
    assert wild.metres == pytest.approx(2.0, abs=0.01) and not wild.jumped
    back = ranger.update(31 / FPS, DistanceEstimate(2.0, 0.05))
    assert back.metres == pytest.approx(2.0, abs=0.01)
    later = ranger.update(2.0, DistanceEstimate(2.6, 0.05))  # seen again after 0.97 s
    assert later.jumped and later.metres == 2.6 and later.speed_m_s == 0.0
    assert ranger.predict(2.1).metres == pytest.approx(2.6)


def test_bad_ranges_are_refused():
    with pytest.raises(ValueError, match="distance > 0"):
        Range(0.0, 0.1)
    with pytest.raises(ValueError, match="gate_sigmas"):
        RangeFilter(gate_sigmas=0.5)
