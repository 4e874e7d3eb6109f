"""A rig scene rendered to a video file, for tests, benchmarks and trying ``analyze``/``qc`` on known truth."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import cv2

from assistant.sim.scene import Scene
from assistant.sim.source import SimSource


def write_clip(scene: Scene, path: Path, on_frame: Callable[[SimSource], None] | None = None,
               fourcc: str = "mp4v") -> int:
    """Render every frame of ``scene`` into ``path`` and return the frame count.

    Written under a temporary name and renamed, so a stopped render leaves no clip that looks whole;
    ``on_frame`` sees the source after each frame (its ``truth`` describes that frame).
    """
    source = SimSource(scene)
    camera = scene.camera
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter_fourcc(*fourcc), camera.fps, (camera.width, camera.height))
    if not writer.isOpened():
        raise OSError(f"cannot write {path} with the {fourcc!r} codec")
    frames = 0
    try:
        while (frame := source.read()) is not None:
            writer.write(frame.image)
            frames += 1
            if on_frame is not None:
                on_frame(source)
    finally:
        writer.release()
        source.close()
    os.replace(partial, path)
    return frames
