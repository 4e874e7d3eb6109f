"""Thin-lens numbers against values computed by hand."""

from __future__ import annotations

import math

import pytest

from assistant.sim.optics import ThinLens
from assistant.units import to_dioptres, to_metres

LENS = ThinLens(focal_length_mm=50.0, f_number=2.0, sensor_width_mm=36.0, width_px=1920)


def test_coc_matches_hand_computation():
    # A = f/N = 25 mm; c = A f |d - s| / (d (s - f)) = 25 * 50 * 2000 / (4000 * 1950) mm
    assert LENS.coc_mm(2.0, 4.0) == pytest.approx(25 * 50 * 2000 / (4000 * 1950), rel=1e-9)
    assert LENS.coc_mm(2.0, 4.0) == pytest.approx(0.320513, rel=1e-5)
    assert LENS.coc_px(2.0, 4.0) == pytest.approx(0.320513 / 36 * 1920, rel=1e-5)  # 17.09 px


def test_coc_in_front_of_focus_is_larger_than_behind_at_equal_distance():
    # 1 m in front of a 2 m focus: 25*50*1000/(1000*1950) = 0.641 mm; 1 m behind: 0.2137 mm
    assert LENS.coc_mm(2.0, 1.0) == pytest.approx(0.641026, rel=1e-5)
    assert LENS.coc_mm(2.0, 3.0) == pytest.approx(25 * 50 * 1000 / (3000 * 1950), rel=1e-9)


def test_focus_at_infinity_and_in_focus():
    assert LENS.coc_mm(math.inf, 5.0) == pytest.approx(0.05 ** 2 / 2.0 / 5.0 * 1000, rel=1e-9)  # f^2/(N d)
    assert LENS.coc_mm(3.0, 3.0) == 0.0


def test_depth_of_field_matches_hand_computation():
    lens = ThinLens(50.0, 2.8, 36.0, 1920)
    hyperfocal = 0.05 ** 2 / (2.8 * 0.00003) + 0.05  # 29.81 m for c = 0.03 mm
    near, far = lens.depth_of_field(3.0, 0.03)
    assert near == pytest.approx(3.0 * (hyperfocal - 0.05) / (hyperfocal + 3.0 - 0.1), rel=1e-9)
    assert near == pytest.approx(2.7296, abs=1e-3)
    assert far == pytest.approx(3.3303, abs=1e-3)
    assert lens.depth_of_field(40.0, 0.03)[1] == math.inf


def test_demo_camera_has_a_40_degree_field_of_view():
    assert ThinLens(34.2, 2.0, 24.9, 1280).hfov_deg == pytest.approx(40.0, abs=0.05)


def test_distances_inside_the_focal_length_are_rejected():
    with pytest.raises(ValueError, match="focal length"):
        LENS.coc_mm(2.0, 0.04)


def test_dioptre_conversions():
    assert to_dioptres(0.5) == 2.0 and to_metres(2.0) == 0.5
    assert to_dioptres(math.inf) == 0.0 and to_metres(0.0) == math.inf
