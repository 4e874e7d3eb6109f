"""Targeting: one set of rules for --target, labels, racks and marks; decided only after the whole frame was searched."""

from __future__ import annotations

import pytest

from assistant.targeting import Candidate, Targeting, pick, rack_subject
from assistant.types import Subject
from assistant.vision.subjects import DISCOVERY_REGIONS, SearchPlanner, SearchConfig


def face(sid: int, x: int, size: int, distance: float | None = None, label: str = "", coasting: bool = False) -> Subject:
    return Subject(id=sid, box=(x, 100, size, size), label=label, distance_m=distance, coasting=coasting)


def test_one_geometry_for_every_rule():
    # A wide face whose left edge is furthest left but whose centre (200) is not: sides go by the centre (170).
    wide, narrow = Candidate(1, (0, 0, 400, 100), 3.0), Candidate(2, (150, 0, 40, 40), 1.0)
    assert pick("left", [wide, narrow]).id == 2 and pick("right", [wide, narrow]).id == 1
    assert pick("largest", [wide, narrow]).id == 1
    assert pick("nearest", [wide, narrow]).id == 2
    assert pick("nearest", [Candidate(1, (0, 0, 9, 9)), Candidate(2, (0, 0, 9, 9), 5.0)]).id == 2
    with pytest.raises(ValueError, match="unknown targeting rule"):
        pick("tallest", [wide])


def test_largest_waits_for_the_whole_frame_then_sticks_to_its_subject():
    targeting = Targeting("largest")
    small = face(1, 100, 50)
    assert targeting.update([small], searched_all=False) is None and not targeting.found
    big = face(2, 900, 120)
    assert targeting.update([small, big], searched_all=True).id == 2 and targeting.changed
    passer_by = face(3, 500, 300)
    assert targeting.update([small, big, passer_by]).id == 2 and not targeting.changed
    assert targeting.update([small, passer_by]).id == 3  # the target is gone: the rule chooses again


def test_a_face_the_last_search_missed_still_counts_and_labels_follow_their_subject():
    targeting = Targeting("largest")
    assert targeting.update([face(1, 0, 300, coasting=True), face(2, 500, 50)]).id == 1
    labelled = Targeting("B")
    assert labelled.update([face(1, 0, 80, label="A")]) is None
    assert labelled.update([face(1, 0, 80, label="A"), face(4, 600, 80, label="B")]).id == 4
    labelled.select(1)
    assert labelled.update([face(1, 0, 80, label="A"), face(4, 600, 80, label="B")]).id == 1


def test_racks_go_by_label_or_by_the_side_of_frame_among_faces_with_a_distance():
    people = [face(1, 100, 80, 2.0, "A"), face(2, 900, 80, None, "B"), face(3, 600, 80, 4.0)]
    assert rack_subject(people, "B").id == 2
    assert rack_subject(people, "right").id == 3  # B has no distance yet: nowhere to rack to
    assert rack_subject(people, "left").id == 1
    with pytest.raises(ValueError, match="left/right"):
        rack_subject(people, "largest")


def test_the_planner_sweeps_every_region_before_faces_are_compared():
    planner = SearchPlanner(SearchConfig(discover_every=30))
    searches = [planner.plan(1280, 720, [])]
    assert not planner.swept
    tentative = [(1, (100, 100, 50, 50), False)]
    for _ in range(2 * DISCOVERY_REGIONS):
        searches.append(planner.plan(1280, 720, tentative))
    # Someone appeared: the sweep starts again, alternating with crops that confirm what it finds.
    models = [s.model for s in searches]
    assert models == ["full"] + ["short", "full"] * DISCOVERY_REGIONS
    assert planner.swept
    later = [planner.plan(1280, 720, [(1, (100, 100, 50, 50), True)]).model for _ in range(60)]
    assert later.count("full") == 2  # afterwards: discovery every 30th frame again
    planner.restart_sweep()
    assert not planner.swept
