"""``--source sim``: the virtual rig as a frame source."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from assistant.optics import dof_half_width_dpt
from assistant.sim.assets import AssetLibrary
from assistant.sim.lens import SimLens
from assistant.units import to_metres
from assistant.sim.renderer import Renderer
from assistant.sim.truth import LayerTruth
from assistant.sim.scene import Scene, load_scene
from assistant.types import Frame


ACCEPTABLE_COC_MM = 0.025
"""Circle of confusion that still looks sharp on the rig's sensor (about 1.3 px at 720p)."""


class SimSource:
    """Renders the scene frame by frame at media time ``index / fps``.

    Focus follows the scene's focus script until a driver commands
    ``lens.move_to``; from then on the lens moves at its finite speed.
    """

    live = False

    def __init__(self, scene: Scene, assets: AssetLibrary | None = None, max_frames: int | None = None) -> None:
        self.scene = scene
        self._assets = assets or AssetLibrary()
        self.renderer = Renderer(scene, self._assets)
        spec = scene.lens
        self.lens = SimLens(spec.focus_m, spec.near_limit_m, spec.far_limit_m, spec.max_speed_dpt_s)
        self.fps = scene.camera.fps
        self.hfov_deg = scene.camera.thin_lens().hfov_deg
        self.description = f"sim:{scene.name}"
        self._index = 0
        self._end = None if scene.loop else scene.frame_count
        self.truth: tuple[LayerTruth, ...] = ()
        self.dof_dpt = _dof_half_width_dpt(scene)
        self.focus_readout: Callable[[], float | None] | None = None
        """An outside focus driver the rig follows (``--driver`` on the rig): its position in dioptres."""

    @classmethod
    def from_file(cls, path: Path) -> "SimSource":
        return cls(load_scene(path))

    def place_layer(self, name: str, distance_m: float, frame_share: float | None = None) -> None:
        """Stand layer ``name`` still at ``distance_m`` (``calibrate`` holding its chart at each distance).

        ``frame_share`` sizes it to that share of the frame's width, as a person
        fills the middle of the picture with a chart at any distance.
        """
        if not any(layer.name == name for layer in self.scene.layers):
            raise ValueError(f"the scene {self.scene.name!r} has no layer {name!r}")
        width = None
        if frame_share is not None:
            width = frame_share * 2.0 * distance_m * math.tan(math.radians(self.hfov_deg) / 2.0)
        layers = tuple(replace(layer, distance_m=distance_m, motion=(), width_m=width or layer.width_m)
                       if layer.name == name else layer for layer in self.scene.layers)
        self.scene = replace(self.scene, layers=layers)
        self.renderer = Renderer(self.scene, self._assets)

    @property
    def media_t(self) -> float:
        """Media time of the last frame read (the clock for the rig lens's slew limit)."""
        return max(0, self._index - 1) / self.fps

    @property
    def focus_m(self) -> float:
        """Where the lens is focused now, in metres."""
        return to_metres(self.lens.position())

    def read(self) -> Frame | None:
        """The next frame, or None when a non-looping scene has ended."""
        if self._end is not None and self._index >= self._end:
            return None
        t = self._index / self.fps
        script_t = t % self.scene.duration_s if self.scene.loop else t
        if self._index > 0:
            self.lens.advance(1.0 / self.fps)
        outside = self.focus_readout() if self.focus_readout is not None else None
        if outside is not None:
            self.lens.move_to(outside)  # the rig's glass is where the outside driver says
            self.lens.set_position(outside)
        scripted = self.scene.scripted_focus_dpt(script_t)
        if scripted is not None and not self.lens.driven:
            self.lens.set_position(scripted)
        image, self.truth = self.renderer.render(script_t, self.lens.position(), self._index)
        frame = Frame(image, t, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        """Nothing to release; present for the source interface."""


def _dof_half_width_dpt(scene: Scene) -> float:
    """The rig's depth of field on each side of focus, in dioptres, for the focus bar."""
    lens = scene.camera.thin_lens()
    return dof_half_width_dpt(lens.focal_length_mm, lens.f_number, ACCEPTABLE_COC_MM)
