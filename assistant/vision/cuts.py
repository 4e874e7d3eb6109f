"""Shot-cut detection: tells the first frame of a new shot from everything that is not a cut.

Why: the tracker and the focus state carry history from frame to frame; across
a cut into another shot that history is wrong (a subject keeps its ID in a
picture it is not in). A cut changes the *whole* picture at once. What is not a
cut changes it gradually (pans, focus racks, people walking through), only in
brightness (exposure steps, flicker), or only a little (noise, jitter).

How, cheaply (a few tenths of a millisecond at 1080p): each frame is shrunk to
a small grey thumbnail and compared with the previous frame's by
- structure: 1 - the best correlation of the previous thumbnail's middle
  within a few pixels of shift, mean and contrast removed (a gain does not
  count; the shift search forgives pans and hand-held jitter);
- layout: the mean difference of a coarse grid of cells (16 x 9), after the
  previous grid is given the current grid's tones rank for rank, so no change
  of exposure counts, clipping included; the coarse cells ignore noise, fine
  texture and aliasing, and see where the bright and dark masses are.
Their weighted sum must be large in absolute terms *and* a spike: at least
twice the largest change of the last second, so a sustained high level (a
rack, a big subject walking close by, a pan) never fires. And the change must
be everywhere: most of the thumbnail's 12 blocks must lose their correlation
with the same block a frame ago (``min_block_share``). A person turning away
in one frame, or a face covered, changes a block or two; a cut changes them
all (on 870 joins of generated clips the fewest was two thirds of them).

Shots that share their framing (the same face at the same place and size over
the same backdrop) are not told apart: nothing in the picture changes enough.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from assistant.schema import check_limits, limits


@dataclass(frozen=True)
class CutConfig:
    """How different a frame must be from the one before to start a new shot.

    The defaults come from generated rig clips (seeds 0-99, every effect;
    at 960 x 540 through mp4v, and rendered at 1920 x 1080): no frame inside
    a clip passes both tests (the largest spike inside one, an exposure step,
    scores 0.29), while 99.9 % of the 9,900 joins between two of them do (1 %
    score below 0.76; the misses are the same photo at the same place over
    the same backdrop).
    """

    thumb_width: int = field(default=64, metadata=limits(lo=16, hi=256))
    thumb_height: int = field(default=36, metadata=limits(lo=9, hi=256))
    cell_px: int = field(default=4, metadata=limits(lo=1, hi=16))
    """Thumbnail pixels per side of a layout cell (4: a 16 x 9 grid)."""
    max_shift: int = field(default=4, metadata=limits(lo=0, hi=16))
    """Thumbnail pixels a frame may move against the last one and still match (pans, shake)."""
    layout_weight: float = field(default=6.0, metadata=limits(lo=0.0, hi=100.0))
    """Weight of the layout difference against the structure one (the layout's range is ~6x smaller)."""
    min_score: float = field(default=0.4, metadata=limits(lo=0.0, hi=10.0))
    """A change below this is never a cut, however calm the footage was."""
    spike_ratio: float = field(default=2.0, metadata=limits(lo=1.0, hi=100.0))
    """A cut's change is at least this many times the largest recent one."""
    window_s: float = field(default=1.0, metadata=limits(lo=0.05, hi=30.0))
    """How far back the recent frame-to-frame changes are remembered."""
    min_block_share: float = field(default=0.5, metadata=limits(lo=0.0, hi=1.0))
    """A cut decorrelates at least this share of the thumbnail's blocks (a local change is no cut)."""
    min_shot_s: float = field(default=0.1, metadata=limits(lo=0.0, hi=10.0))
    """No second cut within this time of the last one (one cut is never flagged twice)."""

    def __post_init__(self) -> None:
        check_limits(self)
        if self.thumb_width % self.cell_px or self.thumb_height % self.cell_px:
            raise ValueError(f"cell_px: {self.cell_px} must divide the thumbnail size "
                             f"{self.thumb_width} x {self.thumb_height}")


@dataclass(frozen=True)
class CutScore:
    """How one frame differs from the one before, and what that was weighed against."""

    t: float
    structure: float
    layout: float
    score: float
    recent: float  # the largest non-cut score within the window before this frame
    cut: bool


@dataclass(frozen=True)
class _Thumb:
    grey: np.ndarray  # float32, thumb_height x thumb_width
    cells: np.ndarray  # float32 layout grid, divided by its mean


class CutDetector:
    """Flags the first frame of each new shot (one verb: ``update``)."""

    def __init__(self, config: CutConfig = CutConfig()) -> None:
        self.config = config
        self._previous: _Thumb | None = None
        self._recent: deque[tuple[float, float]] = deque()  # (t, score) of recent non-cut frames
        self._last_cut_t: float | None = None
        self._t: float | None = None
        self.last: CutScore | None = None
        """The last frame's comparison (None after the first frame), for tuning and plots."""

    def update(self, image_bgr: np.ndarray, t: float) -> bool:
        """True when ``image_bgr`` (taken at ``t``) is the first frame of a new shot.

        The very first frame has nothing to compare with and is not flagged.
        """
        if self._t is not None and t < self._t:
            raise ValueError(f"frames must come in time order ({t} after {self._t})")
        self._t = t
        thumb = _thumb(image_bgr, self.config)
        previous, self._previous = self._previous, thumb
        if previous is None:
            self.last = None
            return False
        structure, layout = _compare(previous, thumb, self.config.max_shift)
        score = structure + self.config.layout_weight * layout
        recent = self._recent_max(t)
        cut = self._is_cut(score, recent, t) and _decorrelated_share(previous.grey, thumb.grey) >= \
            self.config.min_block_share
        self.last = CutScore(t, structure, layout, score, recent, cut)
        if cut:
            self._last_cut_t = t
        else:
            self._recent.append((t, score))  # a cut is not part of either shot's level
        return cut

    def _recent_max(self, t: float) -> float:
        while self._recent and self._recent[0][0] < t - self.config.window_s:
            self._recent.popleft()
        return max((s for _, s in self._recent), default=0.0)

    def _is_cut(self, score: float, recent: float, t: float) -> bool:
        cfg = self.config
        if self._last_cut_t is not None and t - self._last_cut_t < cfg.min_shot_s:
            return False
        return score >= cfg.min_score and score >= cfg.spike_ratio * recent


def _thumb(image: np.ndarray, cfg: CutConfig) -> _Thumb:
    grey = _grey_thumbnail(image, cfg.thumb_width, cfg.thumb_height)
    size = (cfg.thumb_width // cfg.cell_px, cfg.thumb_height // cfg.cell_px)
    cells = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return _Thumb(grey, cells / max(float(cells.mean()), 1.0))


def _grey_thumbnail(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """A small float32 grey copy, averaged rather than sampled so noise and fine texture cancel.

    Area-averaging a whole 1080p frame costs milliseconds; a bilinear step to
    four times the thumbnail first costs a tenth of that and still averages
    each thumbnail pixel over dozens of samples.
    """
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or image.shape[0] < 1 or image.shape[1] < 1 or (
            image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(f"expected a BGR or grey image, got an array of shape {image.shape}")
    h, w = image.shape[:2]
    if w > 4 * width and h > 4 * height:
        image = cv2.resize(image, (4 * width, 4 * height), interpolation=cv2.INTER_LINEAR)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)


def _compare(a: _Thumb, b: _Thumb, max_shift: int) -> tuple[float, float]:
    """(structure, layout) differences from ``a`` to ``b``, both 0 for the same picture."""
    structure = 1.0 - _best_correlation(a.grey, b.grey, max_shift)
    layout = float(np.abs(_match_tones(a.cells, b.cells) - b.cells).mean())
    return max(0.0, structure), layout


def _match_tones(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``values`` given ``reference``'s tones, rank for rank (histogram matching).

    Any change of exposure keeps the order of the cells' brightness, clipping
    included (clipped cells only tie), so matching removes it whole; what is
    left is where bright and dark cells moved. Tied cells share the mean of
    the tones their ranks take, so a clipped patch stays flat.
    """
    flat = values.ravel()
    order = np.argsort(flat, kind="stable")
    ranked = flat[order]
    group = np.cumsum(np.concatenate(([True], ranked[1:] != ranked[:-1]))) - 1
    tones = np.bincount(group, weights=np.sort(reference.ravel())) / np.bincount(group)
    matched = np.empty(flat.size, dtype=np.float64)
    matched[order] = tones[group]
    return matched.reshape(values.shape)


def _best_correlation(previous: np.ndarray, current: np.ndarray, max_shift: int) -> float:
    """Best mean-removed, contrast-normalised correlation of ``previous``'s middle within ``current``.

    A flat picture has no structure to compare and counts as a match; the
    layout term still sees a cut to or from a flat picture.
    """
    h, w = previous.shape
    s = min(max_shift, (h - 2) // 2, (w - 2) // 2)
    middle = previous[s:h - s, s:w - s]
    if float(middle.std()) < 1.0 or float(current.std()) < 1.0:
        return 1.0
    return float(cv2.matchTemplate(current, middle, cv2.TM_CCOEFF_NORMED).max())


BLOCK_PX = (16, 12)
"""Thumbnail block (width, height) for the spread test: a 64 x 36 thumbnail has 4 x 3 of them."""
DECORRELATED = 0.5
"""A block whose correlation with the same block a frame ago is below this has changed."""


def _decorrelated_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the thumbnail's textured blocks whose content changed (correlation below ``DECORRELATED``)."""
    bw, bh = BLOCK_PX
    rows, cols = a.shape[0] // bh, a.shape[1] // bw
    if rows == 0 or cols == 0:
        return 1.0

    def blocks(image: np.ndarray) -> np.ndarray:
        return image[:rows * bh, :cols * bw].reshape(rows, bh, cols, bw).transpose(0, 2, 1, 3).reshape(
            rows * cols, bh * bw)

    xa, xb = blocks(a), blocks(b)
    xa = xa - xa.mean(axis=1, keepdims=True)
    xb = xb - xb.mean(axis=1, keepdims=True)
    sa, sb = np.sqrt((xa * xa).sum(axis=1)), np.sqrt((xb * xb).sum(axis=1))
    textured = (sa > 1.0) | (sb > 1.0)  # a flat block in both frames says nothing
    if not textured.any():
        return 1.0
    correlation = (xa * xb).sum(axis=1) / np.maximum(sa * sb, 1e-6)
    return float((correlation[textured] < DECORRELATED).mean())
