"""Values that cross stage boundaries: frozen, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.scale import overview, overview_factor, patch

Box = tuple[int, int, int, int]
"""A pixel box ``(x, y, w, h)`` with the origin at the top-left corner."""


SUBJECT_LABELS = ("A", "B", "C", "D")
"""The labels an operator gives subjects (keys a-d, ``--subject``, racks, cue sheets)."""


@dataclass(frozen=True)
class Frame:
    """One picture from a source, with its media time in seconds."""

    image: np.ndarray
    t: float
    index: int
    _overview: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The overview once made (see ``overview``), by its factor."""

    def __post_init__(self) -> None:
        img = self.image
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            shape = getattr(img, "shape", None)
            dtype = getattr(img, "dtype", type(img).__name__)
            raise ValueError(f"a frame must be a BGR uint8 array of shape (H, W, 3), got {dtype} {shape}")
        if img.shape[0] < 2 or img.shape[1] < 2:
            raise ValueError(f"a frame must be at least 2x2 pixels, got {img.shape[1]}x{img.shape[0]}")
        if not np.isfinite(self.t) or self.t < 0:
            raise ValueError(f"a frame time must be a finite number of seconds >= 0, got {self.t}")
        if self.index < 0:
            raise ValueError(f"a frame index must be >= 0, got {self.index}")

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def overview(self) -> tuple[np.ndarray, int]:
        """The whole picture small enough to look at whole, and how much smaller it is: the picture itself up
        to 1080p, a bilinear quarter of 4K (``assistant.scale``); made once per frame. Treat it as read-only."""
        factor = overview_factor(self.width)
        if factor == 1:
            return self.image, 1
        made = self._overview.get(factor)
        if made is None:
            made = self._overview[factor] = overview(self.image)
        return made, factor

    def patch(self, box: Box, factor: int) -> tuple[np.ndarray, Box]:
        """The picture under ``box`` shrunk by ``factor`` (a power of two) by area, made from that box alone, and
        the box it covers in the shrunk picture's pixels (``assistant.scale.patch``)."""
        return patch(self.image, box, factor)


@dataclass(frozen=True)
class SharpnessMap:
    """Per-region sharpness of one frame.

    ``tiles`` is a (rows, cols) array of exposure-normalised Laplacian variance;
    ``boxes`` holds the same measure for each requested box, in request order.
    ``laplacian`` is the Laplacian (int16, at analysis resolution), kept for
    focus peaking; ``tile_size`` is (w, h) of one tile in frame pixels.
    """

    tiles: np.ndarray
    boxes: tuple[float, ...]
    tile_size: tuple[float, float]
    laplacian: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if self.tiles.ndim != 2:
            raise ValueError(f"tiles must be a 2-D grid, got shape {self.tiles.shape}")
        if self.laplacian.ndim != 2:
            raise ValueError(f"laplacian must be 2-D, got shape {self.laplacian.shape}")

    @property
    def grid(self) -> tuple[int, int]:
        """(rows, cols) of the tile grid."""
        return int(self.tiles.shape[0]), int(self.tiles.shape[1])

    def sharpest_tile(self) -> tuple[int, int]:
        """(row, col) of the sharpest tile."""
        row, col = np.unravel_index(int(np.argmax(self.tiles)), self.tiles.shape)
        return int(row), int(col)

    def tile_box(self, row: int, col: int) -> Box:
        """Pixel box of tile (row, col)."""
        tw, th = self.tile_size
        x0, y0 = round(col * tw), round(row * th)
        return (x0, y0, round((col + 1) * tw) - x0, round((row + 1) * th) - y0)


@dataclass(frozen=True)
class NoSignal:
    """A live source has had no frame for a while and is reconnecting.

    ``t`` is the media time now (frames resume after it); ``silent_s`` is how
    long since the last frame; ``reconnects`` counts captures reopened so far.
    """

    source: str
    t: float
    silent_s: float
    reconnects: int = 0
    reason: str = ""


class FrameSource(Protocol):
    """What the pipeline needs from any source (see ``assistant.capture.sources``).

    ``live``: True when frames arrive in real time and stale ones are dropped;
    False when every frame is delivered in order, like a file. ``read()``
    returns a frame, :class:`NoSignal` while a live feed is gone (it returns
    within the watchdog time, never hangs), or None at the end.
    """

    fps: float
    live: bool
    description: str

    def read(self) -> Frame | NoSignal | None: ...

    def close(self) -> None: ...


EVENT_TYPES = ("rack", "pull", "soft", "mode", "fault", "outage")
EVENT_ORIGINS = ("observed", "suggested", "driven", "cue", "operator")


@dataclass(frozen=True)
class Subject:
    """A tracked subject in one frame, as written to the tracks file.

    ``coasting``: not seen by the last search that looked for it; the box is
    the tracker's prediction while the ID is held through a short miss.
    """

    id: int
    box: Box
    label: str = ""
    distance_m: float | None = None
    distance_sigma_m: float | None = None
    sharpness: float | None = None
    in_focus: bool | None = None
    coasting: bool = False
    focus_score: float | None = None
    """How surely the subject is in focus (0..1): 1 sharp, 0.5 at the limit of acceptable blur, 0 far out
    (``assistant.focus.judge``)."""
    blur_px: float | None = None
    """Blur width on the face (Gaussian sigma, pixels; ``assistant.vision.blur``)."""
    distance_speed_m_s: float | None = None
    """Speed in depth from the distance filter (m/s, positive moving away); not in the tracks file."""
    distance_moving: bool = False
    """Walking in depth (the distance filter's judgement), so worth leading with focus."""
    distance_jumped: bool = False
    """The distance filter restarted on this frame: first sight or a jump in depth, not a walk."""

    def to_json(self) -> dict:
        return {
            "id": self.id, "label": self.label, "box": list(self.box),
            "distance_m": _rounded(self.distance_m), "distance_sigma_m": _rounded(self.distance_sigma_m),
            "sharpness": _rounded(self.sharpness, 6), "in_focus": self.in_focus,
            "focus_score": _rounded(self.focus_score), "blur_px": _rounded(self.blur_px),
            "state": "coasting" if self.coasting else "tracked",
        }


@dataclass(frozen=True)
class Event:
    """A labelled focus change (DESIGN.md, events file)."""

    type: str
    start: float
    end: float
    frame_start: int
    frame_end: int
    origin: str
    target_box: Box | None = None
    from_id: int | None = None
    to_id: int | None = None
    distance_from_m: float | None = None
    distance_to_m: float | None = None
    confidence: float = 1.0
    detail: str | None = None
    """Free text for ``mode`` and ``fault`` events (what changed, what failed)."""

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"event type must be one of {EVENT_TYPES}, got {self.type!r}")
        if self.origin not in EVENT_ORIGINS:
            raise ValueError(f"event origin must be one of {EVENT_ORIGINS}, got {self.origin!r}")
        if self.end < self.start or self.frame_end < self.frame_start:
            raise ValueError(f"an event cannot end before it starts ({self.start}..{self.end})")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1, got {self.confidence}")

    def who(self) -> str:
        """Who the event is about, for one-line summaries: its detail, "#1->#2", "#2", or "plane"."""
        if self.detail:
            return self.detail
        if self.from_id is not None and self.to_id is not None and self.from_id != self.to_id:
            return f"#{self.from_id}->#{self.to_id}"
        one = self.to_id if self.to_id is not None else self.from_id
        return "plane" if one is None else f"#{one}"

    def to_json(self) -> dict:
        return {
            "type": self.type, "start": round(self.start, 3), "end": round(self.end, 3),
            "frame_start": self.frame_start, "frame_end": self.frame_end,
            "from": self.from_id, "to": self.to_id,
            "target_box": list(self.target_box) if self.target_box else None,
            "distance_from_m": _rounded(self.distance_from_m), "distance_to_m": _rounded(self.distance_to_m),
            "origin": self.origin, "confidence": round(self.confidence, 3),
        } | ({"detail": self.detail} if self.detail is not None else {})


def _rounded(value: float | None, digits: int = 3) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), digits)
