"""Blurred layer pictures: each layer scaled, disk-blurred and motion-smeared, ready to composite, and cached.

Sprites are cached by (layer, quantised size, quantised blur, quantised
streak), so a still scene costs only compositing and a moving camera only
placing sprites at whole pixels. With the camera moving, a backdrop is kept as
one blurred period of its tiled texture, so a pan never re-blurs it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from assistant.sim.assets import Asset
from assistant.sim.blur import line_kernel, pillbox_blur, streak_blur, streak_pad
from assistant.sim.scene import LayerSpec
from assistant.sim.tiling import wrap_pad

FILL_MARGIN = 48
"""Room around a backdrop for the widest blur the reduced-copy path spreads."""

CACHE_BYTES = 768 << 20
"""Memory the blurred-sprite cache may hold, whatever its entry count."""


@dataclass(frozen=True)
class Sprite:
    """A blurred, premultiplied layer ready to composite."""

    colour: np.ndarray  # (h, w, 3) float32, premultiplied
    transparency: np.ndarray  # (h, w, 3) float32, 1 - alpha (3 channels for OpenCV's fast path)
    pad: int  # pixels the blur added on each side


class SpriteCache:
    """Makes and keeps the blurred pictures of one scene's layers for a frame of ``size`` (w, h).

    ``moving`` says the camera moves, so backdrops are kept as one period of
    their texture (:meth:`fill_tile`) rather than as a frame-sized plane.
    """

    def __init__(self, size: tuple[int, int], moving: bool, cache_entries: int = 256) -> None:
        self.size = size
        self._moving = moving
        self._cache: OrderedDict[tuple, Sprite] = OrderedDict()
        self._cache_bytes = 0
        self._tiles: OrderedDict[tuple, np.ndarray] = OrderedDict()  # backdrops' blurred periods (moving camera)
        self._scaled: dict[str, tuple[int, np.ndarray]] = {}  # last unblurred size per layer
        self._cache_entries = cache_entries

    def sprite(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float,
               streak: tuple[float, int, int] | None = None) -> Sprite:
        """The layer at ``width_px``, disk-blurred by ``blur`` px and smeared along ``streak``, from the cache."""
        key = (layer.name, width_px, blur) if streak is None else (layer.name, width_px, blur, streak)
        sprite = self._cache.get(key)
        if sprite is not None:
            self._cache.move_to_end(key)
            return sprite
        if streak is None:
            sprite = self._make_sprite(layer, asset, width_px, blur)
        else:  # smear the disk-blurred sprite: motion blur comes after defocus
            sprite = _streaked(self.sprite(layer, asset, width_px, blur), streak)
        self._cache[key] = sprite
        self._cache_bytes += sprite.colour.nbytes + sprite.transparency.nbytes
        while len(self._cache) > self._cache_entries or (self._cache_bytes > CACHE_BYTES and len(self._cache) > 1):
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.colour.nbytes + old.transparency.nbytes
        return sprite

    def _make_sprite(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float) -> Sprite:
        scaled = self._scaled_layer(layer, asset, width_px)
        if layer.fill:
            w, h = self.size
            pad = (scaled.shape[0] - h) // 2
            plane = pillbox_blur(scaled, blur)[pad:pad + h, pad:pad + w]
            return Sprite(np.ascontiguousarray(plane), np.zeros((h, w, 3), np.float32), 0)
        pad = math.ceil(blur / 2) + 1
        padded = cv2.copyMakeBorder(scaled, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0, 0))
        blurred = pillbox_blur(padded, blur)
        colour = np.ascontiguousarray(blurred[..., :3])
        transparency = cv2.merge([1.0 - blurred[..., 3]] * 3)
        return Sprite(colour, transparency, pad)

    def fill_tile(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float,
                  streak: tuple[float, int, int] | None) -> np.ndarray:
        """One period of a backdrop's tiled texture, blurred as the endless tiling is (moving camera).

        The period is extended periodically before each blur, so its edges
        meet seamlessly when it is laid side by side at any phase.
        """
        key = (layer.name, width_px, blur, streak)
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
            return tile
        if streak is None:
            base = self._scaled_layer(layer, asset, width_px)
            pad = max(FILL_MARGIN, math.ceil(blur / 2.0) + 2 * int(blur / 2.5) + 2)  # past the blur's reach
            blurred = pillbox_blur(wrap_pad(base, pad), blur)
        else:
            base = self.fill_tile(layer, asset, width_px, blur, None)
            pad = streak_pad(streak)
            blurred = streak_blur(wrap_pad(base, pad), streak)
        th, tw = base.shape[:2]
        tile = np.ascontiguousarray(blurred[pad:pad + th, pad:pad + tw])
        self._tiles[key] = tile
        if len(self._tiles) > 64:
            self._tiles.popitem(last=False)
        return tile

    def _scaled_layer(self, layer: LayerSpec, asset: Asset, width_px: int) -> np.ndarray:
        """The layer at ``width_px`` before blur; backdrops tiled to the frame plus a margin.

        With the camera moving a backdrop stays one period (BGR), laid at the
        view's phase after blurring. Kept per layer, because a rack changes the
        blur many times at one size.
        """
        cached = self._scaled.get(layer.name)
        if cached is not None and cached[0] == width_px:
            return cached[1]
        src = asset.rgba
        scale = width_px / src.shape[1]
        size = (width_px, max(1, round(src.shape[0] * scale)))
        scaled = cv2.resize(src, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if layer.fill and self._moving:
            scaled = np.ascontiguousarray(scaled[..., :3])
        elif layer.fill:
            w, h = self.size
            margin = FILL_MARGIN
            reps = (math.ceil((h + 2 * margin) / size[1]), math.ceil((w + 2 * margin) / size[0]), 1)
            scaled = np.ascontiguousarray(np.tile(scaled[..., :3], reps)[: h + 2 * margin, : w + 2 * margin])
        self._scaled[layer.name] = (width_px, scaled)
        return scaled


def _streaked(sprite: Sprite, streak: tuple[float, int, int]) -> Sprite:
    """A disk-blurred sprite smeared along a streak (colour and coverage alike), grown to hold the smear."""
    extra = streak_pad(streak)
    kernel = line_kernel(streak[0], streak[1] * math.pi / streak[2])
    colour = cv2.copyMakeBorder(sprite.colour, extra, extra, extra, extra, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    colour = cv2.filter2D(colour, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    # 1 - alpha smears like alpha (the kernel sums to 1) with clear (1) all around.
    clear = cv2.copyMakeBorder(cv2.extractChannel(sprite.transparency, 0), extra, extra, extra, extra,
                               cv2.BORDER_CONSTANT, value=1.0)
    clear = cv2.filter2D(clear, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    return Sprite(colour, cv2.cvtColor(clear, cv2.COLOR_GRAY2BGR), sprite.pad + extra)
