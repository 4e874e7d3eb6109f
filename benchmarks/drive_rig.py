"""The virtual rig as a ``--source``/``--driver`` plugin pair, for testing drive mode from outside.

``focus-assistant live --source drive_rig:source --driver drive_rig:driver``
(with ``benchmarks/`` on ``PYTHONPATH``) runs the real command line against
the virtual rig through the public plugin contract (DESIGN.md, "Contracts
other tools rely on"): the assistant sees only pictures and a dioptre motor,
exactly as with a third-party camera and lens, while the rig writes what
really happened to a truth file, one JSON line per frame.

Set by environment variables, since factories take no arguments:

- ``FOCUS_DRIVE_SCENARIO``: the scene file (``docs/scenes.md``), required;
- ``FOCUS_DRIVE_TRUTH``: where to write the per-frame truth (optional);
- ``FOCUS_DRIVE_TARGET``: the layer that should be sharp, copied into each
  truth line (optional).

Truth line: ``{"frame", "t", "focus_dpt", "commanded_dpt", "target",
"people": [{"name", "label", "distance_m", "face_box", "face_visible",
"coc_px"}]}``; ``focus_dpt`` is where the lens was when the frame was
rendered, ``commanded_dpt`` the last ``move_to`` (null before any).

Global state: the contract calls ``source()`` and ``driver()`` separately
with no arguments, yet both must act on one lens. :data:`_RIGS` holds the
rig per settings between those two calls; closing the source removes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from assistant.sim.scene import load_scene
from assistant.sim.source import SimSource

SCENARIO_ENV = "FOCUS_DRIVE_SCENARIO"
TRUTH_ENV = "FOCUS_DRIVE_TRUTH"
TARGET_ENV = "FOCUS_DRIVE_TARGET"


@dataclass(frozen=True)
class RigSettings:
    """Which scene to play, where its truth goes and who should be sharp."""

    scenario: Path
    truth: Path | None = None
    target: str | None = None

    @classmethod
    def from_environment(cls) -> "RigSettings":
        """Read the settings from the environment; a missing scenario is the user's to fix."""
        scenario = os.environ.get(SCENARIO_ENV)
        if not scenario:
            raise ValueError(f"set {SCENARIO_ENV}=/path/to/scene.toml (see docs/scenes.md)")
        truth = os.environ.get(TRUTH_ENV)
        return cls(Path(scenario), Path(truth) if truth else None, os.environ.get(TARGET_ENV) or None)


class DriveRig:
    """One scene, one lens, one truth file: shared by the source and the driver."""

    def __init__(self, settings: RigSettings) -> None:
        self.settings = settings
        self.sim = SimSource(load_scene(settings.scenario))
        names = [layer.name for layer in self.sim.scene.layers]
        if settings.target is not None and settings.target not in names:
            raise ValueError(f"{TARGET_ENV}={settings.target}: the scene has no such layer; layers: {', '.join(names)}")
        self.commanded: float | None = None
        self._truth: IO[str] | None = None
        if settings.truth is not None:
            settings.truth.parent.mkdir(parents=True, exist_ok=True)
            self._truth = open(settings.truth, "w", encoding="utf-8")

    def read(self) -> tuple[np.ndarray, float] | None:
        """Render the next frame (the lens first moves 1/fps toward its command) and log its truth."""
        frame = self.sim.read()
        if frame is None:
            return None
        if self._truth is not None:
            self._truth.write(json.dumps(self._truth_line(frame.index, frame.t)) + "\n")
            self._truth.flush()  # a run stopped half-way still leaves its frames scored
        return frame.image, frame.t

    def _truth_line(self, index: int, t: float) -> dict:
        people = [{"name": layer.name, "label": layer.label, "distance_m": round(layer.distance_m, 5),
                   "face_box": list(layer.face_box) if layer.face_box is not None else None,
                   "face_visible": layer.face_visible, "coc_px": round(layer.coc_px, 3)}
                  for layer in self.sim.truth if layer.kind == "person"]
        return {"frame": index, "t": round(t, 6), "focus_dpt": round(self.sim.lens.position(), 6),
                "commanded_dpt": None if self.commanded is None else round(self.commanded, 6),
                "target": self.settings.target, "people": people}

    def close(self) -> None:
        if self._truth is not None:
            self._truth.close()
            self._truth = None
        _RIGS.pop(self.settings, None)


_RIGS: dict[RigSettings, DriveRig] = {}
"""The rig the source and the driver of one run share (see the module docstring)."""


def shared_rig() -> DriveRig:
    """The rig for the current environment, made on first use by either factory."""
    settings = RigSettings.from_environment()
    if settings not in _RIGS:
        _RIGS[settings] = DriveRig(settings)
    return _RIGS[settings]


class RigSource:
    """The plugin source: frames with their own media times, every one delivered (``live = False``)."""

    live = False

    def __init__(self, rig: DriveRig) -> None:
        self.rig = rig
        self.fps = rig.sim.fps
        self.hfov_deg = rig.sim.hfov_deg  # informative: the plugin adapter does not pass it on (use --hfov)

    def read(self) -> tuple[np.ndarray, float] | None:
        return self.rig.read()

    def close(self) -> None:
        self.rig.close()


class RigDriver:
    """The plugin driver: the rig's lens, in dioptres, with its limits and top speed."""

    units = "dioptres"

    def __init__(self, rig: DriveRig) -> None:
        self.rig = rig
        self.limits = tuple(rig.sim.lens.limits)
        self.max_speed = rig.sim.lens.max_speed

    def move_to(self, value: float) -> None:
        """Command the lens; it gets there at its own speed, 1/fps per frame read."""
        self.rig.sim.lens.move_to(value)
        self.rig.commanded = float(value)

    def position(self) -> float:
        return self.rig.sim.lens.position()

    def close(self) -> None:
        """The source owns the rig and closes it; nothing to release here."""


def source() -> RigSource:
    """``--source drive_rig:source``."""
    return RigSource(shared_rig())


def driver() -> RigDriver:
    """``--driver drive_rig:driver``."""
    return RigDriver(shared_rig())
