"""The sensor and encoder: a composited picture to a BGR uint8 frame (gain, sensor noise, JPEG compression)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from assistant.sim.scene import Scene

NOISE_POOL = 6
"""Distinct sensor-noise frames, cycled (drawing fresh noise each frame costs ~30 ms)."""


class Sensor:
    """Turns one scene's composited pictures into frames: flicker and exposure steps scale, noise, then JPEG."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        rng = np.random.default_rng(scene.seed)
        w, h = scene.camera.width, scene.camera.height
        self._noise = [
            np.round(rng.normal(0.0, scene.noise_sigma, (h, w, 3))).astype(np.int16) for _ in range(NOISE_POOL)
        ] if scene.noise_sigma > 0 else []

    def develop(self, canvas: np.ndarray, t: float, index: int = 0) -> np.ndarray:
        """The BGR uint8 frame at time ``t`` (frame ``index`` picks the noise) from a float32 picture >= 0."""
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
        return frame
