"""The tile-grid labeller: racks between planes, and not the camera moving."""

from __future__ import annotations

import numpy as np

from assistant.focus.planes import PlaneLabeller
from assistant.types import SharpnessMap

GRID = (9, 16)
FPS = 30.0


def sharpness() -> SharpnessMap:
    return SharpnessMap(np.ones(GRID), (), (60.0, 60.0), np.zeros((540, 960), np.int16))


def run(levels_at, duration: float, since: float = -np.inf) -> list:
    """``levels_at(t)``: the tiles' log levels at time t (a (rows*cols,) array)."""
    labeller = PlaneLabeller(GRID)
    rng = np.random.default_rng(0)
    events = []
    for i in range(round(duration * FPS)):
        t = i / FPS
        labeller.update(t, i, sharpness(), levels_at(t) + rng.normal(0, 0.02, GRID[0] * GRID[1]))
        events += labeller.events(labelling=True, since=since)
    return events + labeller.events(labelling=True, final=True, since=since)


def rack_between_halves(t0: float, t1: float, change: float = 3.0):
    """The left half sharp, then the right half; ``change`` log units between the two."""
    left = np.tile(np.arange(16) < 8, 9)

    def levels(t: float) -> np.ndarray:
        p = min(1.0, max(0.0, (t - t0) / (t1 - t0)))
        return np.where(left, 2.0 - change * p, 2.0 - change + change * p)
    return levels


def test_focus_moving_from_the_left_plane_to_the_right_is_a_rack():
    events = run(rack_between_halves(2.0, 3.0), 6.0)
    assert [e.type for e in events] == ["rack"]
    assert abs(events[0].start - 2.0) < 0.3 and events[0].target_box[0] >= 480


def test_a_rack_that_began_while_faces_were_followed_is_left_to_the_subject_labeller():
    assert run(rack_between_halves(2.0, 3.0), 6.0, since=2.5) == []


def test_tiles_changing_for_longer_than_any_rack_are_the_camera_moving():
    assert run(rack_between_halves(1.0, 8.0, change=7.0), 11.0) == []  # as steep as a rack, for 7 s
