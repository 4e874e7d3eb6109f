"""Clips with nobody in them: textures, props and posters panned and zoomed by the rig.

Any subject found in one is a false one. The photographs are the rig's
public-domain props and backdrops (brick, gravel, a rocket launch, a coffee
cup, a cat): walls and facades fill the frame, props stand in front at
their own distances, and the camera pans, shakes and breathes (a zoom-like
change of scale with focus) while focus sits somewhere in the range.
A seed always gives the same clip.
"""

from __future__ import annotations

import random

from assistant.sim.scene import CameraEffects, CameraSpec, LayerSpec, LensSpec, PanKey, Scene

BACKDROPS = ("brick", "gravel", "rocket")
PROPS = ("coffee", "chelsea", "rocket", "brick", "gravel")
DURATION_S = 15.0


def empty_scene(seed: int, width: int = 960, height: int = 540) -> Scene:
    """A ``DURATION_S`` clip with no person in it, drawn from ``seed``."""
    rng = random.Random(seed)
    camera = CameraSpec(focal_length_mm=rng.choice((24.0, 35.0, 50.0, 85.0)), f_number=rng.choice((1.8, 2.8, 4.0)),
                        sensor_width_mm=rng.choice((24.9, 36.0)), width=width, height=height, fps=30.0)
    backdrop = LayerSpec(name="backdrop", asset=rng.choice(BACKDROPS), fill=True,
                         distance_m=round(rng.uniform(4.0, 15.0), 2))
    props = tuple(
        LayerSpec(name=f"prop{i}", asset=rng.choice(PROPS), distance_m=round(rng.uniform(0.8, 3.5), 2),
                  x=round(rng.uniform(0.1, 0.9), 3), y=round(rng.uniform(0.2, 0.8), 3),
                  width_m=round(rng.uniform(0.2, 1.2), 2))
        for i in range(rng.randint(0, 3))
    )
    t0 = rng.uniform(0.5, 5.0)
    pan = (PanKey(t=round(t0, 2), x=0.0, y=0.0),
           PanKey(t=round(min(DURATION_S - 0.5, t0 + rng.uniform(2.0, 8.0)), 2),
                  x=round(rng.uniform(-0.3, 0.3), 3), y=round(rng.uniform(-0.1, 0.1), 3), ease="s-curve"))
    effects = CameraEffects(pan=pan, jitter_px=round(rng.uniform(0.0, 3.0), 2),
                            breathing=round(rng.uniform(-0.02, 0.02), 4))
    focus_m = round(rng.uniform(0.8, 10.0), 2)
    return Scene(name=f"nobody-{seed}", layers=(backdrop, *props), duration_s=DURATION_S,
                 noise_sigma=round(rng.uniform(0.5, 4.0), 2), flicker=round(rng.uniform(0.0, 0.08), 3),
                 seed=seed, camera=camera, lens=LensSpec(focus_m=focus_m), effects=effects)
