"""Distance from face size: the pinhole numbers, fusion and smoothing."""

from __future__ import annotations

import math
import random

import pytest

from assistant.vision.depth import FACE_BOX_M, IPD_M, DistanceEstimate, DistanceFilter, focal_px, measure_distance
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


def test_filter_smooths_noise_and_follows_a_walking_subject():
    rng = random.Random(1)
    filt = DistanceFilter()
    raw_err, smooth_err = [], []
    for i in range(120):
        t = i / 30
        truth = 4.0 - 1.0 * t  # walking toward the camera at 1 m/s
        noisy = truth * (1 + rng.gauss(0, 0.05))
        est = filt.update(t, DistanceEstimate(noisy, 0.05 * truth))
        if i > 30:
            raw_err.append(abs(noisy - truth))
            smooth_err.append(abs(est.metres - truth))
    assert sum(smooth_err) < 0.6 * sum(raw_err)
    assert sum(smooth_err) / len(smooth_err) < 0.06  # no lag worth a focus puller's worry
    predicted = filt.predict(4.5)
    assert predicted.metres == pytest.approx(4.0 - 4.5, abs=0.3) or predicted.metres == 0.05
