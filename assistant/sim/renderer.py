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
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace

import cv2
import numpy as np

from assistant.sim.assets import Asset, AssetLibrary
from assistant.units import to_metres
from assistant.sim.scene import LayerSpec, Scene, Shake
from assistant.types import Box

NOISE_POOL = 6
"""Distinct sensor-noise frames, cycled (drawing fresh noise each frame costs ~30 ms)."""

FILL_MARGIN = 48
"""Room around a backdrop for the widest blur the reduced-copy path spreads."""

CACHE_BYTES = 768 << 20
"""Memory the blurred-sprite cache may hold, whatever its entry count."""

MIN_STREAK_PX = 0.75
"""Motion-blur streaks shorter than this are not drawn (they do not show)."""

Camera = tuple[float, float, float]
"""The view at one instant: offset (x, y) in pixels and magnification about the centre."""

STILL: Camera = (0.0, 0.0, 1.0)
"""A camera that neither turns nor breathes: layers land exactly at (x * width, y * height)."""

Shutter = tuple[tuple[float, Camera], tuple[float, Camera]]
"""(time, camera) as the shutter opens and as it closes."""


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
    face_visible: bool = True  # False while a nearer layer hides the face's centre, or the person has turned away
    motion_blur_px: float = 0.0  # length of the motion-blur streak over the exposure (0 with the shutter off)


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
        out.append(replace(truth, face_visible=truth.face_visible and not hidden))
    return tuple(out)


TURNED_SUFFIX = "\x00turned"
"""Appended to a layer's name for its turned-away picture, so the two never share a cached sprite."""


def turned_away(asset: Asset) -> Asset:
    """The person seen from behind: the face painted over with dark hair, so no face detector finds it.

    A soft-edged oval a little larger than the face box takes the colour of
    the hair (or hat) just above the face, darkened, with faint vertical
    strands and a top-to-bottom shading; a flat skin-toned oval is still
    read as a face by BlazeFace about a third of the time, this about one
    search in thirty. The head's outline and the body are unchanged (same
    alpha), so the person still stands there at the same depth.
    """
    fx, fy, fw, fh = asset.info.face_box  # type: ignore[misc]  # only people with a face box are turned
    rgba = asset.rgba.copy()
    h, w = rgba.shape[:2]
    hair = rgba[max(0, round(fy - 0.3 * fh)):max(1, fy), fx:fx + fw]
    tone = 0.4 * (hair[..., :3] / np.maximum(hair[..., 3:], 1e-6)).reshape(-1, 3).mean(axis=0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.sqrt(((xx - fx - fw / 2.0) / (0.75 * fw)) ** 2 + ((yy - fy - fh / 2.0) / (0.75 * fh)) ** 2)
    cover = np.clip((1.0 - r) / 0.15, 0.0, 1.0)[..., None]
    strands = cv2.GaussianBlur(np.random.default_rng(7).normal(0.0, 1.0, (h, w)).astype(np.float32), (0, 0),
                               sigmaX=max(1.0, fw / 60.0), sigmaY=fh / 8.0)
    shade = (1.1 - 0.2 * np.clip((yy - fy) / fh, 0.0, 1.0)) * (1.0 + 0.2 * strands / (strands.std() + 1e-6))
    blob = tone[None, None, :] * shade[..., None] * rgba[..., 3:]
    rgba[..., :3] = rgba[..., :3] * (1.0 - cover) + blob * cover
    return Asset(asset.name, asset.info, rgba)


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


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A normalised line (streak) kernel ``length`` px long at ``angle`` radians, anti-aliased.

    Points along the segment are spread bilinearly onto the taps, so a streak
    a fraction of a pixel longer or turned slightly differs from its neighbour.
    It is symmetric about its centre, so correlation (filter2D) = convolution.
    """
    half = length / 2.0
    r = math.ceil(half) + 1
    n = 2 * r + 1
    s = np.linspace(-half, half, max(2, math.ceil(length * 8) + 1))
    xs, ys = r + s * math.cos(angle), r + s * math.sin(angle)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = xs - x0, ys - y0
    kernel = np.zeros((n, n), np.float64)
    for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(kernel, (y0 + dy, x0 + dx), wgt)
    kernel = 0.5 * (kernel + kernel[::-1, ::-1])  # exactly point-symmetric despite rounding
    return (kernel / kernel.sum()).astype(np.float32)


def quantise_streak(dx: float, dy: float, blur: float = 0.0) -> tuple[float, int, int] | None:
    """Streaks close enough to look the same share one cache entry: (length, angle bin, bins).

    None below ``MIN_STREAK_PX``, or below a quarter of the layer's defocus
    disk ``blur``: such a streak widens the blur along it by at most 4 % (RMS),
    about what ``quantise_blur`` rounds away anyway (a 7 px disk smeared 1.5 px
    looks the same).
    Lengths in 0.5 px steps to 4 px, 1 px to 12 px, then 5 %; the angle (mod
    180 degrees, a streak has no direction) in bins fine enough that the
    streak's ends land within about 0.25 px (a sixteenth of the disk when that
    is more).
    """
    length = math.hypot(dx, dy)
    if length < max(MIN_STREAK_PX, blur / 4.0):
        return None
    if length < 4.0:
        q = round(length * 2.0) / 2.0
    elif length < 12.0:
        q = float(round(length))
    else:
        q = round(math.exp(round(math.log(length) / 0.05) * 0.05), 1)
    tolerance = max(0.25, blur / 16.0)
    bins = min(180, max(4, math.ceil(math.pi * q / (4.0 * tolerance))))
    angle = math.atan2(dy, dx) % math.pi
    return q, round(angle / math.pi * bins) % bins, bins


def streak_blur(image: np.ndarray, streak: tuple[float, int, int]) -> np.ndarray:
    """Smear ``image`` along a quantised streak (see :func:`quantise_streak`); borders replicate."""
    length, step, bins = streak
    return cv2.filter2D(image, -1, line_kernel(length, step * math.pi / bins), borderType=cv2.BORDER_REPLICATE)


def streak_pad(streak: tuple[float, int, int] | None) -> int:
    """Pixels a streak spreads a sprite on each side."""
    return 0 if streak is None else math.ceil(streak[0] / 2.0) + 1


def wrap_pad(tile: np.ndarray, pad: int) -> np.ndarray:
    """``tile`` extended periodically by ``pad`` pixels on every side (pad may exceed the tile)."""
    th, tw = tile.shape[:2]
    if pad <= min(th, tw):
        return cv2.copyMakeBorder(tile, pad, pad, pad, pad, cv2.BORDER_WRAP)
    ky, kx = -(-pad // th), -(-pad // tw)
    big = np.tile(tile, (2 * ky + 1, 2 * kx + 1, 1))
    y0, x0 = ky * th - pad, kx * tw - pad
    return np.ascontiguousarray(big[y0:y0 + th + 2 * pad, x0:x0 + tw + 2 * pad])


def tile_into(dst: np.ndarray, tile: np.ndarray, sx: int, sy: int) -> None:
    """Fill ``dst`` with ``tile`` repeated, ``dst[0, 0]`` taking ``tile[sy % th, sx % tw]``."""
    th, tw = tile.shape[:2]
    h, w = dst.shape[:2]
    y, ty = 0, sy % th
    while y < h:
        rows = min(th - ty, h - y)
        x, tx = 0, sx % tw
        while x < w:
            cols = min(tw - tx, w - x)
            dst[y:y + rows, x:x + cols] = tile[ty:ty + rows, tx:tx + cols]
            x, tx = x + cols, 0
        y, ty = y + rows, 0


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
        self._turned = {  # people who turn away at times: their stand-in layer and picture
            layer.name: (replace(layer, name=layer.name + TURNED_SUFFIX), turned_away(self.assets[layer.name]))
            for layer in scene.layers if layer.hidden_face and self.assets[layer.name].info.face_box is not None
        }
        self._cache: OrderedDict[tuple, _Sprite] = OrderedDict()
        self._cache_bytes = 0
        self._tiles: OrderedDict[tuple, np.ndarray] = OrderedDict()  # backdrops' blurred periods (moving camera)
        self._scaled: dict[str, tuple[int, np.ndarray]] = {}  # last unblurred size per layer
        self._cache_entries = cache_entries
        rng = np.random.default_rng(scene.seed)
        w, h = self.size
        self._noise = [
            np.round(rng.normal(0.0, scene.noise_sigma, (h, w, 3))).astype(np.int16) for _ in range(NOISE_POOL)
        ] if scene.noise_sigma > 0 else []
        effects = scene.effects
        self._moving = effects.moves_camera
        self._shake = Shake(effects.jitter_px, scene.seed) if effects.jitter_px > 0 else None
        self._exposure_s = effects.exposure_s(scene.camera.fps)
        self._last_focus: tuple[float, float] | None = None  # (t, dpt) of the last frame, for breathing's speed

    def render(self, t: float, focus_dpt: float, index: int = 0) -> tuple[np.ndarray, tuple[LayerTruth, ...]]:
        """The BGR uint8 frame at time ``t`` with the lens focused at ``focus_dpt``, and ground truth."""
        w, h = self.size
        focus_m = to_metres(focus_dpt)
        camera = self.camera(t, focus_dpt)
        shutter = self._shutter(t, focus_dpt)
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
            streak = self._streak(layer, shutter)
            canvas, box = self._composite(canvas, drawn, asset, x, y, distance, coc, camera, streak)
            truths.append(LayerTruth(layer.name, layer.label, asset.info.kind, box, distance, coc,
                                     _face_in_frame(asset, box), face_visible=not turned,
                                     motion_blur_px=math.hypot(*streak)))
        self._last_focus = (t, focus_dpt)
        effects = self.scene.effects
        gain = 1.0 + self.scene.flicker * math.sin(2.0 * math.pi * self.scene.flicker_hz * t)
        gain *= effects.gain_at(t)
        frame = cv2.convertScaleAbs(canvas, alpha=gain)  # canvas >= 0, so this only scales and saturates
        if self._noise:
            frame = cv2.add(frame, self._noise[index % len(self._noise)], dtype=cv2.CV_8U)
        if effects.jpeg_quality:
            ok, data = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), effects.jpeg_quality])
            assert ok, "cv2.imencode failed on a rendered frame"
            frame = cv2.imdecode(data, cv2.IMREAD_COLOR)
        return frame, _with_visibility(tuple(reversed(truths)), self.assets)

    def camera(self, t: float, focus_dpt: float) -> Camera:
        """Where the view points at ``t``: offset (x, y) in pixels (pan + shake) and breathing's magnification."""
        if not self._moving:
            return STILL
        effects = self.scene.effects
        w, h = self.size
        px, py = effects.pan_at(t)
        ox, oy = px * w, py * h
        if self._shake is not None:
            jx, jy = self._shake.at(t)
            ox, oy = ox + jx, oy + jy
        return ox, oy, effects.magnification(focus_dpt)

    def on_screen(self, x: float, y: float, camera: Camera) -> tuple[float, float]:
        """Where scene point (x, y) (fractions of the frame, as layers are placed) lands in the picture.

        The view turns by the offset, then breathing magnifies about the
        centre: p' = c + m (p - offset - c). With the camera still this is
        exactly (x * width, y * height).
        """
        w, h = self.size
        ox, oy, m = camera
        px, py = x * w, y * h
        return px + (m - 1.0) * (px - w / 2) - m * ox, py + (m - 1.0) * (py - h / 2) - m * oy

    def _shutter(self, t: float, focus_dpt: float) -> Shutter | None:
        """(time, camera) as the shutter opens and closes around ``t``, or None with the shutter off.

        Breathing's change over the exposure uses the focus speed since the
        previous frame when that frame was the one just before (a scripted or
        driven pull alike); otherwise focus counts as still.
        """
        if self._exposure_s <= 0.0:
            return None
        half = self._exposure_s / 2.0
        rate = 0.0
        if self.scene.effects.breathing and self._last_focus is not None:
            t0, f0 = self._last_focus
            if 0.0 < t - t0 <= 1.5 / self.scene.camera.fps:
                rate = (focus_dpt - f0) / (t - t0)
        return ((t - half, self.camera(t - half, focus_dpt - rate * half)),
                (t + half, self.camera(t + half, focus_dpt + rate * half)))

    def _streak(self, layer: LayerSpec, shutter: Shutter | None) -> tuple[float, float]:
        """How far (dx, dy) in pixels the layer's centre moves on screen while the shutter is open.

        A backdrop moves only with the view (its centre stands for it; the
        radial smear of breathing is left out).
        """
        if shutter is None:
            return 0.0, 0.0
        (ta, ca), (tb, cb) = shutter
        if layer.fill:
            (xa, ya), (xb, yb) = (0.5, 0.5), (0.5, 0.5)
        else:
            xa, ya, _ = layer.place(ta)
            xb, yb, _ = layer.place(tb)
        ax, ay = self.on_screen(xa, ya, ca)
        bx, by = self.on_screen(xb, yb, cb)
        return bx - ax, by - ay

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
        if layer.fill and self._moving:
            tile = self._fill_tile(layer, asset, width_px, blur, line)
            # Texture pixel under picture pixel 0: the still view has the tiling start FILL_MARGIN
            # left of the frame; turning and magnifying (k, the quantised scale) move that phase.
            k = width_px / quantise_size(self.lens.focal_px * width_m / distance)
            sx = round(k * (w / 2 + camera[0] + FILL_MARGIN) - w / 2)
            sy = round(k * (h / 2 + camera[1] + FILL_MARGIN) - h / 2)
            canvas = np.empty((h, w, 3), np.float32)
            tile_into(canvas, tile, sx, sy)
            return canvas, (0, 0, w, h)
        sprite = self._sprite(layer, asset, width_px, blur, line)
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

    def _sprite(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float,
                streak: tuple[float, int, int] | None = None) -> _Sprite:
        key = (layer.name, width_px, blur) if streak is None else (layer.name, width_px, blur, streak)
        sprite = self._cache.get(key)
        if sprite is not None:
            self._cache.move_to_end(key)
            return sprite
        if streak is None:
            sprite = self._make_sprite(layer, asset, width_px, blur)
        else:  # smear the disk-blurred sprite: motion blur comes after defocus
            sprite = _streaked(self._sprite(layer, asset, width_px, blur), streak)
        self._cache[key] = sprite
        self._cache_bytes += sprite.colour.nbytes + sprite.transparency.nbytes
        while len(self._cache) > self._cache_entries or (self._cache_bytes > CACHE_BYTES and len(self._cache) > 1):
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.colour.nbytes + old.transparency.nbytes
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

    def _fill_tile(self, layer: LayerSpec, asset: Asset, width_px: int, blur: float,
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
            base = self._fill_tile(layer, asset, width_px, blur, None)
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


def _streaked(sprite: _Sprite, streak: tuple[float, int, int]) -> _Sprite:
    """A disk-blurred sprite smeared along a streak (colour and coverage alike), grown to hold the smear."""
    extra = streak_pad(streak)
    kernel = line_kernel(streak[0], streak[1] * math.pi / streak[2])
    colour = cv2.copyMakeBorder(sprite.colour, extra, extra, extra, extra, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    colour = cv2.filter2D(colour, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    # 1 - alpha smears like alpha (the kernel sums to 1) with clear (1) all around.
    clear = cv2.copyMakeBorder(cv2.extractChannel(sprite.transparency, 0), extra, extra, extra, extra,
                               cv2.BORDER_CONSTANT, value=1.0)
    clear = cv2.filter2D(clear, -1, kernel, borderType=cv2.BORDER_REPLICATE)
    return _Sprite(colour, cv2.cvtColor(clear, cv2.COLOR_GRAY2BGR), sprite.pad + extra)
