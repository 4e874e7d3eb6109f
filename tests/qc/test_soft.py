"""A take's soft time: each soft event stretched while its subject stays judged out of focus."""

from __future__ import annotations

from assistant.qc.soft import GONE_S, MIN_UNSHARP_S, merged, soft_sections, unsharp_runs
from assistant.types import Event


def soft(start: float, end: float, subject: int | None = 1) -> Event:
    return Event("soft", start, end, round(start * 30), round(end * 30), "observed", from_id=subject)


def test_a_subject_who_stays_soft_is_soft_until_the_clip_ends():
    flags = [(t / 10, {1: t < 20}) for t in range(0, 90)]  # sharp until 2.0 s, soft to the end (8.9 s)
    assert soft_sections([soft(2.0, 2.6)], flags) == [(2.0, 8.9)]


def test_the_section_ends_when_the_subject_is_sharp_again():
    flags = [(t / 10, {1: not 20 <= t < 50}) for t in range(0, 90)]  # focus came back at 5.0 s
    assert soft_sections([soft(2.0, 2.6)], flags) == [(2.0, 4.9)]


def test_a_subject_who_leaves_ends_the_section_where_they_were_last_soft():
    flags = [(t / 10, {1: False} if t < 40 else {}) for t in range(0, 90)]  # gone after 3.9 s
    assert soft_sections([soft(2.0, 2.6)], flags) == [(2.0, 3.9)]
    blink = [(t / 10, {1: False} if not 40 <= t < 40 + GONE_S * 10 - 1 else {}) for t in range(0, 90)]
    assert soft_sections([soft(2.0, 2.6)], blink) == [(2.0, 8.9)]  # a short dropout is not leaving


def test_others_and_planes_do_not_stretch_a_section():
    flags = [(t / 10, {1: True, 2: False}) for t in range(0, 90)]
    assert soft_sections([soft(2.0, 2.6)], flags) == [(2.0, 2.6)]  # subject 1 is sharp right after
    assert soft_sections([soft(2.0, 2.6, subject=None)], [(t / 10, {}) for t in range(90)]) == [(2.0, 2.6)]


def test_overlapping_sections_are_joined_in_time_order():
    assert merged([(3.0, 4.0), (1.0, 2.0), (1.5, 2.5)]) == [(1.0, 2.5), (3.0, 4.0)]
    events = [soft(1.0, 1.5, 1), soft(1.2, 1.8, 2), Event("rack", 4.0, 5.0, 120, 150, "observed")]
    assert soft_sections(events, []) == [(1.0, 1.8)]


def test_a_slow_drift_out_of_focus_with_no_event_is_a_section_from_the_first_soft_frame():
    assert MIN_UNSHARP_S < 6.0  # the stretches below are long enough
    flags = [(t / 10, {1: t < 30}) for t in range(0, 150)]  # sharp until 2.9 s, then judged soft: no event came
    assert soft_sections([], flags) == [(3.0, 14.9)]
    dropout = [(t, {} if 50 <= i < 53 else f) for i, (t, f) in enumerate(flags)]  # unjudged for 0.3 s
    assert soft_sections([], dropout) == [(3.0, 14.9)]
    gone = [(t, {} if i >= 100 else f) for i, (t, f) in enumerate(flags)]  # gone after 9.9 s
    assert soft_sections([], gone) == [(3.0, 9.9)]


def test_nobody_sharp_means_nobody_a_rack_away_from_one_person_is_no_section():
    racked = [(t / 10, {1: t < 30, 2: t >= 33}) for t in range(0, 90)]  # 0.3 s between the two
    assert soft_sections([], racked) == []
    never = [(t / 10, {1: False}) for t in range(0, 90)]  # never sharp: nothing fell
    assert soft_sections([], never) == []


def test_a_stretch_shorter_than_the_minimum_is_not_a_section():
    short = round(MIN_UNSHARP_S * 10) - 1  # frames: the stretch lasts (short - 1) / 10 s
    flags = [(t / 10, {1: not 30 <= t < 30 + short}) for t in range(0, 90)]
    assert unsharp_runs(flags, MIN_UNSHARP_S) == []
    assert unsharp_runs(flags, 0.0) == [(3.0, round((30 + short - 1) / 10, 1))]
