"""Scenes with nobody in them (``make bench-nobody``): the rig pans, shakes and breathes over them."""

from __future__ import annotations

import numpy as np

from assistant.sim.empty_scenes import empty_scene
from assistant.sim.source import SimSource


def test_an_empty_scene_moves_the_picture_as_a_handheld_camera_would():
    scenes = [empty_scene(seed) for seed in range(9000, 9020)]
    assert all(len(s.effects.pan) == 2 and s.effects.moves_camera for s in scenes)
    assert len({s.effects.jitter_px for s in scenes}) > 10  # drawn per seed, not one fixed shake
    source = SimSource(scenes[0])
    first = source.read().image.astype(np.int16)
    late = None
    for _ in range(int(scenes[0].effects.pan[1].t * scenes[0].camera.fps)):
        late = source.read()
    assert late is not None
    assert np.abs(late.image.astype(np.int16) - first).mean() > 5.0  # the view has moved
