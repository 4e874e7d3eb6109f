"""A take's soft time: each soft event stretched while its subject stays judged out of focus."""

from __future__ import annotations

from assistant.qc.soft import GONE_S, merged, soft_sections
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
