"""The search planner: which one detector call runs on each frame (pure: no detector, no clock)."""

from __future__ import annotations

from assistant.vision.subjects import DISCOVERY_REGIONS, SearchConfig, SearchPlanner


def test_with_nobody_tracked_every_frame_discovers_cycling_through_the_whole_frame_and_its_tiles():
    planner = SearchPlanner(SearchConfig())
    regions = [planner.plan(1280, 720, []).region for _ in range(2 * DISCOVERY_REGIONS)]
    assert regions[0] == (0, 0, 1280, 720)
    assert len(set(regions)) == DISCOVERY_REGIONS and regions[:DISCOVERY_REGIONS] == regions[DISCOVERY_REGIONS:]
    assert planner.swept


def test_tracked_faces_get_crops_in_turn_tentative_ones_first():
    planner = SearchPlanner(SearchConfig(discover_every=1000), sweep=False)
    confirmed = [(1, (100, 100, 40, 40), True), (2, (900, 300, 60, 60), True)]
    planner.plan(1280, 720, [])  # first frame: discovery
    ids = [planner.plan(1280, 720, confirmed).track_id for _ in range(6)]
    assert ids == [1, 2, 1, 2, 1, 2]  # least recently searched goes next; never searched: lowest ID first
    with_new = confirmed + [(3, (500, 500, 50, 50), False)]
    assert {planner.plan(1280, 720, with_new).track_id for _ in range(3)} == {3}  # to be confirmed: always it


def test_a_crop_is_square_around_the_face_clamped_inside_the_frame():
    planner = SearchPlanner(SearchConfig(discover_every=1000, crop_scale=4.0, min_crop_px=96), sweep=False)
    planner.plan(1280, 720, [])
    corner = planner.plan(1280, 720, [(1, (1260, 700, 30, 30), True)])
    assert corner.model == "short" and corner.region == (1280 - 120, 720 - 120, 120, 120)
    small = planner.plan(1280, 720, [(1, (600, 300, 10, 10), True)])
    assert small.region[2:] == (96, 96)  # never smaller than min_crop_px
    huge = planner.plan(1280, 720, [(1, (0, 0, 400, 400), True)])
    assert huge.region == (0, 0, 720, 720)  # never bigger than the frame


def test_discovery_keeps_its_cadence_while_tracking():
    planner = SearchPlanner(SearchConfig(discover_every=8), sweep=False)
    tracked = [(1, (100, 100, 40, 40), True)]
    models = [planner.plan(1280, 720, tracked).model for _ in range(64)]
    assert models.count("full") == 8
