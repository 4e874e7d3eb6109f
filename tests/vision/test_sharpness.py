"""Per-region sharpness: monotonic in blur, blind to exposure, equal to the textbook measure."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from assistant.sim.blur import disk_kernel, pillbox_blur
from assistant.vision.sharpness import SharpnessMeter, naive_tile_sharpness, peaking_mask

DIAMETERS = [0, 1.5, 2, 3, 4, 6, 8, 12, 16, 24]


def hd(image: np.ndarray) -> np.ndarray:
    """A real photograph repeated at its own scale to fill 1920x1080 (texture everywhere)."""
    reps = (-(-1080 // image.shape[0]), -(-1920 // image.shape[1]), 1)
    return np.ascontiguousarray(np.tile(image, reps)[:1080, :1920])


def exact_disk(image: np.ndarray, diameter: float) -> np.ndarray:
    if diameter < 1:
        return image
    return cv2.filter2D(image, -1, disk_kernel(diameter), borderType=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
def test_sharpness_falls_monotonically_as_disk_blur_grows(name, request):
    image = hd(request.getfixturevalue(name))
    meter = SharpnessMeter()
    box = (600, 200, 500, 500)
    whole, boxed = [], []
    for d in DIAMETERS:
        result = meter.measure(exact_disk(image, d), [box])
        whole.append(float(result.tiles.mean()))
        boxed.append(result.boxes[0])
    assert all(a > b for a, b in zip(whole, whole[1:])), whole
    assert all(a > b for a, b in zip(boxed, boxed[1:])), boxed
    assert whole[-1] < 0.05 * whole[0]  # a 24 px blur leaves almost no Laplacian energy


def test_rig_blur_is_monotonic_too(astronaut):
    """The renderer's fast reduced-copy blur must keep the ordering the exact disk has."""
    image = hd(astronaut).astype(np.float32)
    meter = SharpnessMeter()
    values = [meter.measure(np.clip(pillbox_blur(image, d), 0, 255).astype(np.uint8)).tiles.mean()
              for d in DIAMETERS]
    assert all(a > b for a, b in zip(values, values[1:])), values


@pytest.mark.parametrize("gain", [0.6, 0.8, 1.25])
def test_global_gain_does_not_change_sharpness(astronaut, gain):
    """Tolerance 5 % on textured tiles.

    Re-quantising the gained picture to uint8 adds rounding noise of variance
    1/12 per pixel, i.e. 20/12 ~ 1.7 to the Laplacian variance (kernel weights
    squared sum to 20). On tiles whose variance is still above 60 grey levels^2
    after the gain that is below 3 %; the image is scaled to 70 % first so the
    1.25 gain does not clip.
    """
    base = (hd(astronaut).astype(np.float32) * 0.7).astype(np.uint8)
    gained = np.clip(base.astype(np.float32) * gain, 0, 255).round().astype(np.uint8)
    meter = SharpnessMeter(analysis_width=1920)
    a, b = meter.measure(base).tiles, meter.measure(gained).tiles
    grey = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY).astype(np.float32)
    raw_var = a * np.maximum(cv2.resize(grey, (16, 9), interpolation=cv2.INTER_AREA), 8.0) ** 2
    textured = raw_var * min(gain, 1.0) ** 2 > 60
    assert textured.sum() >= 40
    ratio = b[textured] / a[textured]
    assert np.all(np.abs(ratio - 1.0) < 0.05), ratio.min()
    # Without the normalisation the raw variance moves by gain^2 (0.36-1.56x): that would fail here.
    raw_gained = b * np.maximum(cv2.resize(cv2.cvtColor(gained, cv2.COLOR_BGR2GRAY).astype(np.float32), (16, 9),
                                           interpolation=cv2.INTER_AREA), 8.0) ** 2
    assert np.median(raw_gained[textured] / raw_var[textured]) == pytest.approx(gain * gain, rel=0.05)


def test_full_resolution_tiles_equal_the_variance_of_the_laplacian(astronaut):
    """Exactly var(L) / mean(grey)^2 per tile, with L the whole frame's Laplacian.

    (The per-tile loop differs slightly: each tile's own Laplacian mirrors the
    tile's border instead of seeing the real neighbouring pixels.)
    """
    image = hd(astronaut)
    ours = SharpnessMeter(analysis_width=1920).measure(image).tiles
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_64F).reshape(9, 120, 16, 120)
    means = grey.astype(np.float64).reshape(9, 120, 16, 120).mean(axis=(1, 3))
    reference = lap.var(axis=(1, 3)) / np.maximum(means, 8.0) ** 2
    np.testing.assert_allclose(ours, reference, rtol=1e-4)
    loop = naive_tile_sharpness(image) / np.maximum(means, 8.0) ** 2
    assert np.median(np.abs(ours / loop - 1.0)) < 0.1


def test_tiles_are_reduced_to_at_most_960_wide_and_boxes_keep_full_resolution(astronaut):
    meter = SharpnessMeter()
    assert (meter.reduction(1920), meter.reduction(1280), meter.reduction(960), meter.reduction(3840)) == (2, 2, 1, 4)
    image = hd(astronaut)
    # A one-pixel blur that the reduced tiles barely see still reads clearly in a box.
    soft = exact_disk(image, 2.0)
    box = [(600, 200, 300, 300)]
    full, blurred = meter.measure(image, box), meter.measure(soft, box)
    assert blurred.boxes[0] < 0.5 * full.boxes[0]
    assert blurred.tiles.mean() > blurred.boxes[0] / full.boxes[0] * full.tiles.mean()


def test_box_sharpness_separates_sharp_from_soft(astronaut):
    image = hd(astronaut)
    soft = exact_disk(image, 8)
    mixed = image.copy()
    mixed[:, 960:] = soft[:, 960:]
    result = SharpnessMeter().measure(mixed, [(100, 100, 600, 600), (1100, 100, 600, 600)])
    assert result.boxes[0] > 5 * result.boxes[1]
    row, col = result.sharpest_tile()
    assert col < 8


@pytest.mark.parametrize("share", [0.02, 0.05, 0.1])
def test_peaking_lights_the_configured_share(hopper, share):
    lap = SharpnessMeter(analysis_width=hopper.shape[1]).measure(hopper).laplacian
    lit = (peaking_mask(lap, share) > 0).mean()
    assert abs(lit - share) < 0.35 * share + 0.003


def test_too_small_frame_is_rejected_with_advice():
    with pytest.raises(ValueError, match="fewer tiles"):
        SharpnessMeter().measure(np.zeros((20, 30, 3), np.uint8))


def test_bad_grid_is_rejected():
    with pytest.raises(ValueError, match="1x1"):
        SharpnessMeter(grid=(0, 16))


@pytest.mark.parametrize("size", [(640, 480), (800, 600), (720, 480)])
def test_tiles_that_do_not_divide_the_picture_are_still_measured_in_float(size):
    """The area-average fallback keeps each tile's brightness unrounded (dark frames included)."""
    width, height = size
    rng = np.random.default_rng(3)
    image = (rng.random((height, width, 3)) * 24).astype(np.uint8)  # dark: means around 12
    meter = SharpnessMeter(analysis_width=width)
    tiles = meter.measure(image).tiles
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_64F)
    area = lambda a: cv2.resize(a, (16, 9), interpolation=cv2.INTER_AREA)  # noqa: E731
    expected = (area(lap * lap) - area(lap) ** 2) / np.maximum(area(grey.astype(np.float64)), 8.0) ** 2
    assert np.allclose(tiles, expected, rtol=1e-4)
