"""Distance from face size: the pinhole numbers, fusion, and how far a blurred face is trusted."""

from __future__ import annotations

import math
import statistics

import pytest

from assistant.sim.assets import AssetLibrary
from assistant.sim.renderer import Renderer
from assistant.sim.scene import CameraSpec, LayerSpec, MotionKey, Scene
from assistant.vision.blur import MAX_SIGMA_PX, BlurMeter
from assistant.vision.depth import (
    BOX_GROWTH_PX,
    EYE_GROWTH_PX,
    FACE_BOX_M,
    IPD_M,
    MAX_EXCESS_SIGMA_PX,
    SHARP_SIGMA_PX,
    DistanceEstimate,
    focal_px,
    measure_distance,
)
from assistant.vision.faces import Detection


def detection(eye_px: float, box_px: float) -> Detection:
    return Detection((100, 100, box_px, box_px), 0.9, ((200 - eye_px / 2, 150), (200 + eye_px / 2, 150)))


def test_focal_length_in_pixels_follows_the_frame_width():
    assert focal_px(1280, 40.0) == pytest.approx(640 / math.tan(math.radians(20)))
    assert focal_px(1920, 40.0) == pytest.approx(1.5 * focal_px(1280, 40.0))
    with pytest.raises(ValueError):
        focal_px(1280, 0.5)


def test_agreeing_cues_give_the_pinhole_distance():
    f = focal_px(1280, 40.0)
    d = 2.5
    est = measure_distance(detection(f * IPD_M / d, f * FACE_BOX_M / d), 1280, 40.0)
    assert est.metres == pytest.approx(d, rel=1e-9)
    assert 0 < est.sigma_m < 0.1 * d


def test_eyes_dominate_on_large_faces_and_the_box_on_tiny_ones():
    f = focal_px(1280, 40.0)
    big = measure_distance(detection(f * IPD_M / 1.0, f * FACE_BOX_M / 1.2), 1280, 40.0)
    assert abs(big.metres - 1.0) < abs(big.metres - 1.2)
    tiny = measure_distance(detection(f * IPD_M / 6.0, f * FACE_BOX_M / 5.0), 1280, 40.0)
    assert abs(tiny.metres - 5.0) < abs(tiny.metres - 6.0)


# --- Blur: a defocused face's distance is left as measured; its measured blur only widens the sigma. ---


def test_without_a_blur_reading_the_estimate_is_exactly_the_old_one():
    f = focal_px(1280, 40.0)
    det = detection(f * IPD_M / 2.9, f * FACE_BOX_M / 3.3)
    plain = measure_distance(det, 1280, 40.0)
    assert measure_distance(det, 1280, 40.0, blur_px=None) == plain
    assert measure_distance(det, 1280, 40.0, blur_px=0.0) == plain
    assert measure_distance(det, 1280, 40.0, blur_px=SHARP_SIGMA_PX) == plain  # a face in focus reads this much


def test_the_fitted_growth_is_not_taken_off_but_the_sigma_covers_it():
    f = focal_px(1280, 40.0)
    d, excess = 3.2, 3.0
    # a face grown by blur exactly as fitted on Grace Hopper: both cues read ~13 % near
    grown = detection(f * IPD_M / d + EYE_GROWTH_PX * excess, f * FACE_BOX_M / d + BOX_GROWTH_PX * excess)
    plain = measure_distance(grown, 1280, 40.0)
    blurred = measure_distance(grown, 1280, 40.0, blur_px=SHARP_SIGMA_PX + excess)
    assert plain.metres < 0.9 * d
    assert blurred.metres == pytest.approx(plain.metres, rel=0.01)  # not shifted: the cues nearly agree, so the
    # re-weighting hardly moves it
    assert abs(plain.metres - d) > 2.0 * plain.sigma_m  # without the blur reading it claims a precision it has not
    assert abs(blurred.metres - d) <= 2.0 * blurred.sigma_m


def test_more_blur_keeps_the_distance_and_is_trusted_less_up_to_the_fitted_range():
    f = focal_px(1280, 40.0)
    det = detection(f * IPD_M / 3.0, f * FACE_BOX_M / 3.0)
    estimates = [measure_distance(det, 1280, 40.0, blur_px=b) for b in (1.0, 2.0, 3.0, 4.0, 6.0)]
    assert all(e.metres == pytest.approx(3.0, rel=1e-9) for e in estimates)
    assert all(a.sigma_m < b.sigma_m for a, b in zip(estimates, estimates[1:]))
    widest = measure_distance(det, 1280, 40.0, blur_px=SHARP_SIGMA_PX + MAX_EXCESS_SIGMA_PX)
    assert measure_distance(det, 1280, 40.0, blur_px=MAX_SIGMA_PX) == widest  # "no detail" is not a licence


def test_blur_moves_the_fusion_toward_the_less_disturbed_cue_but_never_outside_the_cues():
    """A large face: sharp, the precise eyes (1.0 m) outweigh the coarse box (1.2 m). Blur disturbs the
    eye spacing about as much as the box in relative terms, so the eyes lose their lead and the fused
    distance moves toward the box: the one way blur changes the value, by re-weighting the cues."""
    f = focal_px(1280, 40.0)
    det = detection(f * IPD_M / 1.0, f * FACE_BOX_M / 1.2)
    sharp = measure_distance(det, 1280, 40.0)
    blurred = measure_distance(det, 1280, 40.0, blur_px=SHARP_SIGMA_PX + 4.0)
    assert 1.0 < sharp.metres < blurred.metres < 1.2
    assert blurred.sigma_m > sharp.sigma_m


def test_a_box_only_face_keeps_its_distance_and_a_bad_blur_reading_is_refused():
    f = focal_px(1280, 40.0)
    boxed = Detection((100, 100, f * FACE_BOX_M / 3.0, 60), 0.9, ())
    plain, blurred = measure_distance(boxed, 1280, 40.0), measure_distance(boxed, 1280, 40.0, blur_px=3.0)
    assert blurred.metres == plain.metres and blurred.sigma_m > plain.sigma_m
    for bad in (-0.5, math.nan):
        with pytest.raises(ValueError, match="blur_px"):
            measure_distance(boxed, 1280, 40.0, blur_px=bad)


# The real detector on rig frames: one person before a brick wall, the lens focused in front of them
# so their blur disk is D px wide (1280x720, 40 degrees). The short-range model searches a square
# four face-widths wide around the face, as SearchPlanner does around a tracked subject; the blur is
# measured from the picture by BlurMeter on the detected box, as the pipeline does.
CAMERA = CameraSpec()
PLACES = ((0.5, 0.42), (0.36, 0.5), (0.63, 0.38))
CASES = {"grace_hopper": [(2.2, (0.0, 8.0, 15.0)), (3.2, (0.0, 8.0, 12.0)), (4.5, (0.0, 8.0))],
         "astronaut": [(2.2, (0.0, 8.0, 12.0)), (3.2, (0.0, 8.0, 12.0))]}
"""asset -> (distance m, blur disks D px); Grace Hopper at distances the growth was NOT fitted on (1.8, 2.7, 3.8 m)."""


def focus_for_blur(distance_m: float, coc_px: float) -> float:
    """Focus (dioptres) in front of the subject that blurs it into a disk coc_px wide (inverts ThinLens.coc_mm)."""
    lens = CAMERA.thin_lens()
    f = lens.focal_length_mm / 1000.0
    a = f * f / lens.f_number
    c = coc_px * lens.sensor_width_mm / lens.width_px / 1000.0
    return (c + a / distance_m) / (a + c * f)


def rig(library: AssetLibrary, asset: str, poses: list[tuple[float, tuple[float, float]]]) -> Renderer:
    """One renderer for all poses (distance, face centre as fractions of the frame): pose i is held at t = i.

    (One renderer, not one per pose: making one draws its sensor-noise pool, which costs more than a frame.)
    """
    lens = CAMERA.thin_lens()
    photo = library.get(asset)
    height, width = photo.rgba.shape[:2]
    fx, fy, fw, fh = photo.info.face_box

    def layer_at(distance_m: float, place: tuple[float, float]) -> tuple[float, float]:
        scale = lens.focal_px * photo.info.metres_per_pixel / distance_m
        return (place[0] - (fx + fw / 2 - width / 2) * scale / CAMERA.width,
                place[1] - (fy + fh / 2 - height / 2) * scale / CAMERA.height)

    keys = tuple(MotionKey(t=float(i), x=layer_at(d, p)[0], y=layer_at(d, p)[1], distance_m=d)
                 for i, (d, p) in enumerate(poses))
    first = keys[0]
    scene = Scene(name="blurred_face", noise_sigma=1.5, camera=CAMERA, duration_s=len(poses), layers=(
        LayerSpec(name="wall", asset="brick", distance_m=7.0, fill=True),
        LayerSpec(name="person", asset=asset, distance_m=first.distance_m, x=first.x, y=first.y, label="A",
                  motion=keys),
    ))
    return Renderer(scene, library)


def rig_face(renderer: Renderer, pose: int, distance_m: float, coc_px: float) -> tuple:
    """Pose ``pose`` rendered with the lens focused so the person's blur disk is ``coc_px`` wide; its face box."""
    image, truth = renderer.render(float(pose), focus_for_blur(distance_m, coc_px), pose)
    person = next(t for t in truth if t.face_box is not None)
    assert person.distance_m == pytest.approx(distance_m) and person.coc_px == pytest.approx(coc_px, abs=1e-6)
    return image, person.face_box


def search_square(face: tuple, width: int, height: int) -> tuple[int, int, int, int]:
    """The square the short model searches around a tracked face (as SearchPlanner makes it)."""
    x, y, w, h = face
    side = min(max(96, round(4.0 * max(w, h))), width, height)
    left = int(min(max(0, round(x + w / 2 - side / 2)), width - side))
    top = int(min(max(0, round(y + h / 2 - side / 2)), height - side))
    return (left, top, side, side)


@pytest.fixture(scope="module")
def rig_readings(detectors):
    """(asset, distance, D) -> per place: (estimate without blur, estimate with the measured blur, that blur)."""
    library = AssetLibrary()
    meter = BlurMeter()
    hfov = CAMERA.thin_lens().hfov_deg
    readings = {}
    for asset, distances in CASES.items():
        poses = [(distance, place) for distance, _ in distances for place in PLACES]
        renderer = rig(library, asset, poses)
        for pose, (distance, place) in enumerate(poses):
            for coc in dict(distances)[distance]:
                image, face = rig_face(renderer, pose, distance, coc)
                found = detectors["short"].detect(image, search_square(face, CAMERA.width, CAMERA.height))
                assert found, (asset, distance, coc, place)
                cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
                det = min(found, key=lambda d: math.hypot(d.centre[0] - cx, d.centre[1] - cy))  # as the tracker does
                assert det.box[2] == pytest.approx(face[2], rel=0.2)  # the face itself, not the blurred portrait
                blur = meter.measure(image, [tuple(round(v) for v in det.box)])[0]
                readings.setdefault((asset, distance, coc), []).append(
                    (measure_distance(det, CAMERA.width, hfov), measure_distance(det, CAMERA.width, hfov, blur_px=blur),
                     blur))
    return readings


def rel_error(estimate: DistanceEstimate, distance_m: float) -> float:
    """Signed relative error: negative reads near."""
    return estimate.metres / distance_m - 1.0


# Measured on these frames (signed error of the distance without blur_px, median of the three places):
# Grace Hopper (the face the growth was fitted on, at other distances: 1.8, 2.7 and 3.8 m):
#   2.2 m: sharp -1.4 %, D = 8 px -5.3 %, D = 15 px -8.6 %; 3.2 m: sharp -3.7 %, D = 8 px -8.3 %,
#   D = 12 px -8.3 % (-7.6 .. -9.6 %); 4.5 m: sharp -3.4 %, D = 8 px -6.9 %.
# At 3.2 m and D = 15 px the short model on the crop takes the whole blurred portrait for a face (a box 2.7x
# the face's), which no size reasoning can mend; 12 px is the widest blur it still finds the face there.
# The astronaut (held out) does not read near: 2.2 m +1.4 / +2.7 / +1.9 %, 3.2 m +1.0 / +1.5 / +1.8 % (sharp,
# D = 8, 12 px); her box does not grow with blur. So the estimate is left alone and only its sigma grows.
HOPPER_NEAR = [  # (distance m, blur disk D px, its median error at most (reads near), worse than sharp by at least)
    (2.2, 8.0, -0.04, 0.025),
    (2.2, 15.0, -0.065, 0.05),
    (3.2, 8.0, -0.065, 0.03),
    (3.2, 12.0, -0.065, 0.03),
    (4.5, 8.0, -0.055, 0.025),
]


@pytest.mark.parametrize("distance, coc, near_below, worse_by", HOPPER_NEAR)
def test_error_against_blur_grace_hopper_reads_near_when_blurred(rig_readings, distance, coc, near_below, worse_by):
    """The raw effect, with or without blur_px alike: e.g. at 3.2 m and D = 12 px she reads 8.3 % near (median)."""
    rows = rig_readings["grace_hopper", distance, coc]
    sharp = statistics.median(rel_error(plain, distance) for plain, _, _ in rig_readings["grace_hopper", distance, 0.0])
    errors = [rel_error(plain, distance) for plain, _, _ in rows]
    assert statistics.median(errors) <= near_below, errors
    assert statistics.median(errors) <= sharp - worse_by, (sharp, errors)
    assert all(e > -0.12 for e in errors), errors  # measured: -9.6 % at worst


def test_error_against_blur_the_astronaut_does_not_read_near(rig_readings):
    """The held-out face: blurred 8-12 px she reads within -1.4 .. +3.6 % (sharp: +0.2 .. +2.1 %)."""
    for distance in (2.2, 3.2):
        for coc in (8.0, 12.0):
            errors = [rel_error(plain, distance) for plain, _, _ in rig_readings["astronaut", distance, coc]]
            assert all(-0.03 < e < 0.05 for e in errors), (distance, coc, errors)


def test_a_blurred_face_keeps_its_distance(rig_readings):
    """blur_px shifts nothing; only the cues' weights change, which moved the fused distance by 0.9 % at most."""
    for asset, distances in CASES.items():
        for distance, blurs in distances:
            for coc in blurs:
                for plain, fixed, _ in rig_readings[asset, distance, coc]:
                    assert abs(fixed.metres - plain.metres) <= 0.015 * distance, (asset, distance, coc, plain, fixed)


def test_a_sharp_face_measures_sharp_and_is_left_alone(rig_readings):
    for asset, distances in CASES.items():
        for distance, _ in distances:
            for plain, fixed, blur in rig_readings[asset, distance, 0.0]:
                assert blur < SHARP_SIGMA_PX  # measured 0.43-0.79 px
                assert fixed == plain
                assert abs(rel_error(plain, distance)) < 0.05  # measured -3.7 .. +2.1 %


def test_the_uncertainty_grows_with_measured_blur_on_real_detections(rig_readings):
    for asset, distance, blurs in (("grace_hopper", 2.2, (0.0, 8.0, 15.0)), ("grace_hopper", 3.2, (0.0, 8.0, 12.0)),
                                   ("astronaut", 2.2, (0.0, 8.0, 12.0)), ("astronaut", 3.2, (0.0, 8.0, 12.0))):
        sigmas = [statistics.median(fixed.sigma_m for _, fixed, _ in rig_readings[asset, distance, d]) for d in blurs]
        assert sigmas[0] < sigmas[1] < sigmas[2], (asset, distance, sigmas)
        measured = [statistics.median(b for _, _, b in rig_readings[asset, distance, d]) for d in blurs]
        assert measured[0] < measured[1] < measured[2], (asset, distance, measured)
        for d in blurs[1:]:  # every blurred face (measured 1.8-4.0 px) is trusted less than without its blur
            assert all(fixed.sigma_m > plain.sigma_m for plain, fixed, _ in rig_readings[asset, distance, d])


@pytest.mark.parametrize("asset", ["grace_hopper", "astronaut"])
def test_the_stated_sigma_covers_the_error_on_both_faces(rig_readings, asset):
    """|error| <= 2 sigma on every frame, sharp or blurred. Measured |error| / sigma at most: Grace Hopper 1.40
    (3.2 m, D = 8 px; 1.37 at 2.2 m, D = 8 px; 1.06 at 2.2 m, D = 15 px), the astronaut 0.67 (2.2 m, D = 8 px).
    Without blur_px Grace Hopper's sigma does not cover her: up to 2.99 sigma (2.2 m, D = 15 px)."""
    worst_plain = 0.0
    for distance, blurs in CASES[asset]:
        for coc in blurs:
            for plain, fixed, _ in rig_readings[asset, distance, coc]:
                assert abs(fixed.metres - distance) <= 2.0 * fixed.sigma_m, (distance, coc, fixed)
                worst_plain = max(worst_plain, abs(plain.metres - distance) / plain.sigma_m)
    if asset == "grace_hopper":
        assert worst_plain > 2.0  # the test has teeth: the sigma without the blur reading is too small
