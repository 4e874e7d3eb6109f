"""Evaluation clips from a seed: random people, lenses, racks, pulls, misses and camera effects, with truth.

Every clip is a :class:`Scene` for the virtual rig, so it renders with the
same thin-lens physics and photographs as everything else; the scene's
``truth`` holds what a focus puller would label. A seed always gives the
same clip.

Kinds of clip:
- ``rack``: focus racks between two people (once or twice), holding between;
- ``pull``: a person walks in depth and focus follows them;
- ``soft``: the person in focus walks out of the depth of field, focus stays;
- ``mixed``: a rack, then a pull;
- ``nothing``: focus stays put while the camera pans, exposure steps, the
  light flickers, noise rises, people cross, enter, leave, or walk toward the
  focus plane. Any event here is a false one.

Only changes the picture can show are labelled: racks are between people
whose blur differs by at least ``MIN_RACK_BLUR_PX`` at both ends, pulls move
focus enough to change the background's or another person's blur by
``MIN_SHIFT_BLUR_PX``. Lenses are 18-135 mm at f/1.4-5.6 on a full-frame or
Super 35 sensor; people stand 0.6-10 m away, with faces 40-170 px wide (smaller faces are below what the detector finds in a 960-wide frame), every
face inside the frame and clear of anyone (or anything) nearer, at every key
time of the clip (except people the story walks in or out of the frame).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from assistant.easing import EASINGS
from assistant.sim.assets import AssetLibrary
from assistant.sim.scene import (
    CameraEffects, CameraSpec, ExposureKey, FocusKey, LayerSpec, LensSpec, MotionKey, PanKey, Scene, TruthEvent,
)
from assistant.types import SUBJECT_LABELS

KINDS = ("rack", "pull", "soft", "mixed", "nothing")
KIND_WEIGHTS = (0.3, 0.25, 0.12, 0.13, 0.2)
EFFECTS = ("pan", "jitter", "breathing", "motion_blur", "exposure", "flicker", "low_light", "compression")
PEOPLE = ("astronaut", "grace_hopper")
BACKDROPS = ("brick", "gravel")
PROPS = ("coffee", "chelsea", "rocket")
FACE_M = 0.14
"""A face's width (its detector box), for keeping faces between ``MIN_FACE_PX`` and ``MAX_FACE_PX``."""
MIN_FACE_PX, MAX_FACE_PX = 40.0, 170.0
MIN_RACK_BLUR_PX = 6.0
MIN_SHIFT_BLUR_PX = 3.0
WIDTH, HEIGHT = 960, 540


@dataclass(frozen=True)
class Scenario:
    """A generated clip: its scene (with truth), what kind it is and which effects it has."""

    seed: int
    kind: str
    effects: tuple[str, ...]
    scene: Scene


class _Unlucky(Exception):
    """This draw cannot make a visible event; draw again."""


def generate(seed: int, assets: AssetLibrary | None = None) -> Scenario:
    """The clip for ``seed`` (draws again, deterministically, until the events are visible).

    ``assets``: the rig's photographs, for their sizes and where their faces are.
    """
    assets = assets or AssetLibrary()
    rng = random.Random(seed)
    kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
    for _ in range(500):
        try:
            return _draw(seed, kind, rng, assets)
        except _Unlucky:
            continue
    raise RuntimeError(f"seed {seed}: no visible {kind} clip in 500 draws")


def _draw(seed: int, kind: str, rng: random.Random, assets: AssetLibrary) -> Scenario:
    camera = CameraSpec(
        focal_length_mm=round(math.exp(rng.uniform(math.log(18), math.log(135))), 1),
        f_number=rng.choice((1.4, 2.0, 2.8, 4.0, 5.6)),
        sensor_width_mm=rng.choice((36.0, 24.9)),
        width=WIDTH, height=HEIGHT, fps=rng.choice((24.0, 25.0, 30.0)),
    )
    rig = _Rig(camera, rng)
    effects = tuple(e for e in EFFECTS if rng.random() < (0.35 if kind == "nothing" else 0.2))
    # quiet clips run longer: false events are counted per minute of them, so they need the minutes
    duration = round(rng.uniform(12.0, 18.0) if kind == "nothing" else rng.uniform(6.0, 9.0), 2)
    if kind == "rack":
        layers, focus, truth = rig.racks(duration, rng.choice((1, 2)))
    elif kind == "pull":
        layers, focus, truth = rig.pull(duration)
    elif kind == "soft":
        layers, focus, truth = rig.soft(duration)
    elif kind == "mixed":
        layers, focus, truth = rig.rack_then_pull(duration)
    else:
        layers, focus, truth = rig.nothing(duration)
    farthest = max(key.distance_m or layer.distance_m for layer in layers for key in (layer, *layer.motion))
    backdrop = LayerSpec(name="backdrop", asset=rng.choice(BACKDROPS), fill=True,
                         distance_m=round(max(6.0, farthest * rng.uniform(1.3, 2.5)), 2))  # behind everyone
    props = ()
    if rng.random() < 0.4:
        props = (LayerSpec(name="prop", asset=rng.choice(PROPS), distance_m=round(rng.uniform(1.0, 5.0), 2),
                           x=rng.choice((rng.uniform(0.05, 0.2), rng.uniform(0.8, 0.95))), y=rng.uniform(0.7, 0.9),
                           width_m=0.4),)
    _check_faces_clear((backdrop, *props, *layers), camera, duration, _walking_off(kind, layers), assets)
    scene = Scene(
        name=f"generated-{seed}", layers=(backdrop, *props, *layers), duration_s=duration,
        noise_sigma=rng.uniform(4.0, 8.0) if "low_light" in effects else rng.uniform(0.5, 2.0),
        flicker=rng.uniform(0.05, 0.15) if "flicker" in effects else 0.0, flicker_hz=rng.uniform(1.0, 10.0),
        seed=seed, camera=camera, lens=LensSpec(focus_m=focus[0].distance_m or 2.0),
        focus=focus, truth=truth, effects=_effects(effects, duration, rng),
    )
    return Scenario(seed, kind, effects, scene)


def _walking_off(kind: str, layers: list[LayerSpec]) -> set[str]:
    """People whose story takes them out of (or into) the frame: their faces may leave it."""
    if kind != "nothing":
        return set()
    return {layer.name for layer in layers if any(key.x is not None for key in layer.motion)}


def _check_faces_clear(layers: tuple[LayerSpec, ...], camera: CameraSpec, duration: float, movers: set[str],
                       assets: AssetLibrary) -> None:
    """Every person's face inside the frame and not covered by a nearer layer, at every key time."""
    lens = camera.thin_lens()
    times = {0.0, duration} | {key.t for layer in layers for key in layer.motion}
    for t in sorted(times):
        placed = []
        for layer in layers:
            if layer.fill:
                continue
            x, y, d = layer.place(t)
            info = assets.infos[layer.asset]
            height_px, width_px = assets.get(layer.asset).rgba.shape[:2]
            scale = lens.focal_px * (layer.width_m or width_px * info.metres_per_pixel) / d / width_px
            w, h = width_px * scale, height_px * scale
            left, top = x * camera.width - w / 2, y * camera.height - h / 2
            face = None
            if info.face_box is not None:
                fx, fy, fw, fh = info.face_box
                face = (left + fx * scale, top + fy * scale, fw * scale, fh * scale)
            placed.append((d, layer.name, (left + 0.1 * w, top + 0.1 * h, 0.8 * w, 0.8 * h), face))
        for d, name, _, face in placed:
            if face is None or name in movers:
                continue
            fx, fy, fw, fh = face
            if fx < 8 or fy < 8 or fx + fw > camera.width - 8 or fy + fh > camera.height - 8:
                raise _Unlucky
            for nearer_d, other, body, _ in placed:
                if other != name and nearer_d < d and _overlap((fx, fy, fw, fh), body) > 0.05 * fw * fh:
                    raise _Unlucky


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def _effects(names: tuple[str, ...], duration: float, rng: random.Random) -> CameraEffects:
    pan: tuple[PanKey, ...] = ()
    if "pan" in names:
        t0 = rng.uniform(0.5, duration / 2)
        t1 = min(duration - 0.2, t0 + rng.uniform(1.0, 3.0))
        pan = (PanKey(t=t0, x=0.0, y=0.0), PanKey(t=t1, x=rng.choice((-1, 1)) * rng.uniform(0.05, 0.2), y=0.0,
                                                   ease="s-curve"))
    exposure: tuple[ExposureKey, ...] = ()
    if "exposure" in names:
        exposure = tuple(ExposureKey(t=round(rng.uniform(0.5, duration - 0.5), 2), gain=rng.uniform(0.55, 1.5))
                         for _ in range(rng.choice((1, 2))))
        exposure = tuple(sorted(exposure, key=lambda k: k.t))
    return CameraEffects(
        pan=pan,
        jitter_px=rng.uniform(1.0, 4.0) if "jitter" in names else 0.0,
        breathing=rng.uniform(0.005, 0.02) if "breathing" in names else 0.0,
        shutter_deg=rng.choice((180.0, 270.0)) if "motion_blur" in names else 0.0,
        exposure=exposure,
        jpeg_quality=rng.randint(12, 30) if "compression" in names else 0,
    )


class _Rig:
    """Draws people and focus scripts that the camera can show."""

    def __init__(self, camera: CameraSpec, rng: random.Random) -> None:
        self.camera = camera
        self.lens = camera.thin_lens()
        self.rng = rng
        self.near = max(0.6, self.lens.focal_px * FACE_M / MAX_FACE_PX)
        self.far = min(10.0, self.lens.focal_px * FACE_M / MIN_FACE_PX)
        if self.far <= self.near * 1.3:
            raise _Unlucky
        self._slots = rng.sample((0.18, 0.4, 0.62, 0.84), 4)

    def blur_px(self, focus_m: float, subject_m: float) -> float:
        return self.lens.coc_px(focus_m, subject_m)

    def distance(self) -> float:
        return round(math.exp(self.rng.uniform(math.log(self.near), math.log(self.far))), 2)

    def person(self, name: str, distance: float, motion: tuple[MotionKey, ...] = (), label: str = "") -> LayerSpec:
        x = self._slots[SUBJECT_LABELS.index(name)]
        return LayerSpec(name=name, label=label or name, asset=self.rng.choice(PEOPLE), distance_m=distance,
                         x=round(x, 3), y=round(self.rng.uniform(0.42, 0.6), 3), motion=motion)

    def pair(self) -> tuple[float, float]:
        """Two distances whose blur differs by ``MIN_RACK_BLUR_PX`` whichever is in focus."""
        for _ in range(50):
            a, b = self.distance(), self.distance()
            if min(self.blur_px(a, b), self.blur_px(b, a)) >= MIN_RACK_BLUR_PX:
                return a, b
        raise _Unlucky

    def racks(self, duration: float, count: int) -> tuple[list[LayerSpec], tuple[FocusKey, ...], tuple[TruthEvent, ...]]:
        a, b = self.pair()
        keys = [FocusKey(t=0.0, distance_m=a)]
        truth = []
        t, here, there = self.rng.uniform(1.2, 2.5), a, b
        for _ in range(count):
            length = round(self.rng.uniform(0.3, 3.0), 2)
            if t + length + 1.2 > duration:
                break
            keys += [FocusKey(t=round(t, 2), distance_m=here),
                     FocusKey(t=round(t + length, 2), distance_m=there, ease=self.rng.choice(tuple(EASINGS)))]
            truth.append(TruthEvent(type="rack", start=round(t, 2), end=round(t + length, 2)))
            t += length + self.rng.uniform(1.5, 3.0)
            here, there = there, here
        if not truth:
            raise _Unlucky
        people = [self.person("A", a), self.person("B", b)]
        return people, tuple(keys), tuple(truth)

    def pull(self, duration: float) -> tuple[list[LayerSpec], tuple[FocusKey, ...], tuple[TruthEvent, ...]]:
        start_d = self.distance()
        end_d = self.distance()
        if abs(math.log(end_d / start_d)) < math.log(1.3):
            raise _Unlucky
        speed = self.rng.uniform(0.2, 2.0)
        length = abs(end_d - start_d) / speed
        start = round(self.rng.uniform(1.0, 2.5), 2)
        if not 0.8 <= length <= duration - start - 1.0:
            raise _Unlucky
        end = round(start + length, 2)
        walker = self.person("A", start_d, (MotionKey(t=start), MotionKey(t=end, distance_m=end_d)))
        others = []
        if self.rng.random() < 0.6:
            others.append(self.person("B", self.distance()))
        shifted = self.blur_px(end_d, 12.0) - self.blur_px(start_d, 12.0)
        for other in others:
            shifted = max(abs(shifted), abs(self.blur_px(end_d, other.distance_m) - self.blur_px(start_d, other.distance_m)))
        if abs(shifted) < MIN_SHIFT_BLUR_PX:
            raise _Unlucky
        keys = (FocusKey(t=0.0, follow="A"),)
        return [walker, *others], keys, (TruthEvent(type="pull", start=start, end=end),)

    def soft(self, duration: float) -> tuple[list[LayerSpec], tuple[FocusKey, ...], tuple[TruthEvent, ...]]:
        start_d = self.distance()
        end_d = self.distance()
        if self.blur_px(start_d, end_d) < MIN_RACK_BLUR_PX:
            raise _Unlucky
        speed = self.rng.uniform(0.5, 2.0)
        start = round(self.rng.uniform(1.0, 2.5), 2)
        end = start + abs(end_d - start_d) / speed
        if end > duration - 1.5:
            raise _Unlucky
        walker = self.person("A", start_d, (MotionKey(t=start), MotionKey(t=round(end, 2), distance_m=end_d)))
        # The truth ends when the walker is surely soft (4 px of blur).
        soft_at = next((start + (end - start) * i / 100 for i in range(101)
                        if self.blur_px(start_d, start_d + (end_d - start_d) * i / 100) >= 4.0), end)
        others = []
        if self.rng.random() < 0.4:
            other = self.distance()
            if self.blur_px(start_d, other) >= MIN_RACK_BLUR_PX:
                others.append(self.person("B", other))
        keys = (FocusKey(t=0.0, distance_m=start_d),)
        return [walker, *others], keys, (TruthEvent(type="soft", start=start, end=round(soft_at, 2)),)

    def rack_then_pull(self, duration: float) -> tuple[list[LayerSpec], tuple[FocusKey, ...], tuple[TruthEvent, ...]]:
        a, b = self.pair()
        rack_t = round(self.rng.uniform(1.0, 2.0), 2)
        length = round(self.rng.uniform(0.3, 1.5), 2)
        walk_t = round(rack_t + length + self.rng.uniform(1.0, 2.0), 2)
        end_d = self.distance()
        speed = self.rng.uniform(0.3, 2.0)
        walk_end = round(walk_t + abs(end_d - b) / speed, 2)
        if abs(math.log(end_d / b)) < math.log(1.3) or walk_end > duration - 0.8 or walk_end - walk_t < 0.8:
            raise _Unlucky
        if max(abs(self.blur_px(end_d, a) - self.blur_px(b, a)),
               abs(self.blur_px(end_d, 12.0) - self.blur_px(b, 12.0))) < MIN_SHIFT_BLUR_PX:
            raise _Unlucky
        if self.blur_px(end_d, a) < MIN_RACK_BLUR_PX * 0.7 or (end_d - a) * (b - a) < 0:
            raise _Unlucky  # the walker would come to or through A's plane: focus would pass A again
        people = [self.person("A", a), self.person("B", b, (MotionKey(t=walk_t), MotionKey(t=walk_end, distance_m=end_d)))]
        keys = (FocusKey(t=0.0, distance_m=a), FocusKey(t=rack_t, distance_m=a),
                FocusKey(t=round(rack_t + length, 2), distance_m=b, ease=self.rng.choice(tuple(EASINGS))),
                FocusKey(t=round(rack_t + length + 0.05, 2), follow="B"))
        truth = (TruthEvent(type="rack", start=rack_t, end=round(rack_t + length, 2)),
                 TruthEvent(type="pull", start=walk_t, end=walk_end))
        return people, keys, truth

    def nothing(self, duration: float) -> tuple[list[LayerSpec], tuple[FocusKey, ...], tuple[TruthEvent, ...]]:
        focus_d = self.distance()
        people = [self.person("A", focus_d)]
        story = self.rng.choice(("cross", "enter", "approach", "stand"))
        if story == "cross":  # someone walks across the frame at their own depth
            d = self.distance()
            t0 = round(self.rng.uniform(0.5, 2.0), 2)
            people.append(LayerSpec(name="B", label="B", asset=self.rng.choice(PEOPLE), distance_m=d, x=-0.2, y=0.5,
                                    motion=(MotionKey(t=t0), MotionKey(t=round(t0 + self.rng.uniform(2.0, 4.0), 2),
                                                                        x=1.2))))
        elif story == "enter":  # someone comes in from a side and stays
            d = self.distance()
            t0 = round(self.rng.uniform(0.5, 3.0), 2)
            people.append(LayerSpec(name="B", label="B", asset=self.rng.choice(PEOPLE), distance_m=d, x=1.25, y=0.5,
                                    motion=(MotionKey(t=t0), MotionKey(t=round(t0 + 1.5, 2), x=0.8))))
        elif story == "approach":  # someone out of focus walks to the focus plane and stops there
            start_d = self.distance()
            if self.blur_px(focus_d, start_d) < MIN_RACK_BLUR_PX:
                raise _Unlucky
            t0 = round(self.rng.uniform(0.5, 2.0), 2)
            t1 = round(t0 + abs(start_d - focus_d) / self.rng.uniform(0.3, 1.2), 2)
            if t1 > duration - 0.5:
                raise _Unlucky
            people.append(LayerSpec(name="B", label="B", asset=self.rng.choice(PEOPLE), distance_m=start_d,
                                    x=self._slots[1], y=0.5,
                                    motion=(MotionKey(t=t0), MotionKey(t=t1, distance_m=focus_d * 1.02))))
        return people, (FocusKey(t=0.0, distance_m=focus_d),), ()
