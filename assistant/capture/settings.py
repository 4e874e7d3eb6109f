"""Capture settings (``[source]`` and ``[camera]`` in the config): a leaf, so capture loads no other layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.schema import limits


@dataclass(frozen=True)
class SourceConfig:
    """How frames are captured from cameras and streams."""

    width: int = field(default=1280, metadata=limits(lo=16, hi=8192))
    height: int = field(default=720, metadata=limits(lo=16, hi=8192))
    fps: float = field(default=30.0, metadata=limits(lo=1.0, hi=240.0))
    watchdog_s: float = field(default=2.0, metadata=limits(lo=0.1, hi=60.0))


@dataclass(frozen=True)
class CameraConfig:
    """The camera's optics, for distance estimates (the rig knows its own)."""

    hfov_deg: float = field(default=60.0, metadata=limits(lo=1.0, hi=179.0))
