"""`make bench-drive`: its scoring on hand-made truth, its scenarios, and one real run through the CLI."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from assistant.sim.assets import AssetLibrary
from assistant.sim.optics import ThinLens
from assistant.sim.renderer import Renderer
from assistant.sim.scene import CameraSpec, LayerSpec, Scene, load_scene
from tests.benchmark_loader import load_benchmark

drive = load_benchmark("drive")
LENS = ThinLens(50.0, 2.0, 36.0, 960)
COC = 0.05


def test_dof_half_width_is_where_the_blur_reaches_the_limit():
    for subject in (1.2, 2.0, 4.5):
        for beyond, sign in ((True, 1.0), (False, -1.0)):
            half = drive.dof_half_width_dpt(LENS, subject, COC, beyond)
            edge = 1 / subject + sign * half
            assert LENS.coc_mm(1 / edge, subject) == pytest.approx(COC, rel=1e-9)
            assert drive.in_dof(LENS, COC, 1 / subject + sign * half * 0.99, subject)
            assert not drive.in_dof(LENS, COC, 1 / subject + sign * half * 1.01, subject)
    # 50 mm f/2: about c N / f^2 = 0.04 dioptres either side
    assert drive.dof_half_width_dpt(LENS, 2.0, COC, True) == pytest.approx(0.04, rel=0.05)


def test_the_limit_scales_with_the_sensor():
    walk = drive.generate(7000)
    assert walk.coc_limit_mm == pytest.approx(0.05 * walk.scene.camera.sensor_width_mm / 36.0)


def test_shares_count_from_the_first_sharp_frame_or_one_second():
    times = [i / 10 for i in range(30)]
    late = [t >= 1.5 for t in times]
    assert drive.measure_start(times, late) == (1.0, "1 s")
    assert drive.share_inside(times, late, 1.0) == pytest.approx(15 / 20)
    early = [t >= 0.4 for t in times]
    assert drive.measure_start(times, early) == (0.4, "sharp")
    assert drive.share_inside(times, early, 0.4) == 1.0


def test_settle_is_the_start_of_the_last_sharp_stretch_after_the_step():
    times = [round(i * 0.1, 1) for i in range(8)]
    sharp = [True, False, False, True, False, True, True, True]
    assert drive.settle_time(times, sharp, 0.1) == pytest.approx(0.4)
    assert drive.settle_time(times, [True] * 8, 0.2) == 0.0
    assert drive.settle_time(times, sharp[:-1] + [False], 0.1) is None


def test_overshoot_is_measured_past_the_new_depth_inside_the_window():
    times = [i / 10 for i in range(10)]
    # 0.5 -> 0.3 dpt (focus moves far), dipping to 0.27 at 0.4 s; a later excursion is outside the window.
    focus = [0.5, 0.5, 0.4, 0.3, 0.27, 0.29, 0.3, 0.3, 0.3, 0.1]
    assert drive.overshoot_dpt(times, focus, 0.1, 0.8, 0.5, 0.3) == pytest.approx(0.03)
    # 0.3 -> 0.5 dpt (focus moves near), peaking at 0.52
    assert drive.overshoot_dpt(times, [0.3, 0.4, 0.52, 0.5, 0.5], 0.0, 1.0, 0.3, 0.5) == pytest.approx(0.02)
    assert drive.overshoot_dpt(times, [0.5, 0.4, 0.35, 0.31, 0.3], 0.0, 1.0, 0.5, 0.3) == 0.0


def test_reversals_ignore_moves_below_the_threshold():
    assert drive.reversals([0.5 + 0.002 * math.sin(i) for i in range(100)]) == 0  # jitter
    # up 0.02, down 0.02, up 0.02: two reversals
    path = list(np.linspace(0.5, 0.52, 5)) + list(np.linspace(0.52, 0.50, 5)) + list(np.linspace(0.50, 0.52, 5))
    assert drive.reversals(path) == 2
    # a move of 0.004 then back is not a reversal; 0.006 is
    assert drive.reversals([0.5, 0.504, 0.5, 0.504]) == 0
    assert drive.reversals([0.5, 0.506, 0.5]) == 1
    assert drive.reversals([]) == 0


def test_first_sharp_with_and_without_a_hold():
    times = [i / 10 for i in range(10)]
    sharp = [False, True, False, False, True, True, True, True, True, True]
    assert drive.first_sharp(times, sharp) == pytest.approx(0.1)
    assert drive.first_sharp(times, sharp, 0.3) == pytest.approx(0.4)
    assert drive.first_sharp(times, [False] * 10) is None


def test_non_target_frames_need_the_other_sharp_and_the_target_not():
    row = drive.TruthRow  # target at 2 m, another person at 4 m
    rows = [row(0.5, 0.25, 2.0, (4.0,)),  # on the other, but within the first second
            row(1.0, 0.25, 2.0, (4.0,)),  # on the other
            row(1.5, 0.5, 2.0, (4.0,)),  # on the target
            row(2.0, 0.375, 2.0, (4.0,)),  # between: on no one
            row(2.5, 0.28, 2.0, (3.0, 5.0))]  # near no one: 0.053 dpt from 3 m, 0.08 from 5 m
    assert drive.non_target_frames(rows, LENS, COC) == 1
    both = [row(1.5, 0.5, 2.0, (2.01,))]  # both sharp: not counted against
    assert drive.non_target_frames(both, LENS, COC) == 0


def test_a_step_scored_on_hand_made_truth():
    scenario = drive.generate(7001, kind="step")
    t_s, t_e, d_from, d_to = scenario.step
    fps = scenario.scene.camera.fps
    rows = []
    for i in range(scenario.scene.frame_count):
        t = i / fps
        target = d_from if t < t_s else d_to if t >= t_e else d_from + (d_to - d_from) * (t - t_s) / (t_e - t_s)
        focus = 1 / d_from if t < t_e + 0.2 else 1 / d_to  # the lens jumps 0.2 s after the step's end
        rows.append(drive.TruthRow(t, focus, target))
    result = drive.score(scenario, rows)
    assert result.settle_s == pytest.approx(0.2, abs=1 / fps + 1e-6)
    assert result.overshoot_dpt == 0.0
    assert result.in_dof == 1.0  # the jump and the 0.3 s allowed to settle are left out of the share
    assert {c.goal: c.passed for c in result.checks} == {
        "in DoF >= 97 %": True, "settle <= 0.3 s": True, "no overshoot past the DoF": True,
        "0 frames on a non-target after 1 s": True}
    late = [replace(r, focus_dpt=1 / d_from) if r.t >= t_e + 0.5 else r for r in rows]  # wanders back: a miss
    assert not {c.goal: c.passed for c in drive.score(scenario, late).checks}["in DoF >= 97 %"]
    assert drive.score(scenario, rows[:10]).error is not None  # a cut-short run is an error, not a score


def test_scenarios_are_deterministic_and_reload_from_their_scene_files(tmp_path):
    assets = AssetLibrary()
    for seed in range(7000, 7007):
        scenario = drive.generate(seed, assets)
        assert scenario.kind == drive.KINDS[seed % 7]
        assert drive.generate(seed, assets).scene_toml == scenario.scene_toml
        path = drive.scene_file(scenario, tmp_path)
        assert load_scene(path) == scenario.scene
        names = [layer.name for layer in scenario.scene.layers]
        assert scenario.target in names and 6.0 <= scenario.scene.duration_s <= 10.0
    turn = drive.generate(7006, assets, kind="turn")
    assert turn.hidden is not None and next(layer for layer in turn.scene.layers if layer.name == "target").hidden_face


def test_a_turned_away_face_is_painted_over_and_flagged():
    library = AssetLibrary()
    layers = (LayerSpec("wall", "brick", 8.0, fill=True), LayerSpec("p", "astronaut", 2.0, x=0.5, y=0.6))
    plain = Scene("plain", layers, camera=CameraSpec(50.0, 2.0, 36.0, 960, 540), noise_sigma=0.0)
    turned = replace(plain, layers=(layers[0], replace(layers[1], hidden_face=((1.0, 2.0),))))
    before, truth_before = Renderer(plain, library).render(1.5, 0.5)
    during, truth_during = Renderer(turned, library).render(1.5, 0.5)
    after, truth_after = Renderer(turned, library).render(2.0, 0.5)
    assert truth_before[0].face_visible and truth_after[0].face_visible and not truth_during[0].face_visible
    assert np.array_equal(Renderer(plain, library).render(2.0, 0.5)[0], after)
    x, y, w, h = truth_during[0].face_box
    changed = np.any(before != during, axis=2)
    assert changed[y:y + h, x:x + w].mean() > 0.8  # the face is gone ...
    changed[max(0, y - h // 2):y + 3 * h // 2, max(0, x - w // 2):x + 3 * w // 2] = False
    assert not changed.any()  # ... and nothing else changed
    with pytest.raises(ValueError, match="hidden_face"):
        LayerSpec("p", "astronaut", 2.0, hidden_face=((2.0, 1.0),))


def test_one_short_scenario_through_the_cli(tmp_path):
    """The real CLI with the rig plugins: a truth line per frame, and a scored row."""
    scenario = drive.generate(7003, kind="distractor")
    short = scenario.scene_toml.replace(f"duration_s = {scenario.scene.duration_s!r}", "duration_s = 3.0")
    assert short != scenario.scene_toml
    scenario = replace(scenario, scene=replace(scenario.scene, duration_s=3.0), scene_toml=short)
    files, wall_s, error = drive.run(scenario, tmp_path / "run", cache=tmp_path)
    assert error is None, files.log.read_text()
    lines = [json.loads(line) for line in files.truth.read_text().splitlines()]
    assert [line["frame"] for line in lines] == list(range(90))
    assert {p["name"] for p in lines[0]["people"]} == {"target", "other"} and lines[0]["target"] == "target"
    assert lines[0]["commanded_dpt"] is None or isinstance(lines[0]["commanded_dpt"], float)
    assert len(files.tracks.read_text().splitlines()) == 90
    result = drive.score(scenario, drive.read_truth(files.truth), wall_s)
    assert result.error is None and result.frames == 90 and result.in_dof is not None
    assert [c.goal for c in result.checks] == ["in DoF >= 97 %", "0 frames on a non-target after 1 s"]
    row = drive.row_text(result)
    assert row.startswith("| 7003 | distractor |") and row.rstrip(" |").split("| ")[-1] in ("PASS", "MISS")
