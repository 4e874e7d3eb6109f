"""Render a scene: perspective-scaled photographs, disk-blurred by the thin lens.

Each layer is scaled to its distance, blurred with a pillbox (disk) kernel
whose diameter is the thin-lens circle of confusion, and composited back to
front with premultiplied alpha (``out = src + (1 - src_alpha) * out``).

Speed: blurred sprites are cached by (layer, quantised size, quantised blur),
so a still scene costs only compositing; large blurs are computed on a
reduced copy, which a heavily defocused layer cannot tell apart.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import cv2
import numpy as np

from assistant.sim.assets import Asset, AssetLibrary
from assistant.units import to_metres
from assistant.sim.scene import LayerSpec, Scene
from assistant.types import Box

NOISE_POOL = 6
"""Distinct sensor-noise frames, cycled (drawing fresh noise each frame costs ~30 ms)."""


@dataclass(frozen=True)
class LayerTruth:
    """Ground truth for one layer in one rendered frame."""

    name: str
    label: str
    kind: str
    box: Box
    distance_m: float
    coc_px: float
    face_box: Box | None = None  # people only: the face, in frame pixels
    face_visible: bool = True  # False while a nearer layer hides the face's centre


@dataclass(frozen=True)
class _Sprite:
    """A blurred, premultiplied layer ready to composite."""

    colour: np.ndarray  # (h, w, 3) float32, premultiplied
    transparency: np.ndarray  # (h, w, 3) float32, 1 - alpha (3 channels for OpenCV's fast path)
    pad: int  # pixels the blur added on each side


def _face_in_frame(asset: Asset, box: Box) -> Box | None:
    """Where the photograph's face lands in the frame, given the layer's on-screen box."""
    if asset.info.face_box is None:
        return None
    scale = box[2] / asset.rgba.shape[1]
    fx, fy, fw, fh = asset.info.face_box
    return (round(box[0] + fx * scale), round(box[1] + fy * scale), round(fw * scale), round(fh * scale))


def _with_visibility(truths: tuple[LayerTruth, ...], assets: dict[str, Asset]) -> tuple[LayerTruth, ...]:
    """Mark faces whose centre is covered by a nearer, opaque part of another layer (near first)."""
    out = []
    for i, truth in enumerate(truths):
        if truth.face_box is None:
            out.append(truth)
            continue
        fx, fy, fw, fh = truth.face_box
        cx, cy = fx + fw / 2, fy + fh / 2
        hidden = any(_opaque_at(assets[nearer.name], nearer.box, cx, cy) for nearer in truths[:i])
        out.append(replace(truth, face_visible=not hidden))
    return tuple(out)


def _opaque_at(asset: Asset, box: Box, x: float, y: float) -> bool:
    bx, by, bw, bh = box
    if not (bx <= x < bx + bw and by <= y < by + bh):
        return False
    alpha = asset.rgba[..., 3]
    px = int((x - bx) / bw * alpha.shape[1])
    py = int((y - by) / bh * alpha.shape[0])
    return bool(alpha[min(py, alpha.shape[0] - 1), min(px, alpha.shape[1] - 1)] > 0.5)


def disk_kernel(diameter: float) -> np.ndarray:
    """A normalised pillbox kernel, anti-aliased by 5x5 supersampling of each tap."""
    radius = diameter / 2.0
    half = max(0, math.ceil(radius - 0.5))
    offsets = (np.arange(5) + 0.5) / 5.0 - 0.5
    taps = np.arange(-half, half + 1, dtype=np.float64)
    sub = (taps[:, None] + offsets[None, :]).ravel()
    inside = (sub[:, None] ** 2 + sub[None, :] ** 2) <= radius * radius
    n = 2 * half + 1
    kernel = inside.reshape(n, 5, n, 5).mean(axis=(1, 3))
    return (kernel / kernel.sum()).astype(np.float32)


def quantise_blur(diameter: float) -> float:
    """Blur diameters close enough to look the same share one cache entry."""
    if diameter < 1.0:
        return 0.0
    if diameter < 4.0:
        return round(diameter * 4.0) / 4.0
    if diameter < 12.0:
        return round(diameter * 2.0) / 2.0
    step = 0.04
    return round(math.exp(round(math.log(diameter) / step) * step), 2)


def quantise_size(pixels: float) -> int:
    """Sprite widths in 1 % steps (at least 1 px)."""
    if pixels < 100:
        return max(1, round(pixels))
    step = math.log(1.01)
    return round(math.exp(round(math.log(pixels) / step) * step))


def pillbox_blur(image: np.ndarray, diameter: float) -> np.ndarray:
    """Blur with a disk of ``diameter`` px; disks of 5 px and more on a reduced copy.

    The reduction (area average down, bilinear up) adds a little blur of its
    own that grows with the factor, so the result still blurs more as the
    diameter grows, and costs a few ms instead of tens.
    """
    if diameter < 1.0:
        return image
    factor = max(1, int(diameter / 2.5))
    if factor <= 1:
        return cv2.filter2D(image, -1, disk_kernel(diameter), borderType=cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.filter2D(small, -1, disk_kernel(diameter / factor), borderType=cv2.BORDER_REPLICATE)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


class Renderer:
    """Renders frames of one scene (one verb: ``render``)."""

    def __init__(self, scene: Scene, assets: AssetLibrary | None = None, cache_entries: int = 256) -> None:
        self.scene = scene
        self.lens = scene.camera.thin_lens()
        self.size = (scene.camera.width, scene.camera.height)
        library = assets or AssetLibrary()
        self.assets = {layer.name: library.get(layer.asset) for layer in scene.layers}
        self._cache: OrderedDict[tuple, _Sprite] = OrderedDict()
        self._scaled: dict[str, tuple[int, np.ndarray]] = {}  # last unblurred size per layer
        self._cache_entries = cache_entries
        rng = np.random.default_rng(scene.seed)
        w, h = self.size
        self._noise = [
            np.round(rng.normal(0.0, scene.noise_sigma, (h, w, 3))).astype(np.int16) for _ in range(NOISE_POOL)
        ] if scene.noise_sigma > 0 else []

    def render(self, t: float, focus_dpt: float, index: int = 0) -> tuple[np.ndarray, tuple[LayerTruth, ...]]:
        """The BGR uint8 frame at time ``t`` with the lens focused at ``focus_dpt``, and ground truth."""
        w, h = self.size
        focus_m = to_metres(focus_dpt)
        placed = []
        for layer in self.scene.layers:
            x, y, d = layer.place(t)
            placed.append((d, layer, x, y))
        placed.sort(key=lambda item: -item[0])
        canvas = np.full((h, w, 3), 40.0, np.float32) if not placed[0][1].fill else None
        truths: list[LayerTruth] = []
        for distance, layer, x, y in placed:
            coc = self.lens.coc_px(focus_m, distance)
            asset = self.assets[layer.name]
            canvas, box = self._composite(canvas, layer, asset, x, y, distance, coc)
            truths.append(LayerTruth(layer.name, layer.label, asset.info.kind, box, distance, coc,
                                     _face_in_frame(asset, box)))
        gain = 1.0 + self.scene.flicker * math.sin(2.0 * math.pi * self.scene.flicker_hz * t)
        frame = cv2.convertScaleAbs(canvas, alpha=gain)  # canvas >= 0, so this only scales and saturates
        if self._noise:
            frame = cv2.add(frame, self._noise[index % len(self._noise)], dtype=cv2.CV_8U)
        return frame, _with_visibility(tuple(reversed(truths)), self.assets)

    def _composite(self, canvas: np.ndarray | None, layer: LayerSpec, asset: Asset, x: float, y: float,
                   distance: float, coc: float) -> tuple[np.ndarray, Box]:
        """Blend one layer onto ``canvas``; returns the canvas and the layer's box (x, y, w, h).

        A backdrop (``fill``) replaces the canvas, so the farthest one starts it.
        """
        w, h = self.size
        width_m = layer.width_m or asset.width_m
        width_px = quantise_size(self.lens.focal_px * width_m / distance)
        blur = quantise_blur(coc)
        sprite = self._sprite(layer, asset, width_px, blur)
        sh, sw = sprite.colour.shape[:2]
        if layer.fill:
            return sprite.colour.copy(), (0, 0, w, h)
        assert canvas is not None
        core_w, core_h = sw - 2 * sprite.pad, sh - 2 * sprite.pad
        left = round(x * w - core_w / 2) - sprite.pad
        top = round(y * h - core_h / 2) - sprite.pad
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(w, left + sw), min(h, top + sh)
        if x1 > x0 and y1 > y0:
            src = sprite.colour[y0 - top:y1 - top, x0 - left:x1 - left]
            keep = sprite.transparency[y0 - top:y1 - top, x0 - left:x1 - left]
            region = canvas[y0:y1, x0:x1]
            cv2.multiply(region, keep, dst=region)
            cv2.add(region, src, dst=region)
        return canvas, (left + sprite.pad, top + sprite.pad, core_w, core_h)

    def _sprite(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float) -> _Sprite:
        key = (layer.name, width_px, blur)
        sprite = self._cache.get(key)
        if sprite is not None:
            self._cache.move_to_end(key)
            return sprite
        sprite = self._make_sprite(layer, asset, width_px, blur)
        self._cache[key] = sprite
        if len(self._cache) > self._cache_entries:
            self._cache.popitem(last=False)
        return sprite

    def _make_sprite(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float) -> _Sprite:
        scaled = self._scaled_layer(layer, asset, width_px)
        if layer.fill:
            w, h = self.size
            pad = (scaled.shape[0] - h) // 2
            plane = pillbox_blur(scaled, blur)[pad:pad + h, pad:pad + w]
            return _Sprite(np.ascontiguousarray(plane), np.zeros((h, w, 3), np.float32), 0)
        pad = math.ceil(blur / 2) + 1
        padded = cv2.copyMakeBorder(scaled, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
        blurred = pillbox_blur(padded, blur)
        colour = np.ascontiguousarray(blurred[..., :3])
        transparency = cv2.merge([1.0 - blurred[..., 3]] * 3)
        return _Sprite(colour, transparency, pad)

    def _scaled_layer(self, layer: LayerSpec, asset: Asset, width_px: int) -> np.ndarray:
        """The layer at ``width_px`` before blur; backdrops tiled to the frame plus a margin.

        Kept per layer, because a rack changes the blur many times at one size.
        """
        cached = self._scaled.get(layer.name)
        if cached is not None and cached[0] == width_px:
            return cached[1]
        src = asset.rgba
        scale = width_px / src.shape[1]
        size = (width_px, max(1, round(src.shape[0] * scale)))
        scaled = cv2.resize(src, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if layer.fill:
            w, h = self.size
            margin = 48  # room for the widest blur the reduced-copy path spreads
            reps = (math.ceil((h + 2 * margin) / size[1]), math.ceil((w + 2 * margin) / size[0]), 1)
            scaled = np.ascontiguousarray(np.tile(scaled[..., :3], reps)[: h + 2 * margin, : w + 2 * margin])
        self._scaled[layer.name] = (width_px, scaled)
        return scaled
