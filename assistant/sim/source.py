"""``--source sim``: the virtual rig as a frame source."""

from __future__ import annotations

from pathlib import Path

from assistant.sim.assets import AssetLibrary
from assistant.sim.lens import SimLens
from assistant.units import to_metres
from assistant.sim.renderer import LayerTruth, Renderer
from assistant.sim.scene import Scene, load_scene
from assistant.types import Frame


class SimSource:
    """Renders the scene frame by frame at media time ``index / fps``.

    Focus follows the scene's focus script until a driver commands
    ``lens.move_to``; from then on the lens moves at its finite speed.
    """

    live = False

    def __init__(self, scene: Scene, assets: AssetLibrary | None = None, max_frames: int | None = None) -> None:
        self.scene = scene
        self.renderer = Renderer(scene, assets)
        spec = scene.lens
        self.lens = SimLens(spec.focus_m, spec.near_limit_m, spec.far_limit_m, spec.max_speed_dpt_s)
        self.fps = scene.camera.fps
        self.hfov_deg = scene.camera.thin_lens().hfov_deg
        self.description = f"sim:{scene.name}"
        self._index = 0
        self._end = None if scene.loop else scene.frame_count
        self.truth: tuple[LayerTruth, ...] = ()

    @classmethod
    def from_file(cls, path: Path) -> "SimSource":
        return cls(load_scene(path))

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
        scripted = self.scene.scripted_focus_dpt(script_t)
        if scripted is not None and not self.lens.driven:
            self.lens.set_position(scripted)
        image, self.truth = self.renderer.render(script_t, self.lens.position(), self._index)
        frame = Frame(image, t, self._index)
        self._index += 1
        return frame

    def close(self) -> None:
        """Nothing to release; present for the source interface."""
