"""Overlay drawing: pure functions from (picture, measurements) to a new picture.

Nothing here opens windows or reads clocks, so every element is testable on
plain arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.optics import RIG_DOF_DPT
from assistant.sink import Status  # what the status bar says (the presenter fills it)
from assistant.types import SharpnessMap, Subject
from assistant.ui.focusbar import FocusBar, draw_focus_bar, near_end_m
from assistant.ui.keys import HELP_LINES
from assistant.ui import palette
from assistant.ui.paint import tint
from assistant.vision.sharpness import peaking_mask

FONT = cv2.FONT_HERSHEY_SIMPLEX
HEAT_DECADES = 2.0
"""Tiles this many decades below the sharpest tile get the coldest colour."""


@dataclass(frozen=True)
class OverlayStyle:
    """Which overlay elements are on."""

    heatmap: bool = True
    peaking: bool = False
    peaking_share: float = 0.04
    peaking_color: tuple[int, int, int] = palette.SHARP
    status: bool = True
    focus_bar: bool = True
    magnifier: bool = False
    help: bool = False
    dof_dpt: float = RIG_DOF_DPT
    """Depth of field on each side of focus, in dioptres, for the focus bar's band."""


def draw(image: np.ndarray, sharpness: SharpnessMap, status: Status, style: OverlayStyle,
         subjects: tuple[Subject, ...] = (), target_id: int | None = None,
         advice: tuple[str, float] | None = None) -> np.ndarray:
    """The annotated picture (a new array; ``image`` is left untouched).

    ``advice`` is the focus guide's (direction, metres) for the bar's arrow.
    """
    out = image.copy()
    if style.heatmap:
        draw_heatmap(out, sharpness)
    if style.peaking:
        draw_peaking(out, sharpness, style.peaking_share, style.peaking_color)
    for subject in subjects:
        draw_subject(out, subject, subject.id == target_id)
    target = next((s for s in subjects if s.id == target_id), None)
    if style.magnifier and target is not None:
        draw_magnifier(out, image, target.box)
    ticker_bottom = out.shape[0]
    if style.focus_bar:
        shown = [s.distance_m for s in subjects if s.distance_m] + ([status.focus_m] if status.focus_m else [])
        bar = FocusBar(out.shape[1], out.shape[0], near_end_m(shown))
        draw_focus_bar(out, bar, subjects, status.focus_m, style.dof_dpt, target_id, advice)
        ticker_bottom = bar.band[0]
    draw_ticker(out, status.ticker, bottom=ticker_bottom)
    if style.status:
        draw_status(out, status)
    if style.help:
        draw_help(out)
    return out


def heat_levels(tiles: np.ndarray) -> np.ndarray:
    """Tile sharpness as 0..1 on a log scale relative to the sharpest tile."""
    top = float(tiles.max())
    if top <= 0:
        return np.zeros_like(tiles)
    logs = np.log10(np.maximum(tiles, top * 10 ** -HEAT_DECADES) / top)
    return 1.0 + logs / HEAT_DECADES


def draw_heatmap(out: np.ndarray, sharpness: SharpnessMap, opacity: float = 0.35, floor: float = 0.5) -> None:
    """Tint the sharper tiles from red to green (the sharpest); outline the sharpest tile.

    Tiles below ``floor`` (on the log scale of :func:`heat_levels`) stay
    untinted, so soft areas keep their true look and the sharp plane stands out.
    """
    levels = heat_levels(sharpness.tiles)
    hue = np.clip((levels - floor) / (1.0 - floor) * palette.SHARP_HUE, 0, palette.SHARP_HUE).astype(np.uint8)
    hsv = cv2.merge([hue, np.full_like(hue, 255), np.full_like(hue, 255)])
    colours = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    # Only the lit tiles are touched: a handful of small blends instead of full-frame passes.
    for row, col in zip(*np.nonzero(levels >= floor)):
        x, y, bw, bh = sharpness.tile_box(int(row), int(col))
        b, g, r = (float(c) for c in colours[row, col])
        tint(out[y:y + bh, x:x + bw], 1.0 - opacity, (b, g, r))
    x, y, bw, bh = sharpness.tile_box(*sharpness.sharpest_tile())
    cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), (255, 255, 255), 2)


def draw_peaking(out: np.ndarray, sharpness: SharpnessMap, share: float, colour: tuple[int, int, int]) -> None:
    """Paint the strongest edges (about ``share`` of the pixels) in ``colour``."""
    h, w = out.shape[:2]
    mask = peaking_mask(sharpness.laplacian, share)
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    # Two masked passes (to black, then add the colour) instead of slow boolean indexing.
    cv2.subtract(out, (255, 255, 255, 0), dst=out, mask=mask)
    cv2.add(out, (*colour, 0), dst=out, mask=mask)


SUBJECT_COLOUR = palette.OTHER
TARGET_COLOUR = palette.TARGET
COASTING_COLOUR = palette.HELD
SHARP_COLOUR = palette.SHARP
SOFT_COLOUR = palette.SOFT


def draw_subject(out: np.ndarray, subject: Subject, is_target: bool = False) -> None:
    """Face box with label/ID, distance and an in-focus meter.

    The box is amber for the target, white for others, grey while only
    predicted; the meter beside it is green when the subject is sharp and
    red when soft, filled by the subject's sharpness against its own best.
    """
    x, y, w, h = subject.box
    colour = COASTING_COLOUR if subject.coasting else TARGET_COLOUR if is_target else SUBJECT_COLOUR
    thickness = 1 if subject.coasting else 2
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, thickness, cv2.LINE_AA)
    if subject.in_focus is not None:
        draw_focus_meter(out, subject)
    name = f"{subject.label} #{subject.id}" if subject.label else f"#{subject.id}"
    text = f"{name}  {format_distance(subject.distance_m)}"
    scale = max(0.45, out.shape[1] / 2600)
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    ty = y - 6 if y - th - 10 > 0 else y + h + th + 6
    cv2.rectangle(out, (x, ty - th - 4), (x + tw + 6, ty + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (x + 3, ty), FONT, scale, colour, 1, cv2.LINE_AA)


def draw_focus_meter(out: np.ndarray, subject: Subject) -> None:
    """A thin vertical meter on the box's right edge: fill = the in-focus score (half full at the limit)."""
    x, y, w, h = subject.box
    score = subject.focus_score
    level = (1.0 if subject.in_focus else 0.3) if score is None else min(1.0, max(0.05, score))
    colour = SHARP_COLOUR if subject.in_focus else SOFT_COLOUR
    mx = min(out.shape[1] - 6, x + w + 4)
    top, bottom = max(0, y), min(out.shape[0] - 1, y + h)
    cv2.rectangle(out, (mx, top), (mx + 5, bottom), (40, 40, 40), -1)
    fill = int(round((bottom - top) * level))
    cv2.rectangle(out, (mx, bottom - fill), (mx + 5, bottom), colour, -1)


def status_lines(status: Status) -> tuple[str, str]:
    """The two lines of the status bar: the run, then what focus is doing."""
    run = [status.source, f"t {status.t:7.2f}s", f"#{status.frame}"]
    if status.fps is not None:
        run.append(f"{status.fps:4.1f} fps")
    if status.latency_ms is not None:
        run.append(f"latency {status.latency_ms:4.1f} ms")
    if status.audio is not None:
        run.append("audio on" if status.audio else "audio MUTED")
    if status.recording:
        run.append("REC")
    focus = [status.mode.upper() if status.mode else "monitor"]
    if status.target:
        focus.append(f"target {status.target}")
    focus.append("focus " + format_distance(status.focus_m))
    if status.driver:
        focus.append(status.driver)
    if status.note:
        focus.append(status.note)
    return "  |  ".join(run), "  |  ".join(focus)


def draw_status(out: np.ndarray, status: Status) -> None:
    """A dark two-line bar along the top: the run, then mode, target, focus, driver and advice."""
    h, w = out.shape[:2]
    scale = max(0.45, w / 2400)
    line = int(26 * scale / 0.5)
    band = out[:2 * line + 4]
    tint(band, 0.35)
    x = int(10 * scale / 0.5)
    for row, text in enumerate(status_lines(status)):
        alarm = row == 1 and ("FAULT" in status.driver or "STOP" in status.driver)
        colour = palette.ALARM if alarm else palette.OTHER
        cv2.putText(out, text, (x, int(line * (row + 0.75))), FONT, scale, colour, 1, cv2.LINE_AA)
    if status.recording:
        cv2.circle(out, (w - line // 2 - 4, line // 2), line // 4, palette.ALARM, -1, cv2.LINE_AA)


def draw_ticker(out: np.ndarray, lines: tuple[str, ...], bottom: int) -> None:
    """The last few events, newest at the bottom, just above ``bottom``."""
    if not lines:
        return
    scale = max(0.4, out.shape[1] / 2800)
    step = int(22 * scale / 0.5)
    for i, text in enumerate(reversed(lines)):
        y = bottom - 8 - i * step
        (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
        cv2.rectangle(out, (6, y - th - 4), (14 + tw, y + 4), (0, 0, 0), -1)
        cv2.putText(out, text, (10, y), FONT, scale, (255, 255, 255) if i == 0 else (190, 190, 190), 1, cv2.LINE_AA)


def draw_magnifier(out: np.ndarray, source: np.ndarray, box: tuple[int, int, int, int]) -> None:
    """A 1:1 crop of the target (from the clean ``source``) in the top-right corner."""
    h, w = out.shape[:2]
    side = max(64, min(w, h) // 4)
    x, y, bw, bh = box
    cx, cy = x + bw // 2, y + bh // 2
    x0 = min(max(0, cx - side // 2), max(0, w - side))
    y0 = min(max(0, cy - side // 2), max(0, h - side))
    crop = source[y0:y0 + side, x0:x0 + side]
    top = int(64 * max(0.45, w / 2400) / 0.5)
    ox, oy = w - crop.shape[1] - 10, top
    if oy + crop.shape[0] > h:
        return
    out[oy:oy + crop.shape[0], ox:ox + crop.shape[1]] = crop
    cv2.rectangle(out, (ox - 2, oy - 2), (ox + crop.shape[1] + 1, oy + crop.shape[0] + 1), TARGET_COLOUR, 2)
    cv2.putText(out, "1:1", (ox + 4, oy + 18), FONT, 0.5, TARGET_COLOUR, 1, cv2.LINE_AA)


def draw_help(out: np.ndarray) -> None:
    """The key list in a dark panel (toggled by ``h``)."""
    scale = max(0.45, out.shape[1] / 2600)
    step = int(24 * scale / 0.5)
    width = max(cv2.getTextSize(line, FONT, scale, 1)[0][0] for line in HELP_LINES) + 30
    top, left = int(80 * scale / 0.5), 20
    panel = out[top:top + step * len(HELP_LINES) + 20, left:left + width]
    tint(panel, 0.25)
    for i, line in enumerate(HELP_LINES):
        cv2.putText(out, line, (left + 15, top + 10 + step * (i + 1) - step // 4), FONT, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)


def no_signal_screen(width: int, height: int, source: str, seconds: float) -> np.ndarray:
    """The picture shown while a source is gone: says so, which source, and for how long."""
    out = np.zeros((height, width, 3), np.uint8)
    out[:] = (40, 20, 20)
    scale = max(0.8, width / 800)
    for text, y, size in (("NO SIGNAL", 0.45, scale * 1.6), (source, 0.58, scale * 0.6),
                          (f"reconnecting... {seconds:.0f} s", 0.66, scale * 0.6)):
        (tw, th), _ = cv2.getTextSize(text, FONT, size, 2)
        cv2.putText(out, text, ((width - tw) // 2, int(height * y)), FONT, size, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def format_distance(metres: float | None) -> str:
    """'2.35 m', 'inf' or '--' (unknown)."""
    if metres is None:
        return "--"
    if math.isinf(metres):
        return "inf"
    return f"{metres:.2f} m"
