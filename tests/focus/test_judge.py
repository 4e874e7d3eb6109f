"""The in-focus judgement is absolute: never-sharp subjects never read in focus."""

from __future__ import annotations

import math

import numpy as np

from assistant.focus.judge import PIXEL_SIGMA_PX, FocusJudge, JudgeConfig, LensReading


def sigma_for(defocus_px: float, width: float, own: float = 0.0) -> float:
    """The blur width a face shows: pixels, its own softness and defocus, in quadrature."""
    return math.sqrt(PIXEL_SIGMA_PX ** 2 + (own * width) ** 2 + defocus_px ** 2)


def test_a_subject_never_sharp_never_reads_in_focus():
    judge = FocusJudge()
    # 1.4 m behind the focus plane: a 4 px disk (sigma about 1 px) on a 90 px face, for the whole clip
    verdicts = [judge.judge(2, sigma_for(1.0, 90) + 0.02 * math.sin(i), 90) for i in range(300)]
    assert not any(v.in_focus for v in verdicts)
    assert max(v.score for v in verdicts) < 0.35


def test_a_soft_photograph_enlarged_is_in_focus_and_loses_it_when_defocused():
    """The rig's astronaut is enlarged to 240 px: softer in pixels than a smaller face, yet in focus."""
    judge = FocusJudge()
    own = 0.0056
    sharp = [judge.judge(1, sigma_for(0.0, 240, own), 240) for _ in range(60)]
    assert all(v.in_focus for v in sharp) and min(v.score for v in sharp) > 0.9
    soft = [judge.judge(1, sigma_for(1.0, 240, own), 240) for _ in range(30)]
    assert not soft[-1].in_focus and soft[-1].score < 0.3


def test_the_score_is_one_half_at_the_acceptable_limit():
    config = JudgeConfig()
    judge = FocusJudge(config)
    for _ in range(30):  # seen sharp first: its own softness is known
        judge.judge(1, sigma_for(0.0, 100), 100)
    for _ in range(5):
        verdict = judge.judge(1, sigma_for(config.acceptable_sigma_px, 100), 100)
    assert abs(verdict.score - 0.5) < 0.02


def test_the_flag_does_not_flicker_on_the_limit():
    config = JudgeConfig()
    judge = FocusJudge(config)
    rng = np.random.default_rng(0)
    for _ in range(30):
        judge.judge(1, sigma_for(0.0, 100), 100)
    flags = [judge.judge(1, sigma_for(config.acceptable_sigma_px * (1 + rng.normal(0, 0.05)), 100), 100).in_focus
             for _ in range(200)]
    changes = sum(a != b for a, b in zip(flags, flags[1:]))
    assert changes <= 2


def test_a_lens_reading_outside_the_depth_of_field_overrules_a_sharp_looking_picture():
    judge = FocusJudge()
    lens = LensReading(focus_dpt=1 / 2.0, dof_half_dpt=0.03)
    inside = judge.judge(1, sigma_for(0.0, 100), 100, distance_m=2.02, distance_sigma_m=0.05, lens=lens)
    outside = judge.judge(2, sigma_for(0.0, 100), 100, distance_m=3.0, distance_sigma_m=0.1, lens=lens)
    assert inside.in_focus and not outside.in_focus
