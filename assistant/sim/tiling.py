"""Periodic textures: a tile extended by wrapping, and a tile laid over an image at any phase."""

from __future__ import annotations

import cv2
import numpy as np


def wrap_pad(tile: np.ndarray, pad: int) -> np.ndarray:
    """``tile`` extended periodically by ``pad`` pixels on every side (pad may exceed the tile)."""
    th, tw = tile.shape[:2]
    if pad <= min(th, tw):
        return cv2.copyMakeBorder(tile, pad, pad, pad, pad, cv2.BORDER_WRAP)
    ky, kx = -(-pad // th), -(-pad // tw)
    big = np.tile(tile, (2 * ky + 1, 2 * kx + 1, 1))
    y0, x0 = ky * th - pad, kx * tw - pad
    return np.ascontiguousarray(big[y0:y0 + th + 2 * pad, x0:x0 + tw + 2 * pad])


def tile_into(dst: np.ndarray, tile: np.ndarray, sx: int, sy: int) -> None:
    """Fill ``dst`` with ``tile`` repeated, ``dst[0, 0]`` taking ``tile[sy % th, sx % tw]``."""
    th, tw = tile.shape[:2]
    h, w = dst.shape[:2]
    y, ty = 0, sy % th
    while y < h:
        rows = min(th - ty, h - y)
        x, tx = 0, sx % tw
        while x < w:
            cols = min(tw - tx, w - x)
            dst[y:y + rows, x:x + cols] = tile[ty:ty + rows, tx:tx + cols]
            x, tx = x + cols, 0
        y, ty = y + rows, 0
