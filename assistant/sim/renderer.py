"""Render a scene: perspective-scaled photographs, disk-blurred by the thin lens.

Each layer is scaled to its distance, blurred with a pillbox (disk) kernel
whose diameter is the thin-lens circle of confusion, and composited back to
front with premultiplied alpha (``out = src + (1 - src_alpha) * out``).

The camera's own effects (``Scene.effects``, all off by default) act on
top: a pan and hand-held shake move every layer by the same pixels, focus
breathing magnifies the picture about its centre, a shutter angle smears each
layer along its on-screen motion with a line kernel (after the disk blur),
exposure steps scale the picture like flicker, and JPEG compression comes
last, after the noise.

Speed: blurred sprites are cached by (layer, quantised size, quantised blur,
quantised streak), so a still scene costs only compositing and a moving camera
only placing sprites at whole pixels; large blurs are computed on a reduced
copy, which a heavily defocused layer cannot tell apart. With the camera
moving, a backdrop is kept as one blurred period of its tiled texture and laid
at the pan's phase, so a pan never re-blurs it.

This module composites; the parts live beside it: ``sprites`` (scaled, blurred,
cached layer pictures), ``blur`` (disk and streak kernels), ``quantise``
(cache-key rounding), ``tiling`` (periodic backdrops), ``camera_motion``
(pan, shake, breathing, the shutter's smear), ``sensor`` (gain, noise, JPEG),
``turned`` (a person seen from behind) and ``truth`` (what each frame shows).
"""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np

from assistant.sim.assets import Asset, AssetLibrary
from assistant.sim.blur import disk_kernel, pillbox_blur
from assistant.sim.camera_motion import STILL, Camera, CameraMotion
from assistant.sim.quantise import quantise_blur, quantise_size, quantise_streak
from assistant.sim.scene import LayerSpec, Scene
from assistant.sim.sensor import Sensor
from assistant.sim.sprites import FILL_MARGIN, SpriteCache
from assistant.sim.tiling import tile_into
from assistant.sim.truth import LayerTruth, face_in_frame, with_visibility
from assistant.sim.turned import TURNED_SUFFIX, turned_away
from assistant.types import Box
from assistant.units import to_metres

# Renderer, and names that used to live here, still importable from here.
__all__ = ["LayerTruth", "Renderer", "disk_kernel", "pillbox_blur", "quantise_blur"]


class Renderer:
    """Renders frames of one scene (one verb: ``render``)."""

    def __init__(self, scene: Scene, assets: AssetLibrary | None = None, cache_entries: int = 256) -> None:
        self.scene = scene
        self.lens = scene.camera.thin_lens()
        self.size = (scene.camera.width, scene.camera.height)
        library = assets or AssetLibrary()
        self.assets = {layer.name: library.get(layer.asset) for layer in scene.layers}
        self._turned = {  # people who turn away at times: their stand-in layer and picture
            layer.name: (replace(layer, name=layer.name + TURNED_SUFFIX), turned_away(self.assets[layer.name]))
            for layer in scene.layers if layer.hidden_face and self.assets[layer.name].info.face_box is not None
        }
        self._motion = CameraMotion(scene)
        self._sprites = SpriteCache(self.size, self._motion.moving, cache_entries)
        self._sensor = Sensor(scene)

    def render(self, t: float, focus_dpt: float, index: int = 0) -> tuple[np.ndarray, tuple[LayerTruth, ...]]:
        """The BGR uint8 frame at time ``t`` with the lens focused at ``focus_dpt``, and ground truth."""
        w, h = self.size
        focus_m = to_metres(focus_dpt)
        camera = self.camera(t, focus_dpt)
        shutter = self._motion.shutter(t, focus_dpt)
        placed = []
        for layer in self.scene.layers:
            x, y, d = layer.place(t)
            placed.append((d, layer, x, y))
        placed.sort(key=lambda item: -item[0])
        canvas = np.full((h, w, 3), 40.0, np.float32) if not placed[0][1].fill else None
        truths: list[LayerTruth] = []
        for distance, layer, x, y in placed:
            coc = self.lens.coc_px(focus_m, distance)
            turned = layer.name in self._turned and layer.face_hidden(t)
            drawn, asset = self._turned[layer.name] if turned else (layer, self.assets[layer.name])
            streak = self._motion.streak(layer, shutter)
            canvas, box = self._composite(canvas, drawn, asset, x, y, distance, coc, camera, streak)
            truths.append(LayerTruth(layer.name, layer.label, asset.info.kind, box, distance, coc,
                                     face_in_frame(asset, box), face_visible=not turned,
                                     motion_blur_px=math.hypot(*streak)))
        self._motion.saw(t, focus_dpt)
        assert canvas is not None
        frame = self._sensor.develop(canvas, t, index)
        return frame, with_visibility(tuple(reversed(truths)), self.assets)

    def camera(self, t: float, focus_dpt: float) -> Camera:
        """Where the view points at ``t``: offset (x, y) in pixels (pan + shake) and breathing's magnification."""
        return self._motion.at(t, focus_dpt)

    def on_screen(self, x: float, y: float, camera: Camera) -> tuple[float, float]:
        """Where scene point (x, y) (fractions of the frame) lands in the picture (see ``CameraMotion.on_screen``)."""
        return self._motion.on_screen(x, y, camera)

    def _composite(self, canvas: np.ndarray | None, layer: LayerSpec, asset: Asset, x: float, y: float,
                   distance: float, coc: float, camera: Camera = STILL, streak: tuple[float, float] = (0.0, 0.0)
                   ) -> tuple[np.ndarray, Box]:
        """Blend one layer onto ``canvas``; returns the canvas and the layer's box (x, y, w, h).

        A backdrop (``fill``) replaces the canvas, so the farthest one starts it.
        """
        w, h = self.size
        width_m = layer.width_m or asset.width_m
        width_px = quantise_size(self.lens.focal_px * width_m / distance * camera[2])
        blur = quantise_blur(coc)
        line = quantise_streak(*streak, blur)
        if layer.fill and self._motion.moving:
            tile = self._sprites.fill_tile(layer, asset, width_px, blur, line)
            # Texture pixel under picture pixel 0: the still view has the tiling start FILL_MARGIN
            # left of the frame; turning and magnifying (k, the quantised scale) move that phase.
            k = width_px / quantise_size(self.lens.focal_px * width_m / distance)
            sx = round(k * (w / 2 + camera[0] + FILL_MARGIN) - w / 2)
            sy = round(k * (h / 2 + camera[1] + FILL_MARGIN) - h / 2)
            canvas = np.empty((h, w, 3), np.float32)
            tile_into(canvas, tile, sx, sy)
            return canvas, (0, 0, w, h)
        sprite = self._sprites.sprite(layer, asset, width_px, blur, line)
        sh, sw = sprite.colour.shape[:2]
        if layer.fill:
            return sprite.colour.copy(), (0, 0, w, h)
        assert canvas is not None
        core_w, core_h = sw - 2 * sprite.pad, sh - 2 * sprite.pad
        cx, cy = self.on_screen(x, y, camera)
        left = round(cx - core_w / 2) - sprite.pad
        top = round(cy - core_h / 2) - sprite.pad
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(w, left + sw), min(h, top + sh)
        if x1 > x0 and y1 > y0:
            src = sprite.colour[y0 - top:y1 - top, x0 - left:x1 - left]
            keep = sprite.transparency[y0 - top:y1 - top, x0 - left:x1 - left]
            region = canvas[y0:y1, x0:x1]
            cv2.multiply(region, keep, dst=region)
            cv2.add(region, src, dst=region)
        return canvas, (left + sprite.pad, top + sprite.pad, core_w, core_h)
