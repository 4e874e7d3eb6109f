"""Plugin frame sources that deliver awkward frames, for the bad-input table (tests/test_bad_inputs.py)."""

from __future__ import annotations

import numpy as np


class Frames:
    """Delivers ``count`` copies of a textured frame shaped by ``make``; then ends."""

    live = False
    fps = 30.0

    def __init__(self, make, count: int = 6) -> None:
        self.make = make
        self.left = count

    def read(self):
        if self.left == 0:
            return None
        self.left -= 1
        return self.make()


def _texture(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(height * width).integers(0, 255, (height, width), dtype=np.uint8)


def grey():
    return Frames(lambda: _texture(480, 640))


def sixteen_bit():
    return Frames(lambda: (_texture(480, 640).astype(np.uint16) * 257))


def odd_sized():
    return Frames(lambda: np.dstack([_texture(479, 641)] * 3))


def empty():
    return Frames(lambda: np.zeros((0, 0, 3), np.uint8))


def floats():
    return Frames(lambda: np.zeros((480, 640, 3), np.float64))


def tiny():
    return Frames(lambda: np.dstack([_texture(6, 8)] * 3))


def no_fps():
    source = Frames(lambda: np.dstack([_texture(480, 640)] * 3))
    source.fps = None  # the plugin does not know its rate
    return source


def crashing():
    """A plugin with a bug: read() raises. That must surface as a traceback, never be silenced."""
    return Frames(lambda: 1 / 0)
