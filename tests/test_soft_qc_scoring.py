"""``benchmarks/soft_qc.py``: its frame scoring, section matching and rule picking on hand-made frames."""

from __future__ import annotations


import numpy as np
import pytest

from tests.benchmark_loader import load_benchmark

soft_qc = load_benchmark("soft_qc")
Score, Rule = soft_qc.Score, soft_qc.Rule


def frames(text: str) -> np.ndarray:
    """'..##.#' -> [F, F, T, T, F, T]."""
    return np.array([c == "#" for c in text])


def test_precision_recall_f1_are_exact_frame_counts():
    truth = frames("..######..")
    predicted = frames("....######")
    score = soft_qc.score_clip(truth, predicted)
    assert (score.tp, score.fp, score.fn) == (4, 2, 2)
    assert score.precision == pytest.approx(4 / 6)
    assert score.recall == pytest.approx(4 / 6)
    assert score.f1 == pytest.approx(4 / 6)


def test_uneven_precision_and_recall_give_their_harmonic_mean():
    score = soft_qc.score_clip(frames("########.."), frames("##........"))
    assert (score.precision, score.recall) == (1.0, 0.25)
    assert score.f1 == pytest.approx(2 * 1.0 * 0.25 / 1.25)


def test_nothing_predicted_and_nothing_true_conventions():
    assert soft_qc.score_clip(frames("...."), frames("....")).f1 == 1.0  # precision and recall both 1
    missed = soft_qc.score_clip(frames(".##."), frames("...."))
    assert (missed.precision, missed.recall, missed.f1) == (1.0, 0.0, 0.0)
    wrong = soft_qc.score_clip(frames("...."), frames(".##."))
    assert (wrong.precision, wrong.recall, wrong.f1) == (0.0, 1.0, 0.0)


def test_scores_pool_by_adding_counts_not_averaging_ratios():
    a = soft_qc.score_clip(frames("####"), frames("#..."))  # tp 1, fn 3
    b = soft_qc.score_clip(frames(".."), frames("##"))  # fp 2
    total = a + b
    assert (total.tp, total.fp, total.fn) == (1, 2, 3)
    assert total.precision == pytest.approx(1 / 3) and total.recall == pytest.approx(1 / 4)


def test_a_truth_section_is_found_when_half_of_it_is_predicted():
    truth = frames("####....######....")
    predicted = frames("##........##......")  # 2 of 4 (found), 2 of 6 (not found)
    score = soft_qc.score_clip(truth, predicted)
    assert (score.truth_sections, score.found_sections, score.false_sections) == (2, 1, 0)
    assert soft_qc.score_clip(truth, frames("#.........###.....")).found_sections == 1  # 1/4 and 3/6


def test_a_predicted_run_touching_no_truth_is_a_false_section():
    score = soft_qc.score_clip(frames("..###......"), frames(".####..#.##"))
    assert (score.found_sections, score.false_sections) == (1, 2)


def test_mask_of_sections_is_half_open_at_frame_times():
    times = np.arange(10) / 10  # 0.0 .. 0.9
    assert soft_qc.mask_of([(0.2, 0.5)], times).tolist() == frames("..###.....").tolist()
    assert soft_qc.mask_of([(0.0, 0.1), (0.85, 2.0)], times).tolist() == frames("#........#").tolist()


def test_runs_and_dropping_short_ones():
    mask = frames("#..##...####")
    assert soft_qc.runs(mask) == [(0, 1), (3, 5), (8, 12)]
    assert soft_qc.drop_short(mask, 3).tolist() == frames("........####").tolist()
    assert soft_qc.drop_short(mask, 1).tolist() == mask.tolist()


def test_running_median_removes_one_frame_spikes():
    values = [1, 1, 9, 1, 1, 5, 5, 5]
    assert soft_qc.running_median(values, 3).tolist() == [1, 1, 1, 1, 1, 5, 5, 5]
    assert soft_qc.running_median(values, 1).tolist() == values


def test_normalised_scores_are_relative_to_the_clip_median():
    assert soft_qc.normalised([2.0, 4.0, 4.0, 8.0]).tolist() == [0.5, 1.0, 1.0, 2.0]


def test_threshold_mask_smooths_thresholds_then_drops_short_runs():
    scores = np.array([1, 1, 9, 1, 1, 5, 5, 5, 1, 5, 1], dtype=float)
    assert soft_qc.threshold_mask(scores, Rule(threshold=4.0)).tolist() == frames("..#..###.#.").tolist()
    assert soft_qc.threshold_mask(scores, Rule(threshold=4.0, window=3)).tolist() == frames(".....####..").tolist()
    assert soft_qc.threshold_mask(scores, Rule(threshold=4.0, min_frames=2)).tolist() == frames(".....###...").tolist()


def test_pick_rule_chooses_the_f1_best_threshold():
    # truly soft where the score is 5-6; a 3.5 bump elsewhere and a soft frame that scores only 4
    truth = frames("....####....")
    scores = np.array([1, 1, 3.5, 1, 5, 6, 4, 5, 1, 1, 1, 1], dtype=float)
    candidates = [2.0, 3.0, 4.0, 5.0, 7.0]
    rule, best = soft_qc.pick_rule([(truth, scores)], thresholds=candidates)
    # 2, 3: tp 4 fp 1 (F1 .889); 4: tp 4 fp 0 (F1 1); 5: tp 3 (F1 .857); 7: nothing (F1 0)
    assert rule.threshold == 4.0 and best.f1 == 1.0
    for other in candidates:
        assert soft_qc.score_clip(truth, soft_qc.threshold_mask(scores, Rule(other))).f1 <= best.f1


def test_pick_rule_pools_clips_and_uses_smoothing_when_it_pays():
    truth = frames("....#####....")
    spiky = np.array([1, 8, 1, 1, 6, 6, 6, 6, 6, 1, 1, 8, 1], dtype=float)  # one-frame spikes outside the truth
    rule, best = soft_qc.pick_rule([(truth, spiky), (truth, spiky)], thresholds=[5.0], windows=(1, 3))
    assert (rule.window, best.f1) == (3, 1.0)
    assert (best.tp, best.fp) == (10, 0)


def test_pick_rule_normalised_variant_thresholds_ratios():
    truth = frames("......####")
    bright = np.array([10, 10, 10, 10, 10, 10, 20, 20, 20, 20], dtype=float)  # median 10
    dull = bright / 5  # the same clip, another content level
    rule, best = soft_qc.pick_rule([(truth, bright), (truth, dull)], thresholds=[1.5, 3.0], normalise=True)
    assert rule.normalised and rule.threshold == 1.5 and best.f1 == 1.0


def qc_clip(truth: str, event_soft=(), states: str = "") -> object:
    """A clip of 0.1 s frames: truth soft where '#', qc's stretched soft events, and per-frame states
    ('S' someone sharp, 's' everyone judged soft, '.' nobody judged)."""
    times = np.arange(len(truth)) / 10
    spans = [(a / 10, (b - 1) / 10) for a, b in soft_qc.runs(frames(truth))]
    codes = tuple((t, {"S": 1, "s": 0, ".": -1}[c]) for t, c in zip(times, states or "." * len(truth)))
    return soft_qc.Clip(1, "c", "soft", (), len(truth) / 10, tuple(("soft", a, b + 0.1) for a, b in spans), times,
                        np.ones(len(truth)), (), (), tuple(event_soft), codes)


def test_pick_qc_rule_chooses_the_short_run_minimum_on_events_alone():
    clip = qc_clip("..######....", event_soft=((0.0, 0.1), (0.2, 0.8), (1.0, 1.1)))  # predicts #.######..#.
    rule, best = soft_qc.pick_qc_rule([clip], "event", min_frames=(1, 2, 8))
    assert rule.min_frames == 2 and rule.min_unsharp_s == float("inf") and best.f1 == 1.0


def test_pick_qc_rule_takes_a_long_stretch_with_nobody_sharp_when_no_event_came():
    # Sharp, then a slow drift: judged soft from frame 4 to the end, no soft event at all.
    clip = qc_clip("....#######.", states="SSSSssss.sss")
    assert clip.qc_mask(float("inf")).sum() == 0
    assert clip.qc_mask(0.5).tolist() == frames("....#######.").tolist()  # a section ends at its last soft frame
    assert clip.qc_mask(2.0).sum() == 0  # 0.7 s long: shorter than asked
    rule, best = soft_qc.pick_qc_rule([clip], "event", unsharp=(float("inf"), 0.5, 2.0), min_frames=(1,))
    assert rule.min_unsharp_s == 0.5 and best.f1 == 1.0
    # Nobody was sharp before: nothing to fall from, no section.
    assert qc_clip("....########", states="ssssssss.sss").qc_mask(0.5).sum() == 0


def test_state_truth_runs_to_the_clip_end_event_truth_does_not():
    clip = soft_qc.Clip(1, "c", "soft", (), 1.0, (("soft", 0.2, 0.4),), np.arange(10) / 10, np.ones(10), (), (), (), ())
    assert clip.truth_mask("event").tolist() == frames("..##......").tolist()
    assert clip.truth_mask("state").tolist() == frames("..########").tolist()
    racked = soft_qc.Clip(1, "c", "mixed", (), 1.0, (("soft", 0.2, 0.4), ("rack", 0.7, 0.8)),
                          np.arange(10) / 10, np.ones(10), (), (), (), ())
    assert racked.truth_mask("state").tolist() == frames("..#####...").tolist()


def test_parse_ffmpeg_metadata_print():
    text = ("frame:0    pts:0       pts_time:0\nlavfi.blur=5.590486\n"
            "frame:1    pts:512     pts_time:0.0333333\nlavfi.blur=5.549887\n")
    assert soft_qc.parse_metadata(text) == {"times": [0.0, 0.0333333], "scores": [5.590486, 5.549887]}


def test_tuning_seeds_can_join_ranges_and_are_written_back_as_ranges():
    seeds = soft_qc.seed_range("1000-1002,5000-5001, 1001")
    assert seeds == [1000, 1001, 1002, 5000, 5001]
    assert soft_qc._spans(seeds) == ["1000-1002", "5000-5001"]
    with pytest.raises(Exception, match="before the first"):
        soft_qc.seed_range("10-5")
