"""Overlay drawing: pure functions from (picture, measurements) to a new picture.

Nothing here opens windows or reads clocks, so every element is testable on
plain arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.types import SharpnessMap, Subject
from assistant.vision.sharpness import peaking_mask

FONT = cv2.FONT_HERSHEY_SIMPLEX
HEAT_DECADES = 2.0
"""Tiles this many decades below the sharpest tile get the coldest colour."""


@dataclass(frozen=True)
class Status:
    """What the status bar says about the run."""

    source: str
    t: float
    frame: int
    fps: float | None = None
    latency_ms: float | None = None
    focus_m: float | None = None
    recording: bool = False
    note: str = ""


@dataclass(frozen=True)
class OverlayStyle:
    """Which overlay elements are on."""

    heatmap: bool = True
    peaking: bool = False
    peaking_share: float = 0.04
    peaking_color: tuple[int, int, int] = (0, 0, 255)
    status: bool = True


def draw(image: np.ndarray, sharpness: SharpnessMap, status: Status, style: OverlayStyle,
         subjects: tuple[Subject, ...] = (), target_id: int | None = None) -> np.ndarray:
    """The annotated picture (a new array; ``image`` is left untouched)."""
    out = image.copy()
    if style.heatmap:
        draw_heatmap(out, sharpness)
    if style.peaking:
        draw_peaking(out, sharpness, style.peaking_share, style.peaking_color)
    for subject in subjects:
        draw_subject(out, subject, subject.id == target_id)
    if style.status:
        draw_status(out, status)
    return out


def heat_levels(tiles: np.ndarray) -> np.ndarray:
    """Tile sharpness as 0..1 on a log scale relative to the sharpest tile."""
    top = float(tiles.max())
    if top <= 0:
        return np.zeros_like(tiles)
    logs = np.log10(np.maximum(tiles, top * 10 ** -HEAT_DECADES) / top)
    return 1.0 + logs / HEAT_DECADES


def draw_heatmap(out: np.ndarray, sharpness: SharpnessMap, opacity: float = 0.35, floor: float = 0.5) -> None:
    """Tint the sharper tiles from green to red; outline the sharpest tile.

    Tiles below ``floor`` (on the log scale of :func:`heat_levels`) stay
    untinted, so soft areas keep their true look and the sharp plane stands out.
    """
    levels = heat_levels(sharpness.tiles)
    hue = np.clip((1.0 - (levels - floor) / (1.0 - floor)) * 60.0, 0, 60).astype(np.uint8)  # 0 red .. 60 green (OpenCV hue)
    hsv = cv2.merge([hue, np.full_like(hue, 255), np.full_like(hue, 255)])
    colours = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    # Only the lit tiles are touched: a handful of small blends instead of full-frame passes.
    for row, col in zip(*np.nonzero(levels >= floor)):
        x, y, bw, bh = sharpness.tile_box(int(row), int(col))
        roi = out[y:y + bh, x:x + bw]
        tint = tuple(float(c) * opacity for c in colours[row, col]) + (0.0,)
        cv2.addWeighted(roi, 1.0 - opacity, roi, 0.0, 0.0, dst=roi)
        cv2.add(roi, tint, dst=roi)
    x, y, bw, bh = sharpness.tile_box(*sharpness.sharpest_tile())
    cv2.rectangle(out, (x, y), (x + bw - 1, y + bh - 1), (255, 255, 255), 2)


def draw_peaking(out: np.ndarray, sharpness: SharpnessMap, share: float, colour: tuple[int, int, int]) -> None:
    """Paint the strongest edges (about ``share`` of the pixels) in ``colour``."""
    h, w = out.shape[:2]
    mask = peaking_mask(sharpness.laplacian, share).astype(np.uint8)
    if mask.shape != (h, w):
        mask = cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST)
    out[mask.astype(bool)] = colour


SUBJECT_COLOUR = (255, 255, 255)
TARGET_COLOUR = (0, 215, 255)
COASTING_COLOUR = (150, 150, 150)


def draw_subject(out: np.ndarray, subject: Subject, is_target: bool = False) -> None:
    """Face box with label/ID and distance: amber for the target, grey while only predicted."""
    x, y, w, h = subject.box
    colour = COASTING_COLOUR if subject.coasting else TARGET_COLOUR if is_target else SUBJECT_COLOUR
    thickness = 1 if subject.coasting else 2
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, thickness, cv2.LINE_AA)
    name = f"{subject.label} #{subject.id}" if subject.label else f"#{subject.id}"
    text = f"{name}  {format_distance(subject.distance_m)}"
    scale = max(0.45, out.shape[1] / 2600)
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 1)
    ty = y - 6 if y - th - 10 > 0 else y + h + th + 6
    cv2.rectangle(out, (x, ty - th - 4), (x + tw + 6, ty + 4), (0, 0, 0), -1)
    cv2.putText(out, text, (x + 3, ty), FONT, scale, colour, 1, cv2.LINE_AA)


def draw_status(out: np.ndarray, status: Status) -> None:
    """A dark bar along the top with source, time, fps, latency and focus."""
    h, w = out.shape[:2]
    scale = max(0.45, w / 2400)
    bar = int(30 * scale / 0.5)
    band = out[:bar]
    band[:] = (band * 0.35).astype(np.uint8)
    parts = [status.source, f"t {status.t:7.2f}s", f"#{status.frame}"]
    if status.fps is not None:
        parts.append(f"{status.fps:4.1f} fps")
    if status.latency_ms is not None:
        parts.append(f"{status.latency_ms:4.1f} ms")
    parts.append("focus " + format_distance(status.focus_m))
    if status.recording:
        parts.append("REC")
    if status.note:
        parts.append(status.note)
    text = "  |  ".join(parts)
    cv2.putText(out, text, (int(10 * scale / 0.5), int(bar * 0.7)), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    if status.recording:
        cv2.circle(out, (w - bar // 2 - 4, bar // 2), bar // 4, (0, 0, 255), -1, cv2.LINE_AA)


def format_distance(metres: float | None) -> str:
    """'2.35 m', 'inf' or '--' (unknown)."""
    if metres is None:
        return "--"
    if math.isinf(metres):
        return "inf"
    return f"{metres:.2f} m"
