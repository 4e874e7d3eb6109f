"""Scene files for the virtual rig: camera, lens, layers at known depths, motion.

A scene is a TOML file in ``config/scenes/``. Layers are real photographs
(see ``assistant/sim/assets/assets.toml``) standing at a distance from the
camera; subjects move by keyframes, and focus follows keyframes too unless a
driver takes the lens over. ``docs/scenes.md`` documents every key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.easing import EASINGS, ease
from assistant.schema import check_limits, limits, load_toml
from assistant.sim.optics import ThinLens
from assistant.types import SUBJECT_LABELS

EASE_NAMES = tuple(EASINGS)


@dataclass(frozen=True)
class CameraSpec:
    """The virtual camera body and lens."""

    focal_length_mm: float = field(default=34.2, metadata=limits(lo=1.0, hi=1200.0))
    f_number: float = field(default=2.0, metadata=limits(lo=0.7, hi=64.0))
    sensor_width_mm: float = field(default=24.9, metadata=limits(lo=1.0, hi=100.0))
    width: int = field(default=1280, metadata=limits(lo=64, hi=7680))
    height: int = field(default=720, metadata=limits(lo=64, hi=4320))
    fps: float = field(default=30.0, metadata=limits(lo=1.0, hi=240.0))

    def thin_lens(self) -> ThinLens:
        return ThinLens(self.focal_length_mm, self.f_number, self.sensor_width_mm, self.width)


@dataclass(frozen=True)
class LensSpec:
    """The simulated focus actuator: where it starts, its range and speed."""

    focus_m: float = field(default=2.0, metadata=limits(lo=0.05))
    near_limit_m: float = field(default=0.3, metadata=limits(lo=0.05))
    far_limit_m: float = field(default=math.inf, metadata=limits(lo=0.05))
    max_speed_dpt_s: float = field(default=6.0, metadata=limits(lo=0.01, hi=1000.0))

    def __post_init__(self) -> None:
        if self.far_limit_m <= self.near_limit_m:
            raise ValueError(f"far_limit_m ({self.far_limit_m}) must be beyond near_limit_m ({self.near_limit_m})")
        if not self.near_limit_m <= self.focus_m <= self.far_limit_m:
            raise ValueError(f"focus_m ({self.focus_m}) must lie between near_limit_m and far_limit_m")


@dataclass(frozen=True)
class MotionKey:
    """A keyframe: at time ``t`` the layer is at (x, y, distance); unset values hold."""

    t: float = field(metadata=limits(lo=0.0))
    x: float | None = field(default=None, metadata=limits(lo=-1.0, hi=2.0))
    y: float | None = field(default=None, metadata=limits(lo=-1.0, hi=2.0))
    distance_m: float | None = field(default=None, metadata=limits(lo=0.05))
    ease: str = field(default="linear", metadata=limits(choices=EASE_NAMES))


@dataclass(frozen=True)
class LayerSpec:
    """A photograph standing in the scene.

    ``x``/``y`` place the centre of the picture as a fraction of the frame;
    ``fill`` makes a backdrop that tiles the whole frame at its distance.
    ``label`` (A-D) marks a subject the operator may want sharp.
    ``hidden_face`` lists ``[t0, t1)`` intervals while a person has turned
    away: the face is painted over, so no detector finds it, but the head and
    body stay (drive mode must hold on a target it cannot see).
    """

    name: str
    asset: str
    distance_m: float = field(metadata=limits(lo=0.05))
    x: float = field(default=0.5, metadata=limits(lo=-1.0, hi=2.0))
    y: float = field(default=0.5, metadata=limits(lo=-1.0, hi=2.0))
    width_m: float | None = field(default=None, metadata=limits(lo=0.001, lo_open=True))
    fill: bool = False
    label: str = field(default="", metadata=limits(choices=("", *SUBJECT_LABELS)))
    motion: tuple[MotionKey, ...] = ()
    hidden_face: tuple[tuple[float, float], ...] = ()

    def __post_init__(self) -> None:
        times = [k.t for k in self.motion]
        if times != sorted(times):
            raise ValueError(f"layer {self.name!r}: motion keys must be in time order, got t = {times}")
        for t0, t1 in self.hidden_face:
            if not 0.0 <= t0 < t1:
                raise ValueError(f"layer {self.name!r}: hidden_face interval [{t0}, {t1}] must have 0 <= start < end")

    def face_hidden(self, t: float) -> bool:
        """True while the person has turned away (inside a ``hidden_face`` interval, start included)."""
        return any(t0 <= t < t1 for t0, t1 in self.hidden_face)

    def place(self, t: float) -> tuple[float, float, float]:
        """(x, y, distance_m) of the layer at time ``t``."""
        x, y, d = self.x, self.y, self.distance_m
        prev_t = 0.0
        for key in self.motion:
            nx = x if key.x is None else key.x
            ny = y if key.y is None else key.y
            nd = d if key.distance_m is None else key.distance_m
            if t < key.t:
                p = ease(key.ease, (t - prev_t) / (key.t - prev_t)) if key.t > prev_t else 1.0
                return x + (nx - x) * p, y + (ny - y) * p, d + (nd - d) * p
            x, y, d, prev_t = nx, ny, nd, key.t
        return x, y, d


@dataclass(frozen=True)
class FocusKey:
    """Scripted focus: at time ``t`` the lens is at ``distance_m``.

    Between keys focus moves evenly in dioptres along the key's ``ease`` curve.
    ``follow`` names a layer: from this key until the next one, focus stays
    exactly on that layer's distance (a perfect tracking pull), and
    ``distance_m`` may be left out.
    """

    t: float = field(metadata=limits(lo=0.0))
    distance_m: float | None = field(default=None, metadata=limits(lo=0.05))
    ease: str = field(default="linear", metadata=limits(choices=EASE_NAMES))
    follow: str = ""

    def __post_init__(self) -> None:
        if self.distance_m is None and not self.follow:
            raise ValueError(f"focus key at t = {self.t}: give distance_m or follow")


@dataclass(frozen=True)
class TruthEvent:
    """Ground truth for tests: what a focus puller would label in this clip."""

    type: str = field(metadata=limits(choices=("rack", "pull", "soft")))
    start: float = field(metadata=limits(lo=0.0))
    end: float = field(metadata=limits(lo=0.0))

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a truth event cannot end ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class PanKey:
    """A camera-pan keyframe: at time ``t`` the view is turned by (x, y); unset values hold.

    ``x``/``y`` are the view's offset as a fraction of the frame's width and
    height (0, 0 before the first key): x = 0.1 turns the camera right, so the
    whole picture, backdrops included, moves 10 % of the width to the left.
    """

    t: float = field(metadata=limits(lo=0.0))
    x: float | None = field(default=None, metadata=limits(lo=-4.0, hi=4.0))
    y: float | None = field(default=None, metadata=limits(lo=-4.0, hi=4.0))
    ease: str = field(default="linear", metadata=limits(choices=EASE_NAMES))


@dataclass(frozen=True)
class ExposureKey:
    """An exposure step: from time ``t`` on the picture is multiplied by ``gain``."""

    t: float = field(metadata=limits(lo=0.0))
    gain: float = field(metadata=limits(lo=0.0, hi=16.0))


JITTER_HZ = (1.1, 1.9, 2.9, 4.1, 5.3)
"""Hand-shake partials per axis (each detuned by up to 7 % per scene seed): 1-6 Hz, far enough
apart that a few seconds of shake already have the asked RMS."""


class Shake:
    """Hand-held shake: a smooth random offset in pixels, a sum of sinusoids per axis.

    Each axis (x, y) has RMS ``rms_px`` over time; the partials' phases,
    detuning and weights (more shake at low frequencies) come from ``seed``.
    """

    def __init__(self, rms_px: float, seed: int) -> None:
        rng = np.random.default_rng(np.random.SeedSequence([seed % 2**63, 0x5A4B]))
        n = len(JITTER_HZ)
        base = np.array(JITTER_HZ)
        self.hz = base[None, :] * rng.uniform(0.93, 1.07, (2, n))
        self.phase = rng.uniform(0.0, 2.0 * math.pi, (2, n))
        weight = rng.uniform(0.8, 1.2, (2, n)) / np.sqrt(self.hz)
        # A sinusoid of amplitude a has RMS a / sqrt(2); the partials' powers add.
        self.amplitude = weight * (rms_px / np.sqrt((weight ** 2).sum(axis=1, keepdims=True) / 2.0))

    def at(self, t: float) -> tuple[float, float]:
        """(dx, dy) in pixels at time ``t``."""
        dx, dy = (self.amplitude * np.sin(2.0 * math.pi * self.hz * t + self.phase)).sum(axis=1)
        return float(dx), float(dy)


@dataclass(frozen=True)
class CameraEffects:
    """The camera's own effects on the picture; every one is off by default.

    See ``docs/scenes.md`` (``[effects]``) for what each does to the frame and
    to the ground truth.
    """

    pan: tuple[PanKey, ...] = ()
    jitter_px: float = field(default=0.0, metadata=limits(lo=0.0, hi=100.0))
    breathing: float = field(default=0.0, metadata=limits(lo=-0.1, hi=0.1))
    shutter_deg: float = field(default=0.0, metadata=limits(lo=0.0, hi=360.0))
    exposure: tuple[ExposureKey, ...] = ()
    jpeg_quality: int = field(default=0, metadata=limits(lo=0, hi=100))

    def __post_init__(self) -> None:
        check_limits(self)  # built in code (tests, tools) as well as from a file
        for name in ("pan", "exposure"):
            times = [k.t for k in getattr(self, name)]
            if times != sorted(times):
                raise ValueError(f"{name} keys must be in time order, got t = {times}")

    @property
    def moves_camera(self) -> bool:
        """True when pan, shake or breathing can move the picture."""
        return bool(self.pan) or self.jitter_px > 0.0 or self.breathing != 0.0

    def pan_at(self, t: float) -> tuple[float, float]:
        """The view offset (x, y) at ``t``, as fractions of the frame's width and height."""
        x, y = 0.0, 0.0
        prev_t = 0.0
        for key in self.pan:
            nx = x if key.x is None else key.x
            ny = y if key.y is None else key.y
            if t < key.t:
                p = ease(key.ease, (t - prev_t) / (key.t - prev_t)) if key.t > prev_t else 1.0
                return x + (nx - x) * p, y + (ny - y) * p
            x, y, prev_t = nx, ny, key.t
        return x, y

    def gain_at(self, t: float) -> float:
        """The exposure gain at ``t``: that of the last key at or before ``t`` (1 before the first)."""
        gain = 1.0
        for key in self.exposure:
            if t < key.t:
                break
            gain = key.gain
        return gain

    def magnification(self, focus_dpt: float) -> float:
        """Focus breathing: how much the picture is magnified about its centre at ``focus_dpt``."""
        return max(0.1, 1.0 + self.breathing * focus_dpt)

    def exposure_s(self, fps: float) -> float:
        """How long the shutter is open per frame, in seconds (0 without motion blur)."""
        return self.shutter_deg / 360.0 / fps


@dataclass(frozen=True)
class Scene:
    """A whole virtual-rig scene as read from a scene file."""

    name: str
    layers: tuple[LayerSpec, ...]
    duration_s: float = field(default=10.0, metadata=limits(lo=0.1, hi=86400.0))
    noise_sigma: float = field(default=1.0, metadata=limits(lo=0.0, hi=64.0))
    flicker: float = field(default=0.0, metadata=limits(lo=0.0, hi=0.9))
    flicker_hz: float = field(default=2.0, metadata=limits(lo=0.0, hi=120.0))
    loop: bool = False
    seed: int = 0
    camera: CameraSpec = CameraSpec()
    lens: LensSpec = LensSpec()
    focus: tuple[FocusKey, ...] = ()
    truth: tuple[TruthEvent, ...] = ()
    effects: CameraEffects = CameraEffects()

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a scene needs at least one layer")
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"layer names must be unique; repeated: {', '.join(duplicates)}")
        times = [k.t for k in self.focus]
        if times != sorted(times):
            raise ValueError(f"focus keys must be in time order, got t = {times}")
        unknown = sorted({k.follow for k in self.focus if k.follow and k.follow not in names})
        if unknown:
            raise ValueError(f"focus keys follow unknown layers: {', '.join(unknown)}; layers are {', '.join(names)}")

    @property
    def frame_count(self) -> int:
        return max(1, round(self.duration_s * self.camera.fps))

    def scripted_focus_dpt(self, t: float) -> float | None:
        """Scripted focus in dioptres at ``t``, or None when the scene has no focus script."""
        if not self.focus:
            return None
        prev = self.focus[0]
        for key in self.focus:
            if t < key.t:
                if prev.follow:
                    return 1.0 / self._key_distance(prev, t)
                span = key.t - prev.t
                p = ease(key.ease, (t - prev.t) / span) if span > 0 else 1.0
                a, b = 1.0 / self._key_distance(prev, prev.t), 1.0 / self._key_distance(key, key.t)
                return a + (b - a) * p
            prev = key
        return 1.0 / self._key_distance(prev, t if prev.follow else prev.t)

    def _key_distance(self, key: FocusKey, t: float) -> float:
        if key.follow:
            layer = next(layer for layer in self.layers if layer.name == key.follow)
            return layer.place(t)[2]
        assert key.distance_m is not None
        return key.distance_m


def load_scene(path: Path) -> Scene:
    """Read and validate a scene file."""
    return load_toml(Scene, Path(path))
