"""The camera's own effects on the virtual rig: pan, shake, breathing, shutter, exposure, JPEG."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.sim.assets import AssetLibrary
from assistant.sim.renderer import Renderer
from assistant.sim.scene import CameraEffects, ExposureKey, LayerSpec, MotionKey, PanKey, Scene, Shake, load_scene
from assistant.sim.source import SimSource

W, H = 1280, 720


@pytest.fixture(scope="module")
def library() -> AssetLibrary:
    return AssetLibrary()


def still_scene(**effects) -> Scene:
    """A brick wall and a person standing still, no noise or flicker."""
    return Scene(name="fx", noise_sigma=0.0, layers=(
        LayerSpec(name="wall", asset="brick", distance_m=6.0, fill=True),
        LayerSpec(name="A", label="A", asset="astronaut", distance_m=2.0, x=0.4, y=0.5),
    ), effects=CameraEffects(**effects))


def truth_of(truths, name):
    return next(t for t in truths if t.name == name)


def gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)


def shift_between(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How far (dx, dy) the picture content moved from frame ``a`` to frame ``b`` (phase correlation)."""
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_64F)
    (dx, dy), _ = cv2.phaseCorrelate(gray(a), gray(b), window)
    return dx, dy


# --- defaults -----------------------------------------------------------------------------------


def test_default_effects_leave_the_demo_scene_as_it_was(demo_scene, tmp_path, library):
    scene = load_scene(demo_scene)
    assert scene.effects == CameraEffects()
    assert not scene.effects.moves_camera
    # An explicit [effects] table with every default is the same scene.
    text = demo_scene.read_text() + (
        "\n[effects]\npan = []\njitter_px = 0.0\nbreathing = 0.0\nshutter_deg = 0.0\nexposure = []\njpeg_quality = 0\n")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text(text)
    assert load_scene(explicit) == scene

    # Ground truth at t = 0 is where it was before the effects existed (integer arithmetic, exact).
    _, truth = Renderer(scene, library).render(0.0, 0.5)
    boxes = {t.name: (t.box, t.face_box, t.motion_blur_px) for t in truth}
    assert boxes["cup"] == ((1002, 517, 351, 234), None, 0.0)
    assert boxes["A"] == ((30, 102, 631, 631), (248, 203, 117, 117), 0.0)
    assert boxes["B"] == ((810, 224, 171, 200), (867, 273, 65, 65), 0.0)
    assert boxes["wall"] == ((0, 0, 1280, 720), None, 0.0)

    # Effects that are on but have nothing to act on change no pixel: a shutter over a still
    # second of the clip, an exposure "step" to gain 1 and JPEG off, noise and flicker kept.
    neutral = replace(scene, effects=CameraEffects(shutter_deg=180.0, exposure=(ExposureKey(t=0.5, gain=1.0),)))
    plain, tried = SimSource(scene, library), SimSource(neutral, library)
    for _ in range(20):
        a, b = plain.read(), tried.read()
        assert np.array_equal(a.image, b.image)
        assert [(t.box, t.face_box, t.face_visible) for t in plain.truth] == \
               [(t.box, t.face_box, t.face_visible) for t in tried.truth]
        assert all(t.motion_blur_px == 0.0 for t in tried.truth)


def test_effects_in_a_scene_file_are_checked_by_name(tmp_path):
    path = tmp_path / "fx.toml"
    base = 'name = "x"\n[[layers]]\nname = "a"\nasset = "brick"\ndistance_m = 2\nfill = true\n'
    path.write_text(base + '[effects]\njitter_px = 2.5\nshutter_deg = 180\njpeg_quality = 20\nbreathing = 0.01\n'
                    'pan = [{ t = 1.0, x = 0.1 }, { t = 3.0, y = -0.05, ease = "s-curve" }]\n'
                    'exposure = [{ t = 2.0, gain = 0.5 }]\n')
    fx = load_scene(path).effects
    assert fx == CameraEffects(pan=(PanKey(t=1.0, x=0.1), PanKey(t=3.0, y=-0.05, ease="s-curve")), jitter_px=2.5,
                               breathing=0.01, shutter_deg=180.0, exposure=(ExposureKey(t=2.0, gain=0.5),),
                               jpeg_quality=20)
    assert fx.pan_at(0.5) == pytest.approx((0.05, 0.0))
    assert fx.pan_at(2.0) == pytest.approx((0.1, -0.025))  # s-curve half way is half way
    assert fx.pan_at(9.0) == pytest.approx((0.1, -0.05))
    assert (fx.gain_at(1.99), fx.gain_at(2.0)) == (1.0, 0.5)
    assert fx.magnification(2.0) == pytest.approx(1.02)
    assert fx.exposure_s(30.0) == pytest.approx(1 / 60)
    path.write_text(base + '[effects]\nshutter_deg = 400\n')
    with pytest.raises(ConfigError, match=r"effects.shutter_deg: 400.0 is out of range; expected >= 0.0 and <= 360.0"):
        load_scene(path)
    path.write_text(base + '[effects]\nexposure = [{ t = 2.0, gain = 0.5 }, { t = 1.0, gain = 2 }]\n')
    with pytest.raises(ConfigError, match=r"effects: exposure keys must be in time order"):
        load_scene(path)
    path.write_text(base + '[effects]\nshutter = 180\n')
    with pytest.raises(ConfigError, match=r"effects.shutter: unknown key"):
        load_scene(path)


# --- pan ----------------------------------------------------------------------------------------


def test_a_pan_moves_every_layer_and_the_picture_by_the_same_pixels(library):
    # From (0, 0) at t = 0 to (0.1, -0.05) at t = 1, linear: at t = 0.5 the view is turned by
    # (0.05 * 1280, -0.025 * 720) = (64, -18) px, so the content moves by (-64, +18).
    renderer = Renderer(still_scene(pan=(PanKey(t=1.0, x=0.1, y=-0.05),)), library)
    before, t0 = renderer.render(0.0, 0.5)
    after, t1 = renderer.render(0.5, 0.5)
    a0, a1 = truth_of(t0, "A"), truth_of(t1, "A")
    assert a0.box == (round(0.4 * W - a0.box[2] / 2), round(0.5 * H - a0.box[3] / 2), a0.box[2], a0.box[3])
    assert (a1.box[0] - a0.box[0], a1.box[1] - a0.box[1]) == (-64, 18)
    assert a1.box[2:] == a0.box[2:]
    assert (a1.face_box[0] - a0.face_box[0], a1.face_box[1] - a0.face_box[1]) == (-64, 18)
    assert truth_of(t1, "wall").box == (0, 0, W, H)

    dx, dy = shift_between(before, after)
    assert dx == pytest.approx(-64, abs=0.5) and dy == pytest.approx(18, abs=0.5)
    # Backdrop and person alike: the overlap is the same picture, pixel for pixel.
    assert np.array_equal(after[18:, :W - 64], before[:H - 18, 64:])


def test_a_pan_with_the_shutter_open_smears_the_still_layers_by_the_pan_speed(library):
    # 0.4 of the width in 1 s = 512 px/s; 180 degrees at 30 fps = 1/60 s: 8.53 px, for every layer.
    pan = (PanKey(t=1.0, x=0.4),)
    frame, truth = Renderer(still_scene(pan=pan, shutter_deg=180.0), library).render(0.5, 0.5)
    sharp, _ = Renderer(still_scene(pan=pan), library).render(0.5, 0.5)
    assert truth_of(truth, "A").motion_blur_px == pytest.approx(512 / 60, rel=1e-6)
    assert truth_of(truth, "wall").motion_blur_px == pytest.approx(512 / 60, rel=1e-6)

    def keep(region, dx, dy):  # share of the gradient energy the smear leaves
        energy = lambda im: float(np.mean(cv2.Sobel(gray(im), cv2.CV_64F, dx, dy)[region] ** 2))
        return energy(frame) / energy(sharp)

    x, y, w, h = truth_of(truth, "A").face_box
    face = (slice(y, y + h), slice(x, x + w))
    assert keep(face, 1, 0) < 0.45 and keep(face, 1, 0) < 0.6 * keep(face, 0, 1)
    wall = (slice(0, 100), slice(800, W))  # backdrop only (A stands left of it)
    assert keep(wall, 1, 0) < 0.65 and keep(wall, 0, 1) > 0.85


# --- jitter -------------------------------------------------------------------------------------


def test_jitter_has_the_asked_rms_and_moves_the_picture_with_the_boxes(library):
    rms = 4.0
    shake = Shake(rms, seed=0)
    t = np.arange(0.0, 4.0, 1 / 30)
    path = np.array([shake.at(s) for s in t])
    assert np.sqrt((path ** 2).mean(axis=0)) == pytest.approx([rms, rms], rel=0.15)
    # Smooth, at 1-6 Hz: a frame's step is 2 pi f rms / fps for an RMS frequency f in that band
    # (uncorrelated jumps would give sqrt(2) rms = 5.7 px).
    step = np.sqrt((np.diff(path, axis=0) ** 2).mean())
    assert 2 * math.pi * 1.0 * rms / 30 < step < 2 * math.pi * 6.0 * rms / 30
    assert step < 0.6 * rms
    assert Shake(rms, seed=0).at(1.234) == shake.at(1.234)
    assert Shake(rms, seed=1).at(1.234) != shake.at(1.234)

    renderer = Renderer(still_scene(jitter_px=rms), library)
    frames, offsets = [], []
    for i, s in enumerate(t):
        frame, truth = renderer.render(float(s), 0.5, i)
        box = truth_of(truth, "A").box
        offsets.append((box[0] + box[2] / 2 - 0.4 * W, box[1] + box[3] / 2 - 0.5 * H))
        if i in (0, 17, 55):
            frames.append((frame, box))
    offsets = np.array(offsets)
    # The boxes follow the shake (content moves opposite to the view): whole pixels of it.
    assert np.abs(offsets + path).max() <= 1.0
    assert np.sqrt((offsets ** 2).mean(axis=0)) == pytest.approx([rms, rms], rel=0.15)
    (f0, b0), *rest = frames
    for f, b in rest:
        dx, dy = shift_between(f0, f)
        assert (dx, dy) == pytest.approx((b[0] - b0[0], b[1] - b0[1]), abs=0.6)


# --- breathing ----------------------------------------------------------------------------------


def test_breathing_magnifies_the_picture_about_its_centre(library):
    # 8 % per dioptre focused at 1 m (1 dpt): magnification 1.08.
    scene = still_scene()
    scene = replace(scene, layers=(scene.layers[0], replace(scene.layers[1], distance_m=1.0)))
    flat, t0 = Renderer(scene, library).render(0.0, 1.0)
    breathed, t1 = Renderer(replace(scene, effects=CameraEffects(breathing=0.08)), library).render(0.0, 1.0)
    a0, a1 = truth_of(t0, "A"), truth_of(t1, "A")
    assert a1.box[2] / a0.box[2] == pytest.approx(1.08, abs=0.01)
    assert a1.box[3] / a0.box[3] == pytest.approx(1.08, abs=0.01)
    centre = lambda b: np.array([b[0] + b[2] / 2, b[1] + b[3] / 2])
    expected = np.array([W / 2, H / 2]) + 1.08 * (centre(a0.box) - [W / 2, H / 2])
    assert np.abs(centre(a1.box) - expected).max() <= 1.0
    assert a1.face_box[2] / a0.face_box[2] == pytest.approx(1.08, abs=0.02)
    # The face rides on the layer, whose size steps by 1 %: within 1 % of its way from the layer's centre.
    face_expected = np.array([W / 2, H / 2]) + 1.08 * (centre(a0.face_box) - [W / 2, H / 2])
    slack = 1.0 + 0.01 * np.abs(centre(a1.face_box) - centre(a1.box))
    assert np.all(np.abs(centre(a1.face_box) - face_expected) <= slack)

    # The picture itself: the unbreathed frame magnified by 1.08 about the centre matches it.
    zoom = np.float32([[1.08, 0, (1 - 1.08) * W / 2], [0, 1.08, (1 - 1.08) * H / 2]])
    zoomed = cv2.warpAffine(flat, zoom, (W, H), flags=cv2.INTER_LINEAR)
    inner = (slice(100, H - 100), slice(100, W - 100))
    err_zoomed = np.abs(gray(zoomed)[inner] - gray(breathed)[inner]).mean()
    err_flat = np.abs(gray(flat)[inner] - gray(breathed)[inner]).mean()
    assert err_zoomed < 0.35 * err_flat

    # Focused at infinity there is nothing to breathe.
    _, at_inf = Renderer(replace(scene, effects=CameraEffects(breathing=0.08)), library).render(0.0, 0.0)
    _, plain_inf = Renderer(scene, library).render(0.0, 0.0)
    assert [t.box for t in at_inf] == [t.box for t in plain_inf]


# --- shutter ------------------------------------------------------------------------------------


def walker(shutter_deg: float) -> Scene:
    """Grace Hopper at 1.5 m walking right: x 0.1 -> 0.7 of 1280 px in 1 s = 768 px/s."""
    return Scene(name="walk", noise_sigma=0.0, layers=(
        LayerSpec(name="B", label="B", asset="grace_hopper", distance_m=1.5, x=0.1, y=0.5,
                  motion=(MotionKey(t=0.0), MotionKey(t=1.0, x=0.7))),
    ), effects=CameraEffects(shutter_deg=shutter_deg))


def smear(image: np.ndarray, length: float) -> np.ndarray:
    """A horizontal box of ``length`` px (fractional ends), written out here to check the renderer."""
    half = length / 2
    r = math.ceil(half)
    taps = np.clip(half + 0.5 - np.abs(np.arange(-r, r + 1)), 0.0, 1.0)
    return cv2.filter2D(image, -1, (taps / taps.sum())[None, :], borderType=cv2.BORDER_REPLICATE)


def test_shutter_smears_a_moving_face_along_its_motion_by_the_truth_length(library):
    sharp, ts = Renderer(walker(0.0), library).render(0.5, 1 / 1.5)
    blurred, tb = Renderer(walker(180.0), library).render(0.5, 1 / 1.5)
    s, b = truth_of(ts, "B"), truth_of(tb, "B")
    assert s.motion_blur_px == 0.0
    assert b.motion_blur_px == pytest.approx(768 / 60, rel=1e-6)  # 12.8 px over 1/60 s
    assert b.box == s.box and b.coc_px == s.coc_px == pytest.approx(0.0)

    x, y, w, h = b.face_box
    face = (slice(y + h // 8, y + h - h // 8), slice(x + w // 8, x + w - w // 8))
    energy = lambda im, dx, dy: float(np.mean(cv2.Sobel(gray(im), cv2.CV_64F, dx, dy)[face] ** 2))
    keep_x = energy(blurred, 1, 0) / energy(sharp, 1, 0)
    keep_y = energy(blurred, 0, 1) / energy(sharp, 0, 1)
    assert keep_x < 0.2 and keep_y > 0.45
    assert keep_x < 0.3 * keep_y

    # The smear's length, read from the pixels: the sharp frame smeared by a horizontal box
    # matches the rendered one best at the truth's length.
    g_sharp, g_blur = gray(sharp), gray(blurred)
    lengths = np.arange(4.0, 22.0, 0.5)
    errors = [np.abs(smear(g_sharp, n)[face] - g_blur[face]).mean() for n in lengths]
    best = lengths[int(np.argmin(errors))]
    assert best == pytest.approx(b.motion_blur_px, abs=0.75)
    assert min(errors) < 0.06 * np.abs(g_sharp[face] - g_blur[face]).mean()


def test_shutter_angle_scales_the_streak_and_a_still_layer_has_none(library):
    for degrees in (90.0, 360.0):
        _, truth = Renderer(walker(degrees), library).render(0.5, 1 / 1.5)
        assert truth_of(truth, "B").motion_blur_px == pytest.approx(768 * degrees / 360 / 30, rel=1e-6)
    _, truth = Renderer(walker(180.0), library).render(1.5, 1 / 1.5)  # after the last key: standing
    assert truth_of(truth, "B").motion_blur_px == 0.0


# --- exposure -----------------------------------------------------------------------------------


def test_exposure_steps_change_brightness_by_their_gain_at_their_time(library):
    renderer = Renderer(still_scene(exposure=(ExposureKey(t=1.0, gain=0.5), ExposureKey(t=2.0, gain=1.25))),
                        library)
    mean = lambda t: float(renderer.render(t, 0.5)[0].astype(np.float64).mean())
    base = mean(0.0)
    assert mean(0.999) == base
    assert mean(1.0) / base == pytest.approx(0.5, abs=0.005)
    assert mean(1.999) / base == pytest.approx(0.5, abs=0.005)
    plain, _ = Renderer(still_scene(), library).render(2.0, 0.5)
    assert mean(2.0) == pytest.approx(np.minimum(255.0, plain.astype(np.float64) * 1.25).mean(), abs=0.5)
    assert mean(2.0) / base > 1.2


# --- JPEG ---------------------------------------------------------------------------------------


def blockiness(image: np.ndarray) -> float:
    """Mean step across 8x8 block borders over the mean step inside blocks (1 = no blocks)."""
    g = gray(image)
    dx, dy = np.abs(np.diff(g, axis=1)), np.abs(np.diff(g, axis=0))
    on_x, on_y = (np.arange(dx.shape[1]) % 8) == 7, (np.arange(dy.shape[0]) % 8) == 7
    border = (dx[:, on_x].mean() + dy[on_y, :].mean()) / 2
    inside = (dx[:, ~on_x].mean() + dy[~on_y, :].mean()) / 2
    return float(border / inside)


def test_jpeg_quality_15_leaves_8x8_block_edges(library):
    scene = replace(still_scene(), noise_sigma=1.5)
    clean, t0 = Renderer(scene, library).render(0.0, 0.5, 3)
    squeezed, t1 = Renderer(replace(scene, effects=CameraEffects(jpeg_quality=15)), library).render(0.0, 0.5, 3)
    assert [t.box for t in t0] == [t.box for t in t1]
    assert np.abs(clean.astype(int) - squeezed.astype(int)).mean() > 2.0
    assert blockiness(clean) == pytest.approx(1.0, abs=0.1)
    assert blockiness(squeezed) > 1.5
    # It is the last step: re-encoding the clean frame at 15 gives the same picture.
    _, data = cv2.imencode(".jpg", clean, [int(cv2.IMWRITE_JPEG_QUALITY), 15])
    assert np.array_equal(cv2.imdecode(data, cv2.IMREAD_COLOR), squeezed)
