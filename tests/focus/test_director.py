"""Suggest and drive modes: guidance, suggested/driven events, and drive mode end to end on the rig."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant import paths
from assistant.focus.director import FocusDirector
from assistant.sim.scene import load_scene
from assistant.types import Subject


def person(sid: int, label: str, distance: float, x: int = 100, in_focus: bool | None = None) -> Subject:
    return Subject(id=sid, box=(x, 100, 80, 80), label=label, distance_m=distance, distance_sigma_m=0.05,
                   in_focus=in_focus)


def test_suggest_says_which_way_and_how_far_once_per_excursion():
    director = FocusDirector("suggest", target="A")
    events = []
    for i in range(10):  # target at 3 m, lens at 2 m: turn farther by 1 m (1/2 - 1/3 = 0.167 dpt)
        guidance, new = director.step(i / 30, i, [person(1, "A", 3.0)], focus_dpt=0.5)
        events += new
    assert guidance.direction == "farther"
    assert guidance.delta_m == pytest.approx(1.0) and abs(guidance.delta_dpt) == pytest.approx(1 / 6)
    assert "turn farther 1.00 m (0.17 dpt)" in guidance.text()
    assert len(events) == 1 and events[0].origin == "suggested" and events[0].type == "pull"
    assert (events[0].distance_from_m, events[0].distance_to_m) == (pytest.approx(2.0), 3.0)
    guidance, new = director.step(11 / 30, 11, [person(1, "A", 2.02)], focus_dpt=0.5)
    assert guidance.direction == "hold" and new == []


def test_suggest_without_a_lens_reading_uses_where_the_target_was_last_sharp():
    director = FocusDirector("suggest")
    director.step(0.0, 0, [person(1, "A", 2.0, in_focus=True)], focus_dpt=None)
    for i in range(1, 6):  # she stepped back to 2.5 m and went soft
        guidance, _ = director.step(i / 30, i, [person(1, "A", 2.5, in_focus=False)], focus_dpt=None)
    assert guidance.direction == "farther" and guidance.delta_m == pytest.approx(0.5)


def test_rack_to_b_on_request_is_a_suggested_rack_and_b_becomes_the_target():
    director = FocusDirector("suggest", target="A")
    people = [person(1, "A", 1.5, x=100), person(2, "B", 4.0, x=900)]
    director.step(0.0, 0, people, focus_dpt=1 / 1.5)
    director.request_rack("B")
    guidance, events = director.step(0.1, 3, people, focus_dpt=1 / 1.5)
    assert [(e.type, e.origin, e.from_id, e.to_id) for e in events] == [("rack", "suggested", 1, 2)]
    assert events[0].distance_from_m == pytest.approx(1.5) and events[0].distance_to_m == 4.0
    assert guidance.target_id == 2


def test_default_target_is_the_largest_face_and_it_does_not_jump_to_a_passer_by():
    director = FocusDirector("suggest")
    small, big = Subject(1, (0, 0, 50, 50), "", 3.0), Subject(2, (500, 0, 120, 120), "", 1.5)
    guidance, _ = director.step(0.0, 0, [small, big], None)
    assert guidance.target_id == 2
    bigger = Subject(3, (800, 0, 300, 300), "", 0.8)  # someone walks close past the camera
    guidance, _ = director.step(0.1, 3, [small, big, bigger], None)
    assert guidance.target_id == 2


def test_drive_mode_needs_a_driver():
    with pytest.raises(ValueError, match="drive mode needs a focus driver"):
        FocusDirector("drive")


def run_drive(tmp_path, *extra):
    events, tracks = tmp_path / "events.jsonl", tmp_path / "tracks.jsonl"
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--headless", "--no-audio", "--mode", "drive",
                          "--scene", str(paths.SCENES_DIR / "drive_walk.toml"), "--target", "B",
                          "--events", str(events), "--tracks", str(tracks), *extra],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return ([json.loads(line) for line in events.read_text().splitlines()],
            [json.loads(line) for line in tracks.read_text().splitlines()])


def test_drive_mode_keeps_a_walking_subject_sharp_with_the_real_detector_and_racks_on_schedule(tmp_path):
    events, tracks = run_drive(tmp_path, "--rack", "A@6.0")
    scene = load_scene(paths.SCENES_DIR / "drive_walk.toml")
    lens = scene.camera.thin_lens()
    walker = next(layer for layer in scene.layers if layer.name == "B")
    walking = [r for r in tracks if 1.5 <= r["t"] <= 4.5]  # B walks 4.5 -> 1.5 m at 1 m/s
    inside = 0
    for r in walking:
        near, far = lens.depth_of_field(r["focus_m"], 0.025)
        inside += near <= walker.place(r["t"])[2] <= far
    assert inside / len(walking) >= 0.95
    driven = [e for e in events if e["origin"] == "driven"]
    assert any(e["type"] == "pull" and e["distance_to_m"] < 2.0 for e in driven)
    (rack,) = [e for e in driven if e["type"] == "rack"]
    assert rack["start"] == pytest.approx(6.0)
    assert rack["end"] == pytest.approx(7.0, abs=1.5 / 30)  # a 1.0 s rack lands within one frame
    assert rack["distance_to_m"] == pytest.approx(2.2, rel=0.1)
    assert any(e["origin"] == "observed" and e["type"] == "rack" for e in events)  # the picture confirms it


def test_drive_mode_without_a_driver_is_a_clear_error(tmp_path):
    clip = tmp_path / "clip.mp4"
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 48))
    for _ in range(3):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--headless", "--no-audio", "--mode", "drive",
                          "--source", str(clip)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "drive mode needs a focus driver" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
