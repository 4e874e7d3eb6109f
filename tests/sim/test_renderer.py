"""The virtual rig: photographs, disk blur by the thin lens, compositing, the lens motor."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.sim.assets import AssetLibrary
from assistant.sim.lens import SimLens
from assistant.sim.blur import disk_kernel
from assistant.sim.quantise import quantise_blur
from assistant.sim.renderer import Renderer
from assistant.sim.scene import LayerSpec, Scene, load_scene
from assistant.sim.source import SimSource
from assistant.vision.sharpness import SharpnessMeter


def test_assets_match_their_recorded_checksums():
    library = AssetLibrary()
    assert library.verify() and all(library.verify().values())
    kinds = {info.kind for info in library.infos.values()}
    assert {"person", "prop", "texture"} <= kinds


def test_disk_kernel_is_normalised_and_has_the_disk_area():
    for diameter in (3.0, 7.0, 15.0):
        k = disk_kernel(diameter)
        assert k.sum() == pytest.approx(1.0, abs=1e-6)
        covered = (k > 0).sum()
        assert math.pi * (diameter / 2) ** 2 * 0.8 < covered < math.pi * (diameter / 2 + 1) ** 2


def test_blur_quantisation_is_fine_where_the_eye_sees_it():
    assert quantise_blur(0.4) == 0.0
    assert abs(quantise_blur(2.6) - 2.6) <= 0.125
    assert abs(quantise_blur(30.0) / 30.0 - 1.0) < 0.03


def focus_sweep(scene: Scene, name: str, focus_m: list[float]) -> list[float]:
    renderer = Renderer(scene)
    meter = SharpnessMeter()
    out = []
    for f in focus_m:
        image, truth = renderer.render(0.0, 1.0 / f)
        x, y, w, h = next(t.box for t in truth if t.name == name)
        inner = (x + w * 3 // 10, y + h * 3 // 10, w * 2 // 5, h * 2 // 5)  # opaque middle, no backdrop
        out.append(meter.measure(image, [inner]).boxes[0])
    return out


def test_a_subject_is_sharpest_when_focus_is_at_its_distance(demo_scene):
    scene = replace(load_scene(demo_scene), noise_sigma=0.0, flicker=0.0)
    # Person A stands at 2.0 m: sharpness peaks there and falls off both ways.
    values = focus_sweep(scene, "A", [1.0, 1.4, 1.7, 2.0, 2.5, 3.2, 5.0, 8.0])
    peak = int(np.argmax(values))
    assert peak == 3, values
    assert all(a < b for a, b in zip(values[:peak], values[1:peak + 1])), values
    assert all(a > b for a, b in zip(values[peak:], values[peak + 1:])), values


def test_rendered_blur_matches_the_thin_lens_circle_of_confusion(demo_scene):
    scene = load_scene(demo_scene)
    renderer = Renderer(scene)
    _, truth = renderer.render(0.0, 1.0 / 2.0)
    by_name = {t.name: t for t in truth}
    lens = scene.camera.thin_lens()
    assert by_name["A"].coc_px == pytest.approx(0.0, abs=1e-9)
    assert by_name["B"].coc_px == pytest.approx(lens.coc_px(2.0, 4.0), rel=1e-9)
    # f = 34.2 mm, N = 2, s = 2 m, d = 4 m: c = (f^2/N)|1/s-1/d|/(1-f/s) = 0.1488 mm = 7.65 px at 1280/24.9 mm
    assert by_name["B"].coc_px == pytest.approx(0.0342 ** 2 / 2 * 0.25 / (1 - 0.0171) * 1000 / 24.9 * 1280, rel=1e-6)


def test_nearer_layers_cover_farther_ones():
    scene = Scene(name="t", noise_sigma=0.0, layers=(
        LayerSpec(name="wall", asset="brick", distance_m=5.0, fill=True),
        LayerSpec(name="card", asset="rocket", distance_m=2.0, width_m=1.0),
    ))
    image, truth = Renderer(scene).render(0.0, 0.5)
    card = next(t for t in truth if t.name == "card")
    x, y, w, h = card.box
    centre = image[y + h // 2 - 5:y + h // 2 + 5, x + w // 2 - 5:x + w // 2 + 5]
    wall_only, _ = Renderer(replace(scene, layers=scene.layers[:1])).render(0.0, 0.5)
    assert np.abs(centre.astype(int) - wall_only[y + h // 2 - 5:y + h // 2 + 5, x + w // 2 - 5:x + w // 2 + 5]).mean() > 20
    # Perspective: 1 m wide at 2 m with a 1758 px focal length is about 879 px wide.
    assert w == pytest.approx(scene.camera.thin_lens().focal_px * 1.0 / 2.0, rel=0.02)


def test_sim_source_follows_the_focus_script_then_a_driver(demo_scene):
    source = SimSource.from_file(demo_scene)
    frames = [source.read() for _ in range(3)]
    assert [f.t for f in frames] == pytest.approx([0.0, 1 / 30, 2 / 30])
    assert source.focus_m == pytest.approx(2.0)
    source.lens.move_to(1.0 / 1.0)  # drive to 1 m: 0.5 dpt away at 6 dpt/s takes 0.083 s
    source.read()
    assert source.focus_m > 1.0
    for _ in range(5):
        source.read()
    assert source.focus_m == pytest.approx(1.0)


def test_lens_respects_slew_and_soft_limits():
    lens = SimLens(focus_m=2.0, near_limit_m=0.5, far_limit_m=10.0, max_speed_dpt_s=2.0)
    lens.move_to(5.0)  # beyond the 0.5 m near limit (2 dpt)
    lens.advance(0.1)
    assert lens.position() == pytest.approx(0.5 + 0.2)
    lens.advance(10.0)
    assert lens.position() == pytest.approx(2.0)
    with pytest.raises(ValueError):
        lens.move_to(float("nan"))


def test_scene_file_errors_name_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[layers]]\nname = "a"\nasset = "brick"\ndistance_m = -1\n')
    with pytest.raises(ConfigError, match=r"bad.toml: layers\[0\].distance_m: -1.0 is out of range"):
        load_scene(bad)
    bad.write_text('name = "x"\n[[layers]]\nname = "a"\nasset = "brick"\ndistance_m = 2\nmotion = [{t = 1, ease = "wobble"}]\n')
    with pytest.raises(ConfigError, match=r"layers\[0\].motion\[0\].ease: 'wobble' is not allowed"):
        load_scene(bad)


def test_scene_runs_to_its_end(demo_scene):
    scene = replace(load_scene(demo_scene), duration_s=0.2)
    source = SimSource(scene)
    count = 0
    while source.read() is not None:
        count += 1
    assert count == 6
