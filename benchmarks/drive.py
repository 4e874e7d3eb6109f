"""`make bench-drive`: drive mode judged in closed loop on the virtual rig, through the real command line.

Each seed gives a scenario: a scene file for the virtual rig (cached in
``.cache/drive-scenarios``), the layer that should be sharp, and when the
target jumps or turns away. Every scenario is run as an outside tester would,
``focus-assistant live --source drive_rig:source --driver drive_rig:driver
--mode drive --target largest``, two at a time; the rig (``drive_rig.py``)
writes where the lens really was on every frame, and the scores come from
that truth alone, never from the assistant's own logs.

Kinds (seed mod 7): ``walk`` (target walks in depth at 0.3-1.5 m/s, a
smaller person stands), ``step`` (target jumps 1.5 m in 0.15 s and holds),
``cross`` (two people cross sideways at different depths), ``distractor``
(a smaller face beside the target, or in the first tile searched while the
target sits in the last), ``parked`` (lens far off, target blurred 30-60 px),
``still`` (noise and flicker; counts hunting), ``turn`` (target turns away
for 2 s and back, a smaller person stays in view).

Sharp means the target's thin-lens circle of confusion is at most
0.05 mm on a 36 mm wide sensor (scaled to the sensor). The defaults run the
held-out seeds 7000-7039; tune on 1000-1039 (``--seeds 1000-1039``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from assistant.schema import build
from assistant.sim.assets import Asset, AssetLibrary
from assistant.sim.optics import ThinLens
from assistant.sim.scene import CameraSpec, Scene
from assistant.units import to_dioptres, to_metres
from labels import seed_range

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "drive-scenarios"
TUNING_SEEDS = "1000-1039"
HELD_OUT_SEEDS = "7000-7039"
KINDS = ("walk", "step", "cross", "distractor", "parked", "still", "turn")

# ---------------------------------------------------------------------------------------------- goals
COC_FULL_FRAME_MM = 0.05
"""Acceptable circle of confusion on a 36 mm wide sensor; scaled by sensor width for others."""
DOF_GOAL = 0.97  # walks: share of frames inside DoF
SETTLE_GOAL_S = 0.3  # steps: from the end of the jump until inside DoF for good
OVERSHOOT_GOAL_DOF = 1.0  # steps: never past the far edge of the target's DoF
PARKED_GOAL_S = 1.5  # parked: first frame inside DoF
REVERSALS_GOAL = 0.5  # still: lens direction reversals per second
GRACE_S = 1.0  # frames on a non-target count from here; DoF shares count from first sharp or here
REVERSAL_MIN_DPT = 0.005  # lens motion smaller than this is not a move
HELD_S = 0.5  # "held" sharp: inside DoF for at least this long
OVERSHOOT_WINDOW_S = 1.5  # overshoot is looked for from the jump's start until this long after its end

# ---------------------------------------------------------------------------------------------- rig
PEOPLE = ("astronaut", "grace_hopper")
BACKDROPS = ("brick", "gravel")
FACE_PLAN_PX = (45.0, 160.0)
"""Face widths the generator aims for: inside the promised 40-170 px, with room for the renderer's rounding."""
FACE_LIMIT_PX = (40.0, 170.0)
TARGET_LEAD = 1.3
"""The target's face is always at least this much wider than anyone else's, so ``--target largest`` is unambiguous."""
FOCAL_MM = (34.0, 85.0)
STEP_M, STEP_S = 1.5, 0.15
PARKED_BLUR_PX = (30.0, 60.0)
START_BLUR_MAX_PX = 10.0  # distractor: both faces detectable from the lens's starting point


class _Unlucky(Exception):
    """This draw breaks a rule (face size, occlusion, depth); draw again."""


@dataclass(frozen=True)
class Scenario:
    """One closed-loop test: the rig's scene, who should be sharp, and when the target jumps or turns."""

    seed: int
    kind: str
    variant: str
    target: str
    scene: Scene
    scene_toml: str = field(repr=False)
    step: tuple[float, float, float, float] | None = None  # (start s, end s, from m, to m)
    hidden: tuple[float, float] | None = None  # the target's back is turned from .. until (s)

    @property
    def lens(self) -> ThinLens:
        return self.scene.camera.thin_lens()

    @property
    def coc_limit_mm(self) -> float:
        return coc_limit(self.scene.camera)

    @property
    def camera_text(self) -> str:
        c = self.scene.camera
        sensor = "FF" if c.sensor_width_mm == 36.0 else "S35"
        return f"{c.focal_length_mm:.0f}mm f/{c.f_number:g} {sensor} {c.height}p"


@dataclass(frozen=True)
class Person:
    """A person's photograph at a scale (below 1: a smaller-framed person): where the face lands."""

    asset: Asset
    scale: float = 1.0

    @property
    def face_m(self) -> float:
        """The face's real width (its detector box) in metres."""
        return self.asset.info.face_box[2] * self.asset.info.metres_per_pixel * self.scale  # type: ignore[index]

    @property
    def width_m(self) -> float:
        return self.asset.width_m * self.scale

    def face_px(self, focal_px: float, distance_m: float) -> float:
        return focal_px * self.face_m / distance_m

    def picture_px(self, focal_px: float, distance_m: float) -> tuple[float, float]:
        """Width and height of the whole photograph in the frame."""
        h, w = self.asset.rgba.shape[:2]
        width = focal_px * self.width_m / distance_m
        return width, width * h / w

    def face_offset_px(self, focal_px: float, distance_m: float) -> tuple[float, float]:
        """Face centre minus picture centre, in frame pixels."""
        h, w = self.asset.rgba.shape[:2]
        s = self.picture_px(focal_px, distance_m)[0] / w
        fx, fy, fw, fh = self.asset.info.face_box  # type: ignore[misc]
        return (fx + fw / 2 - w / 2) * s, (fy + fh / 2 - h / 2) * s


@dataclass(frozen=True)
class Key:
    """Where a person's face centre is (fractions of the frame) and how far away, at time ``t``."""

    t: float
    u: float
    v: float
    d: float


@dataclass(frozen=True)
class Actor:
    """A person in a draft scenario: layer name, photograph, face path and when they turn away."""

    name: str
    label: str
    person: Person
    keys: tuple[Key, ...]
    hidden: tuple[float, float] | None = None


@dataclass(frozen=True)
class Pick:
    """A seed's draws that redraws must not change: the kind's variant (``flip``) and a walk's speed (``level``)."""

    flip: bool
    level: float


@dataclass(frozen=True)
class Draft:
    """Everything a kind decides; :func:`finish` turns it into a checked scene."""

    kind: str
    variant: str
    camera: CameraSpec
    actors: tuple[Actor, ...]  # the target first
    lens_focus_m: float
    duration_s: float
    noise_sigma: float = 1.0
    flicker: float = 0.0
    flicker_hz: float = 2.0
    step: tuple[float, float, float, float] | None = None


# ---------------------------------------------------------------------------------------------- generation
def generate(seed: int, assets: AssetLibrary | None = None, kind: str | None = None) -> Scenario:
    """The scenario for ``seed`` (its kind is ``KINDS[seed % 7]`` unless given); always the same for a seed."""
    assets = assets or AssetLibrary()
    kind = kind or KINDS[seed % len(KINDS)]
    rng = random.Random(f"drive-{seed}-{kind}")
    pick = Pick(rng.random() < 0.5, rng.random())  # fixed before any redraw, so rejections cannot skew them
    for _ in range(2000):
        try:
            return finish(seed, DRAWS[kind](rng, assets, pick), rng)
        except _Unlucky:
            continue
    raise RuntimeError(f"seed {seed}: no valid {kind} scenario in 2000 draws")


def draw_camera(rng: random.Random) -> tuple[int, int, float, float]:
    """(width, height, sensor width mm, f-number); the focal length is fitted to the depths later."""
    width, height = rng.choice(((960, 540), (1280, 720)))
    return width, height, rng.choice((36.0, 24.9)), rng.choice((1.4, 2.0, 2.8))


def fit_camera(rng: random.Random, width: int, height: int, sensor: float, f_number: float,
               spans: Sequence[tuple[Person, float, float, float]]) -> CameraSpec:
    """A camera whose focal length keeps every face in its size range.

    ``spans``: (person, nearest m, farthest m, smallest face px wanted); the
    largest face is at most ``FACE_PLAN_PX[1]`` everywhere.
    """
    lo_px = max(min_face * far / p.face_m for p, _, far, min_face in spans)
    hi_px = min(FACE_PLAN_PX[1] * near / p.face_m for p, near, _, _ in spans)
    lo_mm, hi_mm = max(FOCAL_MM[0], lo_px * sensor / width), min(FOCAL_MM[1], hi_px * sensor / width)
    if lo_mm > hi_mm:
        raise _Unlucky
    focal = round(rng.uniform(lo_mm, hi_mm), 1)
    return CameraSpec(focal_length_mm=focal, f_number=f_number, sensor_width_mm=sensor,
                      width=width, height=height, fps=30.0)


def people(rng: random.Random, assets: AssetLibrary) -> tuple[Asset, Asset]:
    """The target's photograph and the other person's."""
    first = rng.choice(PEOPLE)
    return assets.get(first), assets.get(next(p for p in PEOPLE if p != first))


def sides(rng: random.Random) -> tuple[float, float]:
    """Horizontal face positions for the target and a bystander, on opposite sides."""
    left = rng.uniform(0.22, 0.36)
    right = rng.uniform(0.64, 0.78)
    return (left, right) if rng.random() < 0.5 else (right, left)


def dof_half_width_dpt(lens: ThinLens, subject_m: float, coc_mm: float, beyond: bool) -> float:
    """How far (dioptres) focus may move from a subject before its blur exceeds ``coc_mm``.

    ``beyond``: on the near side of the subject (focus in larger dioptres);
    else the far side. Exact for the thin lens: blur K|x| / (1 - F(1/d + x)),
    K = F^2 / N, solved for the offset x.
    """
    f = lens.focal_length_mm / 1000.0
    c = coc_mm / 1000.0
    k = f * f / lens.f_number
    room = c * (1.0 - f / subject_m)
    return room / (k + c * f) if beyond else room / (k - c * f)


def bystander(rng: random.Random, asset: Asset, camera: CameraSpec, u: float, target_min_px: float,
              avoid_dpt: tuple[float, float], coc_mm: float) -> Actor:
    """A smaller person standing clear (in depth) of the dioptres the target and the lens pass through.

    The depth is drawn first, beyond or before that span by 2.5 depths of
    field (1-10 m), then the photograph is scaled (0.25-1: a smaller-framed
    person) so the face is 45 px to ``1 / TARGET_LEAD`` of the target's smallest.
    """
    top = target_min_px / TARGET_LEAD
    if top < FACE_PLAN_PX[0]:
        raise _Unlucky
    lens = camera.thin_lens()
    lo, hi = min(avoid_dpt), max(avoid_dpt)
    margin = 2.5 * dof_half_width_dpt(lens, 1.0 / max(lo, 0.1), coc_mm, False)
    ranges = [(a, b) for a, b in ((0.1, lo - margin), (hi + margin, 1.0)) if a < b]
    if not ranges:
        raise _Unlucky
    a, b = ranges[-1] if len(ranges) == 1 or rng.random() < 0.3 else ranges[0]  # farther, when it fits, 70 %
    d = 1.0 / rng.uniform(a, b)
    full = Person(asset)
    smallest, largest = (full.face_px(lens.focal_px, d) * s for s in (0.25, 1.0))
    lo_px, hi_px = max(FACE_PLAN_PX[0], smallest), min(top, largest)
    if lo_px > hi_px:
        raise _Unlucky
    scale = rng.uniform(lo_px, hi_px) / full.face_px(lens.focal_px, d)
    person = Person(asset, 1.0 if scale > 0.97 else round(scale, 3))
    return Actor("other", "B", person, (Key(0.0, u, rng.uniform(0.3, 0.45), round(d, 3)),))


def coc_limit(camera: CameraSpec) -> float:
    """The acceptable circle of confusion (mm) on this camera's sensor."""
    return COC_FULL_FRAME_MM * camera.sensor_width_mm / 36.0


def draw_walk(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """The target walks toward or away at 0.3-1.5 m/s between ~1.2 and ~5 m; a smaller person stands."""
    speed = 0.3 + 1.2 * pick.level
    near = rng.uniform(1.2, 1.8)
    far = min(5.0, near * FACE_PLAN_PX[1] / (FACE_PLAN_PX[0] * TARGET_LEAD) * 0.97, near + speed * 5.5)
    if far - near < 0.6:
        raise _Unlucky
    toward = pick.flip
    start, end = (far, near) if toward else (near, far)
    mine, theirs = people(rng, assets)
    target = Person(mine)
    camera = fit_camera(rng, *draw_camera(rng), [(target, near, far, FACE_PLAN_PX[0] * TARGET_LEAD)])
    u, u_other = sides(rng)
    drift = rng.uniform(-0.06, 0.06)
    v = rng.uniform(0.3, 0.45)
    t0, walk_s = 1.5, (far - near) / speed
    duration = round(max(6.0, t0 + walk_s + 1.0), 2)
    keys = [Key(0.0, u, v, start)]
    n = max(1, math.ceil(walk_s / 0.5))
    keys += [Key(round(t0 + walk_s * i / n, 3), u + drift * i / n, v, round(start + (end - start) * i / n, 4))
             for i in range(n + 1)]
    min_px = target.face_px(camera.thin_lens().focal_px, far)
    other = bystander(rng, theirs, camera, u_other, min_px, (1 / near, 1 / far), coc_limit(camera))
    return Draft("walk", f"{'toward' if toward else 'away'} {speed:.1f}m/s", camera,
                 (Actor("target", "A", target, tuple(keys)), other), start, duration,
                 noise_sigma=rng.uniform(0.5, 2.0), step=None)


def draw_step(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """The target jumps 1.5 m in depth within 0.15 s and holds; half the time a smaller person stands."""
    near = round(rng.uniform(1.3, 2.0), 4)
    far = round(near + STEP_M, 4)
    away = pick.flip
    start, end = (near, far) if away else (far, near)
    mine, theirs = people(rng, assets)
    target = Person(mine)
    crowd = rng.random() < 0.5
    min_face = FACE_PLAN_PX[0] * (TARGET_LEAD if crowd else 1.0)
    camera = fit_camera(rng, *draw_camera(rng), [(target, near, far, min_face)])
    u, u_other = sides(rng)
    v = rng.uniform(0.3, 0.45)
    t_s = round(rng.uniform(2.0, 2.5), 2)
    t_e = round(t_s + STEP_S, 2)
    actors = [Actor("target", "A", target, (Key(0.0, u, v, start), Key(t_s, u, v, start), Key(t_e, u, v, end)))]
    if crowd:
        min_px = target.face_px(camera.thin_lens().focal_px, far)
        actors.append(bystander(rng, theirs, camera, u_other, min_px, (1 / near, 1 / far), coc_limit(camera)))
    return Draft("step", "away" if away else "toward", camera, tuple(actors), start, 6.5,
                 noise_sigma=rng.uniform(0.5, 2.0), step=(t_s, t_e, start, end))


def draw_cross(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """Two people cross sideways at different depths; the nearer, larger face is the target."""
    d_t = rng.uniform(1.5, 3.0)
    d_o = min(6.0, d_t * rng.uniform(1.45, 2.2))
    mine, theirs = people(rng, assets)
    target, other = Person(mine), Person(theirs)
    camera = fit_camera(rng, *draw_camera(rng), [(target, d_t, d_t, FACE_PLAN_PX[0]),
                                                 (other, d_o, d_o, FACE_PLAN_PX[0])])
    a = rng.uniform(0.15, 0.25)
    a, b = (a, 1.0 - a) if pick.flip else (1.0 - a, a)
    t0, cross_s = 1.5, rng.uniform(3.0, 4.5)
    t1 = round(t0 + cross_s, 2)
    v_t, v_o = rng.uniform(0.35, 0.45), rng.uniform(0.28, 0.4)
    actors = (Actor("target", "A", target, (Key(0.0, a, v_t, d_t), Key(t0, a, v_t, d_t), Key(t1, b, v_t, d_t))),
              Actor("other", "B", other, (Key(0.0, b, v_o, d_o), Key(t0, b, v_o, d_o), Key(t1, a, v_o, d_o))))
    return Draft("cross", "ltr" if a < b else "rtl", camera, actors, d_t, round(t1 + 1.5, 2),
                 noise_sigma=rng.uniform(0.5, 2.0))


def draw_distractor(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """A larger-face target and a smaller person; in ``tiles`` the smaller face is in the first tile searched.

    Discovery searches the whole frame, then the tiles top-left, top-right,
    bottom-left, bottom-right (``SearchPlanner``): in ``tiles`` the target's
    face lies only in the last one. The lens starts between the two depths.
    """
    variant = "tiles" if pick.flip else "side"
    d_t = rng.uniform(1.5, 4.0)
    mine, theirs = people(rng, assets)
    target = Person(mine)
    if rng.random() < 0.5:
        other, d_o = Person(theirs), d_t * rng.uniform(1.4, 2.0)  # farther
    else:
        other, d_o = Person(theirs, rng.uniform(0.4, 0.6)), d_t * rng.uniform(0.55, 0.8)  # nearer, smaller-framed
    if not 1.0 <= d_o <= 8.0:
        raise _Unlucky
    camera = fit_camera(rng, *draw_camera(rng), [(target, d_t, d_t, FACE_PLAN_PX[0]),
                                                 (other, d_o, d_o, FACE_PLAN_PX[0])])
    lens, limit = camera.thin_lens(), coc_limit(camera)
    mid = (1 / d_t + 1 / d_o) / 2
    for d in (d_t, d_o):
        if not (limit < lens.coc_mm(1 / mid, d) and lens.coc_px(1 / mid, d) <= START_BLUR_MAX_PX):
            raise _Unlucky
    if variant == "side":
        (u_t, u_o), v_t, v_o = sides(rng), rng.uniform(0.3, 0.45), rng.uniform(0.3, 0.45)
    else:
        w, h = camera.width, camera.height
        half_t = target.face_px(lens.focal_px, d_t) / 2
        half_o = other.face_px(lens.focal_px, d_o) / 2
        u_t = rng.uniform(0.6 + (half_t + 4) / w, 1.0 - (half_t + 8) / w)
        v_t = rng.uniform(0.6 + (half_t + 4) / h, 1.0 - (half_t + 8) / h)
        u_o = rng.uniform((half_o + 8) / w, 0.4 - (half_o + 4) / w)
        v_o = rng.uniform((half_o + 8) / h, 0.4 - (half_o + 4) / h)
    actors = (Actor("target", "A", target, (Key(0.0, u_t, v_t, d_t),)),
              Actor("other", "B", other, (Key(0.0, u_o, v_o, d_o),)))
    return Draft("distractor", variant, camera, actors, 1 / mid, 6.0, noise_sigma=rng.uniform(0.5, 2.0))


def draw_parked(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """The lens starts far off (0.5 m with the target at 3-5 m, or infinity with it at 1.2-1.6 m)."""
    variant = "near" if pick.flip else "infinity"
    lens_m, d_t = (0.5, rng.uniform(3.0, 5.0)) if variant == "near" else (math.inf, rng.uniform(1.2, 1.6))
    mine, theirs = people(rng, assets)
    target = Person(mine)
    crowd = variant == "near" and rng.random() < 0.5  # at infinity no one fits between the lens and 1.2 m
    min_face = FACE_PLAN_PX[0] * (TARGET_LEAD if crowd else 1.0)
    camera = fit_camera(rng, *draw_camera(rng), [(target, d_t, d_t, min_face)])
    blur = camera.thin_lens().coc_px(lens_m, d_t)
    if not PARKED_BLUR_PX[0] <= blur <= PARKED_BLUR_PX[1]:
        raise _Unlucky
    u, u_other = sides(rng)
    actors = [Actor("target", "A", target, (Key(0.0, u, rng.uniform(0.3, 0.45), d_t),))]
    if crowd:
        min_px = target.face_px(camera.thin_lens().focal_px, d_t)
        actors.append(bystander(rng, theirs, camera, u_other, min_px, (to_dioptres(lens_m), 1 / d_t),
                                coc_limit(camera)))
    return Draft("parked", variant, camera, tuple(actors), lens_m, 6.0, noise_sigma=rng.uniform(0.5, 2.0))


def draw_still(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """The target stands still at 1.5-4 m in sensor noise and flicker; the lens starts on it."""
    return _standing(rng, assets, "still", pick.flip, 8.0,
                     noise_sigma=rng.uniform(3.0, 6.0), flicker=rng.uniform(0.05, 0.15),
                     flicker_hz=rng.uniform(1.0, 10.0))


def draw_turn(rng: random.Random, assets: AssetLibrary, pick: Pick) -> Draft:
    """The target turns away for 2 s and back, standing at 1.5-4 m; a smaller person stays in view."""
    t0 = round(rng.uniform(2.0, 3.0), 2)
    return _standing(rng, assets, "turn", True, round(t0 + 5.0, 2), hidden=(t0, t0 + 2.0),
                     noise_sigma=rng.uniform(0.5, 2.0))


def _standing(rng: random.Random, assets: AssetLibrary, kind: str, crowd: bool, duration: float,
              hidden: tuple[float, float] | None = None, **looks: float) -> Draft:
    d_t = rng.uniform(1.5, 4.0)
    mine, theirs = people(rng, assets)
    target = Person(mine)
    min_face = FACE_PLAN_PX[0] * (TARGET_LEAD if crowd else 1.0)
    camera = fit_camera(rng, *draw_camera(rng), [(target, d_t, d_t, min_face)])
    u, u_other = sides(rng)
    actors = [Actor("target", "A", target, (Key(0.0, u, rng.uniform(0.3, 0.45), d_t),), hidden)]
    if crowd:
        min_px = target.face_px(camera.thin_lens().focal_px, d_t)
        actors.append(bystander(rng, theirs, camera, u_other, min_px, (1 / d_t, 1 / d_t), coc_limit(camera)))
    return Draft(kind, "crowd" if crowd else "alone", camera, tuple(actors), d_t, duration, **looks)


DRAWS: dict[str, Callable[[random.Random, AssetLibrary, Pick], Draft]] = {
    "walk": draw_walk, "step": draw_step, "cross": draw_cross, "distractor": draw_distractor,
    "parked": draw_parked, "still": draw_still, "turn": draw_turn,
}


def finish(seed: int, draft: Draft, rng: random.Random) -> Scenario:
    """Add the backdrop, write the scene, build it (the rig's own validation) and check every face over time."""
    focal_px = draft.camera.thin_lens().focal_px
    farthest = max(k.d for a in draft.actors for k in a.keys)
    data: dict[str, Any] = {
        "name": f"drive-{draft.kind}-{seed}", "duration_s": draft.duration_s,
        "noise_sigma": round(draft.noise_sigma, 2), "flicker": round(draft.flicker, 3),
        "flicker_hz": round(draft.flicker_hz, 2), "seed": seed,
        "camera": {k: getattr(draft.camera, k) for k in
                   ("focal_length_mm", "f_number", "sensor_width_mm", "width", "height", "fps")},
        "lens": {"focus_m": draft.lens_focus_m if math.isinf(draft.lens_focus_m) else round(draft.lens_focus_m, 4)},
        "layers": [{"name": "backdrop", "asset": rng.choice(BACKDROPS), "fill": True,
                    "distance_m": round(max(6.0, farthest * rng.uniform(1.3, 2.0)), 2)}]
                  + [_layer(actor, draft.camera, focal_px) for actor in draft.actors],
    }
    scene = build(Scene, data, f"drive scenario {seed}")
    check_faces(scene, draft, focal_px)
    target = next(layer for layer in scene.layers if layer.name == draft.actors[0].name)
    hidden = target.hidden_face[0] if target.hidden_face else None
    return Scenario(seed, draft.kind, draft.variant, target.name, scene, to_toml(data), draft.step, hidden)


def _layer(actor: Actor, camera: CameraSpec, focal_px: float) -> dict[str, Any]:
    """A scene layer whose keys put the face centre at each key's (u, v)."""
    def xy(key: Key) -> tuple[float, float]:
        ox, oy = actor.person.face_offset_px(focal_px, key.d)
        return round((key.u * camera.width - ox) / camera.width, 5), round((key.v * camera.height - oy) / camera.height, 5)

    first = actor.keys[0]
    x, y = xy(first)
    layer: dict[str, Any] = {"name": actor.name, "label": actor.label, "asset": actor.person.asset.name,
                             "distance_m": round(first.d, 4), "x": x, "y": y}
    if actor.person.scale != 1.0:
        layer["width_m"] = round(actor.person.width_m, 4)
    if len(actor.keys) > 1:
        layer["motion"] = [dict(zip(("t", "x", "y", "distance_m"), (key.t, *xy(key), round(key.d, 4))))
                           for key in actor.keys[1:]]
    if actor.hidden is not None:
        layer["hidden_face"] = [[round(actor.hidden[0], 3), round(actor.hidden[1], 3)]]
    return layer


def check_faces(scene: Scene, draft: Draft, focal_px: float) -> None:
    """Every 0.1 s: faces inside the frame and 40-170 px wide, the target's the widest by ``TARGET_LEAD``,
    and no face behind a nearer person (but in ``cross`` the other person may pass behind the target)."""
    w, h = scene.camera.width, scene.camera.height
    layers = {layer.name: layer for layer in scene.layers}
    for i in range(int(scene.duration_s * 10) + 1):
        t = i / 10.0
        placed = []
        for actor in draft.actors:
            x, y, d = layers[actor.name].place(t)
            placed.append((actor, x * w, y * h, d))
        faces = {}
        for actor, cx, cy, d in placed:
            ox, oy = actor.person.face_offset_px(focal_px, d)
            size = actor.person.face_px(focal_px, d)
            fx, fy = cx + ox, cy + oy
            if not FACE_LIMIT_PX[0] + 2 <= size <= FACE_LIMIT_PX[1] - 2:
                raise _Unlucky
            if fx - size / 2 < 2 or fy - size / 2 < 2 or fx + size / 2 > w - 2 or fy + size / 2 > h - 2:
                raise _Unlucky
            faces[actor.name] = (fx, fy, size)
        target = draft.actors[0].name
        if any(faces[target][2] < TARGET_LEAD * s for name, (_, _, s) in faces.items() if name != target):
            raise _Unlucky
        for actor, cx, cy, d in placed:
            pw, ph = actor.person.picture_px(focal_px, d)
            for other, _, _, d_other in placed:
                if other is actor or d_other <= d:
                    continue
                if draft.kind == "cross" and other.name != target:
                    continue
                fx, fy, s = faces[other.name]
                corners = [(fx + a * s / 2, fy + b * s / 2) for a in (-1, 0, 1) for b in (-1, 0, 1)]
                if any(((px - cx) / (0.46 * pw)) ** 2 + ((py - cy) / (0.49 * ph)) ** 2 <= 1.05 for px, py in corners):
                    raise _Unlucky


def to_toml(data: dict[str, Any]) -> str:
    """TOML for a scene: scalars first, then tables, then arrays of tables (nested values inline)."""
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, (dict, list))]
    for key, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{key}]", *(f"{k} = {_toml_value(v)}" for k, v in value.items())]
    for key, value in data.items():
        if isinstance(value, list):
            for table in value:
                lines += ["", f"[[{key}]]", *(f"{k} = {_toml_value(v)}" for k, v in table.items())]
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


# ---------------------------------------------------------------------------------------------- scoring
@dataclass(frozen=True)
class TruthRow:
    """One frame as the rig saw it: lens focus, the target's depth and everyone else's."""

    t: float
    focus_dpt: float
    target_m: float
    others_m: tuple[float, ...] = ()
    target_visible: bool = True
    target_face_px: float = 0.0
    other_faces_px: tuple[float, ...] = ()


def read_truth(path: Path) -> list[TruthRow]:
    """The rig's truth file (``drive_rig.py``) as rows; the target is the layer each line names."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        people = {p["name"]: p for p in item["people"]}
        target = people[item["target"]]
        others = [p for name, p in people.items() if name != item["target"]]
        rows.append(TruthRow(item["t"], item["focus_dpt"], target["distance_m"],
                             tuple(p["distance_m"] for p in others), target["face_visible"],
                             float(target["face_box"][2]),
                             tuple(float(p["face_box"][2]) for p in others if p["face_visible"])))
    return rows


def in_dof(lens: ThinLens, coc_mm: float, focus_dpt: float, subject_m: float) -> bool:
    """True when a subject at ``subject_m`` is acceptably sharp with focus at ``focus_dpt``."""
    return lens.coc_mm(to_metres(focus_dpt), subject_m) <= coc_mm


def measure_start(times: Sequence[float], sharp: Sequence[bool], cap_s: float = GRACE_S) -> tuple[float, str]:
    """Where shares are measured from: the first sharp frame, or ``cap_s`` if that comes first."""
    first = next((t for t, s in zip(times, sharp) if s), math.inf)
    return (first, "sharp") if first <= cap_s else (cap_s, f"{cap_s:g} s")


def share_inside(times: Sequence[float], sharp: Sequence[bool], start_s: float, end_s: float = math.inf,
                 leave_out: tuple[float, float] | None = None) -> float | None:
    """Share of frames in [start_s, end_s), less any in [leave_out), that are sharp (None without frames)."""
    a, b = leave_out or (math.inf, math.inf)
    window = [s for t, s in zip(times, sharp) if start_s - 1e-9 <= t < end_s - 1e-9 and not a - 1e-9 <= t < b - 1e-9]
    return sum(window) / len(window) if window else None


def settle_time(times: Sequence[float], sharp: Sequence[bool], after_s: float) -> float | None:
    """Seconds from ``after_s`` until the target is sharp and stays so to the end (None: never)."""
    settled = None
    for t, s in zip(times, sharp):
        if t < after_s - 1e-9:
            continue
        if s and settled is None:
            settled = t
        elif not s:
            settled = None
    return None if settled is None else max(0.0, settled - after_s)


def overshoot_dpt(times: Sequence[float], focus_dpt: Sequence[float], start_s: float, end_s: float,
                  from_dpt: float, to_dpt: float) -> float:
    """How far past ``to_dpt`` (moving from ``from_dpt``) the lens went between ``start_s`` and ``end_s``."""
    direction = 1.0 if to_dpt > from_dpt else -1.0
    past = [direction * (f - to_dpt) for t, f in zip(times, focus_dpt) if start_s - 1e-9 <= t <= end_s + 1e-9]
    return max([0.0, *past])


def reversals(positions: Sequence[float], min_move: float = REVERSAL_MIN_DPT) -> int:
    """Direction reversals of the lens, ignoring moves smaller than ``min_move``.

    A move counts once the lens has gone ``min_move`` from where it last
    turned (hysteresis), so jitter below that never counts.
    """
    if not positions:
        return 0
    direction, extreme, count = 0, positions[0], 0
    for p in positions[1:]:
        if direction == 0:
            if abs(p - extreme) >= min_move:
                direction, extreme = (1 if p > extreme else -1), p
        elif (p - extreme) * direction > 0:
            extreme = p
        elif (extreme - p) * direction >= min_move:
            count, direction, extreme = count + 1, -direction, p
    return count


def first_sharp(times: Sequence[float], sharp: Sequence[bool], hold_s: float = 0.0) -> float | None:
    """The first time the target is sharp (and stays so for ``hold_s``, or to the end); None: never."""
    since = None
    for t, s in zip(times, sharp):
        if s:
            since = t if since is None else since
            if t - since >= hold_s - 1e-9:
                return since
        else:
            since = None
    return since


def non_target_frames(rows: Sequence[TruthRow], lens: ThinLens, coc_mm: float, after_s: float = GRACE_S) -> int:
    """Frames from ``after_s`` on where focus holds another person sharp but not the target."""
    return sum(1 for r in rows if r.t >= after_s - 1e-9
               and not in_dof(lens, coc_mm, r.focus_dpt, r.target_m)
               and any(in_dof(lens, coc_mm, r.focus_dpt, d) for d in r.others_m))


@dataclass(frozen=True)
class Check:
    """One goal for one scenario: what it asks, the measured value, met or not."""

    goal: str
    value: float | None
    passed: bool
    higher_is_better: bool = False  # which end of the values is the worst
    percent: bool = False  # a share, shown in per cent


@dataclass(frozen=True)
class Result:
    """A scenario's scores (None where a metric does not apply or could not be measured)."""

    seed: int
    kind: str
    variant: str
    camera: str
    duration_s: float
    wall_s: float = 0.0
    error: str | None = None
    frames: int = 0
    start_s: float = 0.0
    start_reason: str = ""
    in_dof: float | None = None
    hidden_in_dof: float | None = None
    settle_s: float | None = None
    overshoot_dpt: float | None = None
    overshoot_dof: float | None = None
    reversals_per_s: float | None = None
    first_sharp_s: float | None = None
    held_sharp_s: float | None = None
    non_target: int = 0
    checks: tuple[Check, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.error is None and all(c.passed for c in self.checks)


def score(scenario: Scenario, rows: Sequence[TruthRow], wall_s: float = 0.0) -> Result:
    """Every metric for one run, and the goals its kind is judged on."""
    lens, coc = scenario.lens, scenario.coc_limit_mm
    base = dict(seed=scenario.seed, kind=scenario.kind, variant=scenario.variant, camera=scenario.camera_text,
                duration_s=scenario.scene.duration_s, wall_s=wall_s)
    expected = scenario.scene.frame_count
    if len(rows) < expected:
        return Result(**base, frames=len(rows), error=f"truth has {len(rows)} of {expected} frames")
    times = [r.t for r in rows]
    focus = [r.focus_dpt for r in rows]
    sharp = [in_dof(lens, coc, r.focus_dpt, r.target_m) for r in rows]
    start_s, reason = measure_start(times, sharp)
    jump = (scenario.step[0], scenario.step[1] + SETTLE_GOAL_S) if scenario.step else None  # judged by settle
    metrics: dict[str, Any] = dict(frames=len(rows), start_s=start_s, start_reason=reason,
                                   in_dof=share_inside(times, sharp, start_s, leave_out=jump),
                                   non_target=non_target_frames(rows, lens, coc),
                                   first_sharp_s=first_sharp(times, sharp),
                                   held_sharp_s=first_sharp(times, sharp, HELD_S))
    window = [f for t, f in zip(times, focus) if t >= start_s - 1e-9]
    span = times[-1] - start_s
    metrics["reversals_per_s"] = reversals(window) / span if span > 0 else None
    if scenario.step is not None:
        t_s, t_e, d_from, d_to = scenario.step
        metrics["settle_s"] = settle_time(times, sharp, t_e)
        over = overshoot_dpt(times, focus, t_s, t_e + OVERSHOOT_WINDOW_S, 1 / d_from, 1 / d_to)
        half = dof_half_width_dpt(lens, d_to, coc, beyond=1 / d_to > 1 / d_from)
        metrics["overshoot_dpt"], metrics["overshoot_dof"] = over, over / half
    if scenario.hidden is not None:
        metrics["hidden_in_dof"] = share_inside(times, sharp, *scenario.hidden)
    checks = goal_checks(scenario.kind, metrics)
    checks.append(Check(f"0 frames on a non-target after {GRACE_S:g} s", metrics["non_target"],
                        metrics["non_target"] == 0))
    return Result(**base, **metrics, checks=tuple(checks), warnings=tuple(truth_warnings(scenario, rows)))


def goal_checks(kind: str, m: dict[str, Any]) -> list[Check]:
    """The DESIGN.md drive-mode goals that apply to this kind.

    "Inside DoF on >= 97 % of frames while the subject walks at up to 1.5 m/s"
    is applied to every kind but ``parked``: a target standing, crossing
    sideways, beside a distractor or turned away walks at 0 m/s in depth
    (on ``step`` the jump and the time allowed to settle are left out).
    """
    checks = []
    if kind != "parked":
        share = m["in_dof"]
        checks.append(Check(f"in DoF >= {DOF_GOAL * 100:g} %", share, share is not None and share >= DOF_GOAL,
                            higher_is_better=True, percent=True))
    if kind == "step":
        settle, over = m["settle_s"], m["overshoot_dof"]
        checks += [Check(f"settle <= {SETTLE_GOAL_S:g} s", settle, settle is not None and settle <= SETTLE_GOAL_S),
                   Check("no overshoot past the DoF", over, over <= OVERSHOOT_GOAL_DOF)]
    if kind == "parked":
        first = m["first_sharp_s"]
        checks.append(Check(f"sharp within {PARKED_GOAL_S:g} s", first, first is not None and first <= PARKED_GOAL_S))
    if kind == "still":
        rate = m["reversals_per_s"]
        checks.append(Check(f"<= {REVERSALS_GOAL:g} reversals/s", rate, rate is not None and rate <= REVERSALS_GOAL))
    return checks


def truth_warnings(scenario: Scenario, rows: Sequence[TruthRow]) -> list[str]:
    """Anything in the rendered truth that breaks the scenario's own rules (a generator bug, not a score)."""
    out = []
    sizes = [r.target_face_px for r in rows] + [s for r in rows for s in r.other_faces_px]
    if sizes and not (FACE_LIMIT_PX[0] <= min(sizes) and max(sizes) <= FACE_LIMIT_PX[1]):
        out.append(f"face widths {min(sizes):.0f}-{max(sizes):.0f} px outside {FACE_LIMIT_PX[0]:.0f}-{FACE_LIMIT_PX[1]:.0f}")
    if any(r.other_faces_px and r.target_face_px < max(r.other_faces_px) for r in rows):
        out.append("the target's face is not always the largest")
    hidden = scenario.hidden or (math.inf, math.inf)
    if any(not r.target_visible and not hidden[0] <= r.t < hidden[1] for r in rows):
        out.append("the target's face is covered outside its turn")
    return out


# ---------------------------------------------------------------------------------------------- running
@dataclass(frozen=True)
class RunFiles:
    """Where one run's scene and outputs live."""

    scene: Path
    truth: Path
    tracks: Path
    events: Path
    log: Path


def scene_file(scenario: Scenario, cache: Path = CACHE) -> Path:
    """The scenario's scene file in the cache (named by seed and content digest; written once)."""
    digest = hashlib.sha256(scenario.scene_toml.encode()).hexdigest()[:12]
    path = cache / f"{scenario.seed}-{scenario.kind}-{digest}.toml"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(scenario.scene_toml, encoding="utf-8")
        partial.rename(path)
    return path


def command(scenario: Scenario, files: RunFiles) -> list[str]:
    """The command line an outside tester types (``--hfov``: the plugin adapter cannot learn the rig's)."""
    script = Path(sys.executable).with_name("focus-assistant")
    program = [str(script)] if script.exists() else [sys.executable, "-m", "assistant"]
    return [*program, "live", "--source", "drive_rig:source", "--driver", "drive_rig:driver",
            "--mode", "drive", "--target", "largest", "--headless", "--no-audio",
            "--hfov", f"{scenario.lens.hfov_deg:.4f}", "--tracks", str(files.tracks), "--events", str(files.events)]


def run(scenario: Scenario, folder: Path, cache: Path = CACHE) -> tuple[RunFiles, float, str | None]:
    """Run the CLI on one scenario; (files, wall seconds, error or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = RunFiles(scene_file(scenario, cache), folder / "truth.jsonl", folder / "tracks.jsonl",
                     folder / "events.jsonl", folder / "stderr.log")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).resolve().parent), env.get("PYTHONPATH")) if p)
    env.update({"FOCUS_DRIVE_SCENARIO": str(files.scene), "FOCUS_DRIVE_TRUTH": str(files.truth),
                "FOCUS_DRIVE_TARGET": scenario.target})
    started = time.monotonic()
    error = None
    with open(files.log, "w", encoding="utf-8") as log:
        try:
            proc = subprocess.run(command(scenario, files), env=env, cwd=ROOT, stdout=log, stderr=log,
                                  timeout=60 + 6 * scenario.scene.duration_s)
            if proc.returncode != 0:
                error = f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            error = "timed out"
    if error is not None:
        tail = files.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        error = f"{error}: {tail[0][:160]}" if tail else error
    return files, time.monotonic() - started, error


def run_and_score(scenario: Scenario, folder: Path, cache: Path = CACHE) -> Result:
    files, wall_s, error = run(scenario, folder, cache)
    rows = read_truth(files.truth) if files.truth.exists() else []
    result = score(scenario, rows, wall_s)
    return result if error is None else replace(result, error=error)


# ---------------------------------------------------------------------------------------------- report
def _fmt(value: float | None, spec: str, none: str = "-") -> str:
    return none if value is None else format(value, spec)


def row_text(r: Result) -> str:
    """One line of the per-scenario table."""
    if r.error is not None:
        return (f"| {r.seed} | {r.kind} | {r.variant} | {r.camera} | {r.duration_s:.1f} | ERROR after {r.frames} "
                f"frames: {r.error} |" + " |" * 9)
    over = "-" if r.overshoot_dpt is None else f"{r.overshoot_dpt:.3f} / {r.overshoot_dof:.1f}x"
    settle = _fmt(r.settle_s, ".2f", "never") if r.kind == "step" else "-"
    cells = [str(r.seed), r.kind, r.variant, r.camera, f"{r.duration_s:.1f}",
             f"{r.start_s:.2f} ({r.start_reason})", _fmt(r.in_dof and r.in_dof * 100, ".1f"),
             settle, over, _fmt(r.reversals_per_s, ".2f"), _fmt(r.first_sharp_s, ".2f", "never"),
             _fmt(r.held_sharp_s, ".2f", "never"), _fmt(r.hidden_in_dof and r.hidden_in_dof * 100, ".0f"),
             str(r.non_target), "PASS" if r.passed else ("ERROR" if r.error else "MISS")]
    return "| " + " | ".join(cells) + " |"


TABLE_HEAD = ("| seed | kind | variant | camera | clip s | measured from | in DoF % | settle s | overshoot dpt / DoF "
              "| reversals/s | first sharp s | held sharp s | DoF % while turned | non-target frames | result |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def kind_summary(results: Sequence[Result]) -> list[str]:
    """Per kind and goal: mean and worst value, how many scenarios met it, PASS/MISS."""
    lines = ["| kind | n | goal | mean | worst | met | result |", "|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        group = [r for r in results if r.kind == kind]
        if not group:
            continue
        goals: dict[str, list[Check]] = {}
        for r in group:
            for c in r.checks:
                goals.setdefault(c.goal, []).append(c)
        errors = sum(1 for r in group if r.error)
        for goal, checks in goals.items():
            values = [c.value for c in checks if c.value is not None]
            mean = sum(values) / len(values) if values else None
            worst = (min(values) if checks[0].higher_is_better else max(values)) if values else None
            unmeasured = len(checks) - len(values)
            as_text = (lambda v: _fmt(v and v * 100, ".1f") + " %") if checks[0].percent else (lambda v: _fmt(v, ".3g"))
            met = sum(c.passed for c in checks)
            note = f" ({unmeasured} never)" if unmeasured else ""
            ok = met == len(group) and not errors
            lines.append(f"| {kind} | {len(group)} | {goal} | {as_text(mean)} | {as_text(worst)}{note} | "
                         f"{met}/{len(group)} | {'PASS' if ok else 'MISS'} |")
        shares = [r.in_dof for r in group if r.in_dof is not None]
        if shares and kind == "parked":
            lines.append(f"| {kind} | {len(group)} | (info) in DoF | {sum(shares) / len(shares) * 100:.1f} % | "
                         f"{min(shares) * 100:.1f} % | - | - |")
        if errors:
            lines.append(f"| {kind} | {len(group)} | runs that failed | - | - | {errors} | MISS |")
    return lines


def report(results: Sequence[Result], seeds: str, wall_s: float) -> str:
    media = sum(r.duration_s for r in results)
    lines = [f"Drive mode in closed loop on the virtual rig, seeds {seeds}: {len(results)} scenarios, "
             f"{media / 60:.1f} min of clips, {wall_s / 60:.1f} min to run", "",
             f"Sharp = the target's circle of confusion <= {COC_FULL_FRAME_MM} mm x sensor width / 36 mm. "
             f"'measured from': DoF shares and reversals count from the first sharp frame, or from "
             f"{GRACE_S:g} s if the target was not sharp by then (which one is shown per scenario). "
             f"The {DOF_GOAL * 100:g} % in-DoF goal (stated for walks up to 1.5 m/s) is applied to every kind "
             f"but parked, whose target moves at most that fast too; on steps the jump and its "
             f"{SETTLE_GOAL_S:g} s to settle are left out of the share. "
             f"Non-target frames count from {GRACE_S:g} s. Overshoot: beyond the target's new depth, "
             f"from the jump's start to {OVERSHOOT_WINDOW_S:g} s after its end, in dioptres and in DoF half-widths. "
             f"Held sharp: first sharp and staying so for {HELD_S:g} s.", "", TABLE_HEAD]
    lines += [row_text(r) for r in results]
    lines += ["", *kind_summary(results)]
    warned = [r for r in results if r.warnings]
    if warned:
        lines += ["", "Scenario warnings (the rig broke the scenario's own rules; the scores above still count):"]
        lines += [f"- seed {r.seed} ({r.kind}): {'; '.join(r.warnings)}" for r in warned]
    passed = sum(r.passed for r in results)
    lines += ["", f"{passed}/{len(results)} scenarios met every goal of their kind"]
    return "\n".join(lines)


def progress_line(i: int, total: int, r: Result, elapsed: float) -> str:
    what = [f"DoF {r.in_dof * 100:.1f}%" if r.in_dof is not None else "DoF -", f"non-target {r.non_target}"]
    what += [f"{c.goal}: {_fmt(c.value, '.3g', 'never')}" for c in r.checks
             if not c.goal.startswith("0 frames") and not c.percent]
    verdict = "ERROR " + (r.error or "") if r.error else ("PASS" if r.passed else "MISS")
    return (f"[{i:>3}/{total}] seed {r.seed} {r.kind:<10} {r.variant:<8} {r.duration_s:4.1f} s clip in "
            f"{r.wall_s:5.1f} s  {', '.join(what)}  {verdict}   ({elapsed:.0f} s elapsed)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=HELD_OUT_SEEDS, type=seed_range,
                        help=f"FIRST-LAST (default {HELD_OUT_SEEDS}, held out; tune on {TUNING_SEEDS})")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help=f"only these kinds, comma-separated (default all: {','.join(KINDS)})")
    parser.add_argument("--workers", type=int, default=2,
                        help="CLI runs at a time (default 2; each runs in real time, so keep it <= cores)")
    parser.add_argument("--details", type=Path, metavar="OUT.json",
                        help="write every scenario's metrics, checks and file paths here")
    args = parser.parse_args(argv)
    kinds = set(args.kinds.split(","))
    if not kinds <= set(KINDS):
        parser.error(f"--kinds: unknown {', '.join(sorted(kinds - set(KINDS)))}; choose from {', '.join(KINDS)}")
    seeds = [s for s in args.seeds if KINDS[s % len(KINDS)] in kinds]
    seeds_text = f"{args.seeds[0]}-{args.seeds[-1]}"
    if not seeds:
        parser.error("no seed in that range has one of those kinds")
    assets = AssetLibrary()
    scenarios = {s: generate(s, assets) for s in seeds}
    started = time.monotonic()
    results: list[Result] = []
    pool = ThreadPoolExecutor(max_workers=max(1, args.workers))  # threads only wait on the CLI processes
    try:
        futures = [pool.submit(run_and_score, sc, CACHE / "runs" / str(seed)) for seed, sc in scenarios.items()]
        for i, future in enumerate(as_completed(futures), 1):
            result = future.result()
            results.append(result)
            print(progress_line(i, len(futures), result, time.monotonic() - started), file=sys.stderr, flush=True)
    finally:
        pool.shutdown(cancel_futures=True)  # on Ctrl-C, start no more runs (running ones get the signal too)
    results.sort(key=lambda r: r.seed)
    if args.details:
        args.details.write_text(json.dumps([{**asdict(r), "passed": r.passed,
                                             "run": str(CACHE / "runs" / str(r.seed)),
                                             "scene": str(scene_file(scenarios[r.seed]))} for r in results], indent=1))
    print(report(results, seeds_text, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
