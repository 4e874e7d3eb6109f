"""The contrast search that finds a subject nobody can see (the lens parked far off)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from assistant.focus.controller import TrackingController
from assistant.focus.settings import DriveConfig
from assistant.focus.peak import parabola_vertex
from assistant.focus.search import FocusSearch, region_contrast
from assistant.sim.lens import SimLens
from assistant.types import SharpnessMap

FPS = 30.0


def gaussian_contrast(peak_dpt: float, width_dpt: float = 0.15, floor: float = 0.05):
    return lambda focus: floor + math.exp(-0.5 * ((focus - peak_dpt) / width_dpt) ** 2)


def run_search(start_m: float, peak_dpt: float, frames: int = 90) -> tuple[SimLens, list[tuple[float, float]]]:
    """Close the loop on the rig's lens (6 dpt/s, 0.3 m to infinity) with a contrast curve peaking at ``peak_dpt``."""
    lens = SimLens(start_m, 0.3, math.inf, 6.0)
    search = FocusSearch(lens.limits, lens.position())
    contrast = gaussian_contrast(peak_dpt)
    trace = []
    for i in range(frames):
        if i:
            lens.advance(1 / FPS)
        lens.move_to(search.step(i / FPS, lens.position(), contrast(lens.position())))
        trace.append((i / FPS, lens.position()))
    return lens, trace


@pytest.mark.parametrize("start_m, subject_m", [(0.5, 3.0), (0.5, 5.0), (math.inf, 1.2), (0.3, 1.5), (10.0, 0.6)])
def test_a_parked_lens_finds_the_contrast_peak_within_a_second_and_a_half(start_m, subject_m):
    peak = 1 / subject_m
    lens, trace = run_search(start_m, peak)
    arrived = next(t for t, focus in trace if all(abs(f - peak) <= 0.04 for _, f in trace if _ >= t))
    assert arrived <= 1.5, arrived
    assert abs(lens.position() - peak) <= 0.02


def test_an_empty_room_is_swept_once_then_held():
    lens = SimLens(2.0, 0.3, math.inf, 6.0)
    search = FocusSearch(lens.limits, lens.position())
    commands = []
    for i in range(150):
        if i:
            lens.advance(1 / FPS)
        commands.append(search.step(i / FPS, lens.position(), 1.0))  # flat: nothing to find
        lens.move_to(commands[-1])
    assert search.done and commands[-1] == commands[-30]  # still for the last second: no hunting


def test_the_controller_searches_before_any_target_and_only_with_a_contrast_reading():
    controller = TrackingController(DriveConfig(), (0.0, 1 / 0.3))
    assert controller.step(0.0, None, 2.0).kind == "hold"  # someone in sight (no contrast given): wait
    assert controller.step(0.1, None, 2.0, contrast=0.5).kind == "search"
    held = TrackingController(DriveConfig(lost_action="hold"), (0.0, 1 / 0.3))
    assert held.step(0.0, None, 2.0, contrast=0.5).kind == "hold"


def test_the_peak_fitter_and_the_search_region():
    assert parabola_vertex([(0.4, 1.0), (0.5, 0.5), (0.6, 1.0)]) is None
    assert parabola_vertex([(0.2, math.exp(-1)), (0.3, 1.0), (0.4, math.exp(-1))]) == pytest.approx(0.3)
    laplacian = np.zeros((360, 640), np.int16)  # a 1280x720 frame analysed at half size
    laplacian[0:40, 0:40] = 30  # a sharp corner outside the middle
    laplacian[170:190, 310:330] = 10
    sharpness = SharpnessMap(np.zeros((9, 16)), (), (80.0, 80.0), laplacian)
    assert region_contrast(sharpness) == pytest.approx(100.0 * 400 / (320 * 180))  # the middle half
    assert region_contrast(sharpness, [(0, 0, 80, 80)]) == pytest.approx(900.0)  # where a person is
    assert region_contrast(sharpness, [(0, 0, 160, 80)]) == pytest.approx(450.0)
    with pytest.raises(ValueError, match="limits"):
        FocusSearch((1.0, 0.5), 0.7)
