"""Overlay drawing checked pixel by pixel on synthetic frames."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from assistant.types import Subject
from assistant.ui import focusbar
from assistant.ui.focusbar import FocusBar, draw_focus_bar, near_end_m
from assistant.ui.overlay import (
    OverlayStyle, Status, draw, draw_magnifier, draw_peaking, no_signal_screen, status_lines,
)
from assistant.vision.sharpness import SharpnessMeter

W, H = 1280, 720


def colour_columns(out: np.ndarray, rows: slice, colour: tuple[int, int, int], tol: int = 10) -> np.ndarray:
    """Columns (x) where any pixel in ``rows`` has ``colour``."""
    band = out[rows].astype(int)
    hit = (np.abs(band - np.array(colour)).max(axis=2) <= tol).any(axis=0)
    return np.flatnonzero(hit)


def test_bar_scale_is_linear_in_dioptres_from_near_to_infinity():
    bar = FocusBar(W, H)
    x0, x1 = bar.span
    assert bar.x_for(bar.near_m) == x0
    assert bar.x_for(math.inf) == x1
    assert bar.x_for(0.1) == x0  # nearer than the scale clamps to its end
    # 1 m is 1 dpt of the 3.33 dpt scale: 70 % of the way toward infinity.
    assert bar.x_for(1.0) == pytest.approx(x0 + 0.7 * (x1 - x0), abs=1)
    assert bar.x_for(2.0) < bar.x_for(4.0) < bar.x_for(10.0)


def test_bar_near_end_leaves_room_in_front_of_the_nearest():
    assert near_end_m([2.0, 4.0]) == 1.0
    assert near_end_m([1.2, 4.0]) == 0.5
    assert near_end_m([0.4]) == 0.3
    assert near_end_m([]) == 0.3


@pytest.mark.parametrize("distances", [(1.0, 4.0), (0.5, 2.5), (0.8, 12.0)])
def test_subject_markers_sit_over_their_distances(distances):
    bar = FocusBar(W, H)
    near, far = distances
    subjects = (Subject(1, (100, 100, 80, 80), "A", near), Subject(2, (400, 100, 60, 60), "B", far))
    out = np.zeros((H, W, 3), np.uint8)
    draw_focus_bar(out, bar, subjects, focus_m=None, dof_dpt=0.04, target_id=1)
    marker_rows = slice(bar.line_y - 8, bar.line_y - 3)  # the triangles' tips, under the labels
    amber = colour_columns(out, marker_rows, focusbar.TARGET_COLOUR)
    white = colour_columns(out, marker_rows, focusbar.MARKER_COLOUR)
    assert amber.size and white.size
    assert np.median(amber) == pytest.approx(bar.x_for(near), abs=2)  # the target, amber
    assert np.median(white) == pytest.approx(bar.x_for(far), abs=2)


def test_focus_line_and_depth_of_field_band():
    bar = FocusBar(W, H)
    out = np.zeros((H, W, 3), np.uint8)
    draw_focus_bar(out, bar, (), focus_m=2.0, dof_dpt=0.1, target_id=None)
    top = bar.band[0]
    line = colour_columns(out, slice(top + 4, top + 8), focusbar.FOCUS_COLOUR, tol=30)
    assert line.min() >= bar.x_for(2.0) - 1 and line.max() <= bar.x_for(2.0) + 1
    # The band is tinted from focus+dof (nearer) to focus-dof dioptres (farther).
    row = out[bar.line_y + 5].astype(int)
    tinted = np.flatnonzero(row[:, 1] > np.maximum(row[:, 0], row[:, 2]) + 20)  # green: the sharp distances
    assert tinted.min() == pytest.approx(bar.x_for_dioptres(0.5 + 0.1), abs=1)
    assert tinted.max() == pytest.approx(bar.x_for_dioptres(0.5 - 0.1), abs=1)


def test_guidance_arrow_points_from_focus_toward_the_target():
    bar = FocusBar(W, H)
    out = np.zeros((H, W, 3), np.uint8)
    draw_focus_bar(out, bar, (), focus_m=3.0, dof_dpt=0.04, advice=("nearer", -1.5))
    arrow = colour_columns(out, slice(bar.line_y + 8, bar.line_y + 13), focusbar.ARROW_COLOUR, tol=40)
    # The shaft runs from 1.5 m (the target) to 3 m (the focus); text sits to the right of it.
    shaft = arrow[arrow < bar.x_for(3.0) + 3]
    assert shaft.min() == pytest.approx(bar.x_for(1.5), abs=3)


def texture(seed: int, smooth: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grey = rng.integers(0, 255, (H, W), dtype=np.uint8)
    if smooth:
        grey = cv2.GaussianBlur(grey, (0, 0), smooth)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("share", [0.02, 0.04, 0.10])
@pytest.mark.parametrize("seed,smooth", [(1, 0.0), (2, 3.0)])
def test_peaking_lights_about_the_configured_share(share, seed, smooth):
    image = texture(seed, smooth)
    sharpness = SharpnessMeter((9, 16)).measure(image)
    out = image.copy()
    colour = (255, 0, 255)  # a colour the grey texture never has
    draw_peaking(out, sharpness, share, colour)
    lit = float(np.all(out == colour, axis=2).mean())
    assert lit == pytest.approx(share, rel=0.25)


def test_magnifier_shows_the_target_one_to_one(astronaut):
    image = cv2.resize(astronaut, (W, H))
    out = image.copy()
    box = (600, 200, 100, 120)
    draw_magnifier(out, image, box)
    side = min(W, H) // 4
    x0, y0 = 650 - side // 2, 260 - side // 2
    crop = image[y0 + 30:y0 + side, x0:x0 + side]  # below the "1:1" label
    # The crop is pasted unscaled in the top-right corner: an exact match is found there.
    found = cv2.matchTemplate(out[:, W // 2:], crop, cv2.TM_SQDIFF)
    y, x = np.unravel_index(int(np.argmin(found)), found.shape)
    assert found.min() == 0.0
    assert x + W // 2 + side > W - 20 and y < H // 3


def test_status_says_mode_target_audio_and_driver():
    status = Status("sim:two_people", 1.0, 30, fps=29.9, latency_ms=4.0, focus_m=2.0, mode="drive",
                    target="A #1", audio=False, driver="DRIVER FAULT: serial timeout", note="drive: A sharp")
    run, focus = status_lines(status)
    assert "audio MUTED" in run and "29.9 fps" in run and "latency" in run
    assert focus.startswith("DRIVE") and "target A #1" in focus and "DRIVER FAULT" in focus and "2.00 m" in focus


def test_draw_leaves_the_input_untouched_and_draws_every_element(astronaut):
    image = cv2.resize(astronaut, (W, H))
    before = image.copy()
    sharpness = SharpnessMeter((9, 16)).measure(image, [(500, 150, 200, 240)])
    subject = Subject(1, (500, 150, 200, 240), "A", 2.0, in_focus=True, focus_score=0.9)
    style = OverlayStyle(heatmap=True, peaking=True, magnifier=True, help=True)
    status = Status("test", 0.0, 0, focus_m=2.0, ticker=("  1.00s  rack #1->#2 (observed, 1.0 s)",))
    out = draw(image, sharpness, status, style, (subject,), target_id=1, advice=("farther", 0.5))
    assert np.array_equal(image, before)
    assert out.shape == image.shape and not np.array_equal(out, image)
    assert (np.abs(out.astype(int) - image.astype(int)).sum(axis=2) > 0).mean() > 0.1


def test_no_signal_screen_names_the_source():
    screen = no_signal_screen(640, 360, "camera:0", 3.2)
    assert screen.shape == (360, 640, 3)
    assert (screen > 200).any()  # white text on the dark screen


def dominant(pixel: np.ndarray) -> str:
    """'green', 'red' or 'other': which channel leads a BGR pixel by a clear margin."""
    b, g, r = (int(c) for c in pixel)
    if g > max(b, r) + 25:
        return "green"
    if r > max(b, g) + 25:
        return "red"
    return "other"


def test_one_colour_language_green_sharp_red_soft():
    """Heat map, meters, peaking and the focus bar agree: green is sharp, red is soft (issue 16)."""
    from assistant.config import OverlayConfig
    from assistant.types import SharpnessMap
    from assistant.ui import palette
    from assistant.ui.overlay import draw_focus_meter, draw_heatmap

    tiles = np.full((9, 16), 1.0)
    tiles[4, 8] = 100.0  # the sharpest tile
    tiles[1, 1] = 100.0 * 10 ** -0.9  # lit, but nearly a decade below it
    sharpness = SharpnessMap(tiles, (), (W / 16, H / 9), np.zeros((H, W), np.int16))
    out = np.full((H, W, 3), 128, np.uint8)
    draw_heatmap(out, sharpness)
    x, y, bw, bh = (int(v) for v in sharpness.tile_box(4, 8))
    assert dominant(out[y + bh // 2, x + bw // 2]) == "green"
    x, y, bw, bh = (int(v) for v in sharpness.tile_box(1, 1))
    assert dominant(out[y + bh // 2, x + bw // 2]) == "red"

    for in_focus, colour in ((True, "green"), (False, "red")):
        meter = np.zeros((H, W, 3), np.uint8)
        subject = Subject(id=1, box=(400, 200, 100, 100), in_focus=in_focus, focus_score=1.0 if in_focus else 0.2)
        draw_focus_meter(meter, subject)
        assert dominant(meter[295, 506]) == colour

    assert OverlayStyle().peaking_color == palette.SHARP == OverlayConfig().peaking_color
    assert dominant(np.array(palette.SHARP)) == "green" and dominant(np.array(palette.SOFT)) == "red"
    assert focusbar.DOF_COLOUR == focusbar.FOCUS_COLOUR == palette.SHARP
    assert focusbar.ARROW_COLOUR == focusbar.TARGET_COLOUR == palette.TARGET
