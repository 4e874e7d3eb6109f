"""Per-region sharpness: exposure-normalised variance of the Laplacian.

One Laplacian per frame feeds the tile grid and the focus-peaking mask. Tiles
are reduced in one ``cv2.reduce`` pass per quantity (sum, sum of squares,
brightness), never a Python loop over tiles; subject boxes get their own small
Laplacian at full resolution.

Exposure: a global gain ``g`` scales the Laplacian by ``g`` and the mean grey
level by ``g``, so ``var(L) / mean(grey)^2`` does not change with exposure.
Dark regions (mean below ``exposure_floor``) use the floor instead, so black
areas do not read as infinitely sharp noise.

Analysis resolution: for the tile grid (and peaking), frames wider than
``analysis_width`` are first reduced by an integer factor with area averaging
(1280 -> 640, 1920 -> 960: the smallest whole factor that fits). That cuts the cost several times over and keeps
the measure monotonic in blur; the price is that a tile does not resolve blur
below two or three source pixels. Subject boxes are always measured at full
resolution (their own small Laplacian), because a subject's focus is what
the engine judges. Set ``analysis_width`` to the frame width for full-resolution
tiles. Frames wider than 1920 start from their overview (``assistant.scale``:
a bilinear quarter of 4K, shared with the cut detector and the face search),
reduced by area the rest of the way if ``analysis_width`` asks for less: one
bilinear 4:1 step costs ~2 ms where halving twice cost ~4.5 ms and one 4:1
area step 12-20 ms. It averages 4 of every 16 pixels instead of all 16, so a
4K tile keeps some detail beyond the grid's resolution and reads sharper than
the same scene at 1080p; the grid's labels come from changes of a tile's
sharpness over time, which that does not move.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from assistant.scale import overview as whole_overview, overview_factor
from assistant.types import Box, SharpnessMap


class SharpnessMeter:
    """Measures a :class:`SharpnessMap` from BGR frames (one verb: ``measure``)."""

    def __init__(
        self,
        grid: tuple[int, int] = (9, 16),
        exposure_floor: float = 8.0,
        analysis_width: int = 960,
    ) -> None:
        rows, cols = grid
        if rows < 1 or cols < 1:
            raise ValueError(f"the tile grid needs at least 1x1 tiles, got {rows}x{cols}")
        if exposure_floor <= 0:
            raise ValueError(f"exposure_floor must be > 0, got {exposure_floor}")
        if analysis_width < 16:
            raise ValueError(f"analysis_width must be >= 16 pixels, got {analysis_width}")
        self.grid = (rows, cols)
        self.exposure_floor = float(exposure_floor)
        self.analysis_width = int(analysis_width)
        self._scratch: dict[str, np.ndarray] = {}

    def reduction(self, width: int) -> int:
        """The integer factor a frame of ``width`` pixels is reduced by before analysis."""
        return max(1, -(-width // self.analysis_width))  # ceil: 1280 -> 2, 1920 -> 2, 3840 -> 4

    def measure(self, image: np.ndarray, boxes: Sequence[Box] = (),
                overview: tuple[np.ndarray, int] | None = None) -> SharpnessMap:
        """Sharpness of every tile and of each box (boxes in full-frame pixels).

        ``overview`` is the picture's overview and its factor (``Frame.overview``, shared with other
        stages); without it the meter makes the same one.
        """
        height, width = image.shape[:2]
        rows, cols = self.grid
        k = self.reduction(width)
        grey = self._analysis_grey(image, k, overview)
        ah, aw = grey.shape
        if ah < 3 * rows or aw < 3 * cols:
            raise ValueError(
                f"a {width}x{height} frame is too small for a {cols}x{rows} tile grid; use fewer tiles"
            )
        lap = cv2.Laplacian(grey, cv2.CV_16S)  # a new array: the map keeps it for focus peaking
        squares = cv2.multiply(lap, lap, dst=self._buffer("squares", lap.shape, np.float32), dtype=cv2.CV_32F)
        tiles = _region_sharpness(
            _tile_means(lap, rows, cols),
            _tile_means(squares, rows, cols),
            _tile_means(grey, rows, cols),
            self.exposure_floor,
        )
        tile_size = (aw * k / cols, ah * k / rows)
        box_values = tuple(self._box_sharpness(image, box) for box in boxes)
        return SharpnessMap(tiles=tiles, boxes=box_values, tile_size=tile_size, laplacian=lap)

    def _analysis_grey(self, image: np.ndarray, k: int, overview: tuple[np.ndarray, int] | None) -> np.ndarray:
        """The frame reduced by ``k`` and made grey, in reused buffers: from its overview when ``k`` is a
        multiple of the overview's factor (frames wider than 1080p), the rest of the way by area."""
        small, factor = overview if overview is not None else (None, overview_factor(image.shape[1]))
        if factor > 1 and k % factor == 0:
            image, k = (whole_overview(image) if small is None else small), k // factor
        if k > 1:
            h, w = image.shape[:2]
            small = self._buffer("small", (h // k, w // k, 3), np.uint8)
            image = cv2.resize(image, (w // k, h // k), dst=small, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY, dst=self._buffer("grey", image.shape[:2], np.uint8))

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """A working array kept between frames: fresh megabyte-sized arrays every frame cost page faults
        that take longer than the arithmetic on them."""
        buffer = self._scratch.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._scratch[name] = np.empty(shape, dtype)
        return buffer

    def _box_sharpness(self, image: np.ndarray, box: Box) -> float:
        """A subject box at full resolution: its own Laplacian on the box and a one-pixel rim.

        Boxes are small (faces), so this costs little, and a subject's focus is
        judged on every pixel the camera gave even when the tiles are reduced.
        """
        height, width = image.shape[:2]
        x, y, w, h = box
        x0, y0, x1, y1 = max(0, x - 1), max(0, y - 1), min(width, x + w + 1), min(height, y + h + 1)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return 0.0
        grey = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
        lap = cv2.Laplacian(grey, cv2.CV_16S)[1:-1, 1:-1]  # the rim only feeds the edge pixels
        _, std_l = cv2.meanStdDev(lap)
        brightness = max(cv2.mean(grey[1:-1, 1:-1])[0], self.exposure_floor)
        return float(std_l[0, 0]) ** 2 / (brightness * brightness)


def naive_tile_sharpness(image: np.ndarray, grid: tuple[int, int] = (9, 16)) -> np.ndarray:
    """The textbook per-tile loop, ``cv2.Laplacian(tile).var()``: the benchmark's baseline."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    rows, cols = grid
    th, tw = grey.shape[0] // rows, grey.shape[1] // cols
    out = np.empty(grid)
    for r in range(rows):
        for c in range(cols):
            out[r, c] = cv2.Laplacian(grey[r * th:(r + 1) * th, c * tw:(c + 1) * tw], cv2.CV_64F).var()
    return out


def peaking_mask(lap: np.ndarray, share: float) -> np.ndarray:
    """Mask (uint8, 255 = lit) of the ``share`` of pixels with the strongest Laplacian response.

    The threshold adapts to each frame, so peaking lights roughly the same
    share of pixels on a busy scene and on a plain one.
    """
    if not 0.0 < share < 1.0:
        raise ValueError(f"peaking share must be between 0 and 1, got {share}")
    magnitude = np.abs(lap)
    # The Laplacian is whole numbers, so soft pictures have many ties at any threshold:
    # pick the threshold whose lit share (ties included) comes closest to ``share``.
    sample = magnitude[::4, ::4].ravel()
    lit_at_or_above = np.cumsum(np.bincount(sample)[::-1])[::-1] / sample.size
    threshold = max(1, int(np.argmin(np.abs(lit_at_or_above - share))))
    return cv2.compare(magnitude, threshold, cv2.CMP_GE)


def _tile_means(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Mean of each tile.

    When the tiles divide the picture exactly (960x540 into 16x9, 640x360 too),
    each picture row is cut into ``cols`` runs and ``cv2.reduce`` sums every run
    in one pass; the per-tile sums of those row sums are then a small numpy
    reduction. Otherwise area interpolation averages the (fractional) tiles.
    """
    height, width = values.shape
    if height % rows or width % cols:  # in float: resizing integers would round each tile's mean
        return cv2.resize(values.astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float64)
    tile_h, tile_w = height // rows, width // cols
    runs = cv2.reduce(np.ascontiguousarray(values).reshape(height * cols, tile_w), 1, cv2.REDUCE_SUM,
                      dtype=RUN_SUM_DEPTH.get(values.dtype.type, cv2.CV_64F))
    return runs.reshape(rows, tile_h, cols).sum(axis=1, dtype=np.float64) / (tile_h * tile_w)


RUN_SUM_DEPTH = {np.uint8: cv2.CV_32S, np.int16: cv2.CV_32F}
"""Accumulators OpenCV's reduce is fast in, and exact for a run's sum (up to 8000 values of the largest Laplacian, 2040)."""


def _region_sharpness(mean_l: np.ndarray, mean_l2: np.ndarray, mean_grey: np.ndarray, floor: float) -> np.ndarray:
    variance = np.maximum(mean_l2 - mean_l * mean_l, 0.0)
    brightness = np.maximum(mean_grey, floor)
    return variance / (brightness * brightness)
