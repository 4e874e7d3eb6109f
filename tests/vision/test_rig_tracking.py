"""Tracking quality on rig clips with known depths (1.2-5 m, 1280x720, 40 degrees).

The real MediaPipe detector runs on every frame's planned search; the
scores come from the rig's ground truth (assistant.sim.evaluate).
"""

from __future__ import annotations

import pytest

from assistant import paths
from assistant.sim.evaluate import score_tracking
from assistant.sim.scene import load_scene
from assistant.sim.source import SimSource
from assistant.vision.subjects import SubjectTracker
from assistant.vision.tracker import Tracker

CLIPS = ["track_walk_toward", "track_walk_away", "track_cross", "two_people"]


def run_clip(name: str, detectors) -> tuple:
    scene = load_scene(paths.SCENES_DIR / f"{name}.toml")
    source = SimSource(scene)
    stage = SubjectTracker(detectors, Tracker(), scene.camera.thin_lens().hfov_deg)
    frames = []
    while (frame := source.read()) is not None:
        subjects = stage.update(frame)
        frames.append((tuple(t for t in source.truth if t.face_box), subjects))
    return scene, frames


@pytest.mark.parametrize("name", CLIPS)
def test_subjects_are_tracked_with_stable_ids_and_accurate_distances(name, detectors):
    scene, frames = run_clip(name, detectors)
    assert scene.camera.width == 1280 and round(scene.camera.thin_lens().hfov_deg) == 40
    distances = [t.distance_m for truth, _ in frames for t in truth]
    assert min(distances) <= 2.0 and max(distances) >= 3.5
    score = score_tracking(frames, 1280, 720)
    assert score.person_frames > 300
    assert score.tracked_share >= 0.95, score
    assert score.id_switches <= 1, score
    assert score.median_distance_error <= 0.10, score


def test_walk_clip_spans_1_2_to_5_metres():
    scene = load_scene(paths.SCENES_DIR / "track_walk_toward.toml")
    walker = next(layer for layer in scene.layers if layer.name == "A")
    assert walker.place(0.0)[2] == pytest.approx(5.0) and walker.place(scene.duration_s)[2] == pytest.approx(1.2)


def test_labels_from_the_scene_order_of_appearance(detectors):
    _, frames = run_clip("two_people", detectors)
    truth, subjects = frames[-1]
    by_label = {s.label: s for s in subjects}
    faces = {t.label: t.face_box for t in truth}
    for label in ("A", "B"):
        x, y, w, h = faces[label]
        sx, sy, sw, sh = by_label[label].box
        assert x <= sx + sw / 2 <= x + w and y <= sy + sh / 2 <= y + h
