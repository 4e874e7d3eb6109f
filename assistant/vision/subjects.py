"""Who is in the picture: detection planned to a budget, tracking, distance.

The detector costs ~5 ms per call for the short-range model and ~15 ms for
the full-range one on this class of machine, so it is never run on
everything every frame. Each frame gets *one* search:

- a crop around a tracked subject (short-range model; a crop four face-widths
  wide finds faces from ~15 px up), taking the subject searched longest ago,
  new (unconfirmed) subjects first;
- every ``discover_every`` frames, and on every frame while nobody is
  tracked, a search for new faces with the full-range model, cycling through
  the whole frame and four overlapping tiles (so faces down to ~40 px in a
  1280-wide frame are found too).

A cut to another shot (``assistant.vision.cuts``) ends every track and
starts a new sweep. At the start, and whenever someone appears in a frame that was empty, the
planner makes one *sweep*: every discovery region searched, every other
frame (crops confirm what it finds in between). Until the sweep is done
:attr:`SubjectTracker.searched_all` is False, so a rule that compares faces
(``--target largest``) waits for every face instead of taking the first one.

Between searches the tracker's motion prediction carries each subject.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from dataclasses import dataclass

import numpy as np

from assistant.scale import reduced_box, working_factor
from assistant.types import Box, Frame, Subject
from assistant.vision.blur import BlurMeter
from assistant.vision.cuts import CutDetector
from assistant.vision.depth import measure_distance
from assistant.vision.ranging import Range, RangeFilter
from assistant.vision.settings import SearchConfig
from assistant.vision.faces import RegionDetector
from assistant.vision.tracker import Observation, Track, Tracker
from assistant.vision.witness import PersonWitness

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Search:
    """One planned detector call: where, and with which model."""

    region: Box
    model: str  # "short" (crop around a subject) or "full" (search for new faces)
    track_id: int | None = None


class SearchPlanner:
    """Chooses the one search to run on each frame (pure: no detector, no clock)."""

    def __init__(self, config: SearchConfig = SearchConfig(), sweep: bool = True) -> None:
        self.config = config
        self.sweep = sweep
        """Search every region first (every other frame) before faces are compared; False keeps the
        steady schedule and only notes when the whole frame has been covered."""
        self._frame = 0
        self._discovery_step = 0
        self._last_searched: dict[int, int] = {}
        self._unswept = set(range(DISCOVERY_REGIONS))
        self._had_tracks = False
        self._last_was_discovery = False

    @property
    def swept(self) -> bool:
        """Every discovery region has been searched since the start or since someone appeared."""
        return not self._unswept

    def restart_sweep(self) -> None:
        """Search the whole frame again before comparing faces (a cut into a new shot)."""
        self._unswept = set(range(DISCOVERY_REGIONS))

    def plan(self, width: int, height: int, predicted: list[tuple[int, Box, bool]]) -> Search:
        cfg = self.config
        self._frame += 1
        live = {tid for tid, _, _ in predicted}
        self._last_searched = {tid: n for tid, n in self._last_searched.items() if tid in live}
        if predicted and not self._had_tracks:
            self.restart_sweep()  # someone appeared: look everywhere before comparing them with anyone
        self._had_tracks = bool(predicted)
        sweeping = self.sweep and not self.swept and not self._last_was_discovery
        self._last_was_discovery = not predicted or sweeping or self._frame % cfg.discover_every == 0
        if self._last_was_discovery:
            return self._discovery(width, height)
        tentative = [p for p in predicted if not p[2]]
        pool = tentative or predicted
        tid, box, _ = min(pool, key=lambda p: (self._last_searched.get(p[0], -1), p[0]))
        self._last_searched[tid] = self._frame
        return Search(self._crop(box, width, height), "short", tid)

    def _discovery(self, width: int, height: int) -> Search:
        regions = [(0, 0, width, height), *tiles(width, height, self.config.tile_overlap)]
        step = self._discovery_step % len(regions)
        self._unswept.discard(step)
        self._discovery_step += 1
        return Search(regions[step], "full")

    def _crop(self, box: Box, width: int, height: int) -> Box:
        x, y, w, h = box
        side = max(self.config.min_crop_px, round(self.config.crop_scale * max(w, h)))
        side = min(side, width, height)
        cx, cy = x + w / 2, y + h / 2
        left = int(min(max(0, round(cx - side / 2)), width - side))
        top = int(min(max(0, round(cy - side / 2)), height - side))
        return (left, top, side, side)


class _NoDetector:
    """Stands in for a detector that could not be reloaded: finds nothing, so tracking coasts."""

    def detect(self, image: object, region: Box) -> tuple:
        return ()

    def restart(self) -> None:
        pass

    def close(self) -> None:
        pass


MODEL_INPUT_PX = {"short": 128, "full": 192}
"""BlazeFace's input widths: a searched region is shrunk to this before detection."""
MIN_MODEL_FACE_PX = 16.0
"""Faces narrower than this at the model's input are found only now and then: missing one is no evidence."""

DISCOVERY_REGIONS = 5
"""The discovery search cycles through the whole frame and the four tiles of :func:`tiles`."""


def tiles(width: int, height: int, overlap: float) -> list[Box]:
    """A 2x2 grid of tiles, each widened by ``overlap`` so faces on a seam are whole in one."""
    tw, th = round(width / 2 * (1 + overlap)), round(height / 2 * (1 + overlap))
    return [(0, 0, tw, th), (width - tw, 0, tw, th), (0, height - th, tw, th), (width - tw, height - th, tw, th)]


class SubjectTracker:
    """Frames in, subjects out (one verb: ``update``): plan, detect, track, range."""

    def __init__(self, detectors: dict[str, RegionDetector], tracker: Tracker, hfov_deg: float,
                 search: SearchConfig = SearchConfig(), search_every: int | None = None,
                 range_filter: Callable[[], RangeFilter] = RangeFilter, sweep: bool = True,
                 witness: PersonWitness | None = None, cuts: CutDetector | None = None) -> None:
        missing = {"short", "full"} - set(detectors)
        if missing:
            raise ValueError(f"SubjectTracker needs detectors for: {', '.join(sorted(missing))}")
        self.detectors = detectors
        self.tracker = tracker
        self.hfov_deg = hfov_deg
        self.planner = SearchPlanner(search, sweep)
        self.witness = witness
        """Vouches that a face sits on a person; None publishes every confirmed track."""
        self.cuts = cuts
        self.cut = False
        """This frame is the first of a new shot (every track ended before it was searched)."""
        self.search_every = search_every or search.search_every
        self._new_filter = range_filter
        self.blur = BlurMeter()
        self._filters: dict[int, RangeFilter] = {}
        self._frames = 0
        self._t = 0.0
        self.last_search: Search | None = None
        self.warnings: list[str] = []  # detector failures survived, for the on-screen ticker
        self._failures: dict[str, int] = {}

    def update(self, frame: Frame) -> tuple[Subject, ...]:
        self._frames += 1
        self._t = frame.t
        # A frame wider than 1080p is compared on its overview (``assistant.scale``): the thumbnail is
        # 64 pixels wide either way, and sampling a 4K picture for it cost milliseconds.
        self.cut = self.cuts is not None and self.cuts.update(frame.overview()[0], frame.t)
        if self.cut:  # another shot: nobody seen before is in it
            self.tracker.reset()
            self.planner.restart_sweep()
        if self._frames % self.search_every == 0 or not self.tracker.predicted(frame.t):
            observation = self._search(frame)
        else:  # a frame without a search: the tracker's prediction carries every subject
            observation = Observation(frame.t, (), (), (frame.width, frame.height))
            self.last_search = None
        tracks = self.tracker.update(observation)
        live = {tid for tid, _, _ in self.tracker.predicted(frame.t)}
        self._filters = {tid: f for tid, f in self._filters.items() if tid in live}
        if self.witness is not None:
            tracks = self._vouched(frame, tracks)
        return tuple(self._subject(track, frame) for track in tracks)

    def _vouched(self, frame: Frame, tracks: tuple[Track, ...]) -> tuple[Track, ...]:
        """Only faces on a person are subjects; a subject whose face is gone stays while its body does."""
        assert self.witness is not None
        self.witness.look(frame.image, tracks, frame.t)
        self.tracker.eligible = self.witness.vouched
        for track in tracks:
            if track.coasting and self.witness.bodies.get(track.id):
                self.tracker.hold(track.id, frame.t)
        return tuple(t for t in tracks if t.id in self.witness.vouched)

    @property
    def people(self) -> tuple[Box, ...]:
        """Person regions seen while nobody is tracked (where a focus search should look)."""
        return self.witness.people if self.witness is not None else ()

    @property
    def searched_all(self) -> bool:
        """The whole frame has been searched and every face found is confirmed or dropped."""
        return self.planner.swept and all(confirmed for _, _, confirmed in self.tracker.predicted(self._t))

    def assign_label(self, label: str, subject_id: int) -> None:
        """The operator marks a subject A-D; the mark follows that ID from now on."""
        self.tracker.assign_label(label, subject_id)

    def _search(self, frame: Frame) -> Observation:
        search = self.planner.plan(frame.width, frame.height, self.tracker.predicted(frame.t))
        self.last_search = search
        found = self._detect(search.model, frame, search.region)
        detections = tuple(d for d in found if not _cut_by_region(d.box, search.region, frame.width, frame.height))
        searched = (_open_at_frame_edges(search.region, frame.width, frame.height),)
        smallest = search.region[2] * MIN_MODEL_FACE_PX / MODEL_INPUT_PX[search.model]
        return Observation(frame.t, detections, searched, (frame.width, frame.height), min_face_px=smallest)

    def _detect(self, model: str, frame: Frame, region: Box) -> tuple:
        """Detect, surviving a detector failure: this frame has no detections, the detector is reloaded.

        Frames wider than 1080p are searched on smaller pictures (``_searched_picture``): the model sees the
        region at 128 or 192 pixels either way, and copying a 4K region for it cost milliseconds.
        """
        detector = self.detectors[model]
        picture, where, origin, factor = _searched_picture(frame, model, region)
        try:
            return tuple(d.shifted(*origin).scaled(factor) for d in detector.detect(picture, where))
        except Exception as exc:  # noqa: BLE001 - one bad frame must not end a run; it is reported
            cause = f"{type(exc).__name__}: {exc}"
            key = f"{model} {cause}"
            self._failures[key] = self._failures.get(key, 0) + 1
            if self._failures[key] == 1:  # each model's cause once on screen; every failure in the log
                self.warnings.append(f"face detector ({model}) failed at {frame.t:.2f} s: {cause}; reloaded it")
            LOG.warning("face detector (%s) failed at %.2f s (%d times): %s", model, frame.t, self._failures[key], cause)
            try:
                detector.restart()
            except Exception as reload_exc:  # noqa: BLE001 - cannot reload: go on without this model
                self.warnings.append(f"face detector ({model}) could not be reloaded ({reload_exc}); "
                                     "it is off for the rest of the run")
                self.detectors[model] = _NoDetector()
            return ()

    def close(self) -> None:
        for detector in self.detectors.values():
            detector.close()
        if self.witness is not None:
            self.witness.close()

    def _subject(self, track: Track, frame: Frame) -> Subject:
        # A face found this frame: its blur (a blurred face's size reads near, so its distance is trusted less).
        blur = None if track.detection is None else self.blur.measure_frame(frame, [track.box])[0]
        found = self._distance(track, frame, blur)
        if found is None:
            return Subject(id=track.id, box=track.box, label=track.label, coasting=track.coasting, blur_px=blur)
        return Subject(
            id=track.id, box=track.box, label=track.label, distance_m=found.metres, distance_sigma_m=found.sigma_m,
            coasting=track.coasting, blur_px=blur, distance_speed_m_s=found.speed_m_s,
            distance_moving=found.moving, distance_jumped=found.jumped,
        )

    def _distance(self, track: Track, frame: Frame, blur_px: float | None) -> Range | None:
        if track.id not in self._filters:
            self._filters[track.id] = self._new_filter()
        live = self._filters[track.id]
        if track.detection is not None:
            measured = measure_distance(track.detection, frame.width, self.hfov_deg, blur_px=blur_px)
            return live.update(frame.t, measured)
        return live.predict(frame.t)


def _searched_picture(frame: Frame, model: str, region: Box) -> tuple[np.ndarray, Box, tuple[int, int], int]:
    """What a search of ``region`` gives the detector: (picture, the region in it, where the picture's origin
    lies in the frame once scaled, how much smaller than the frame it is).

    Up to 1080p, the frame itself. Wider: a search for new faces looks at the overview (a quarter of 4K,
    where even a tile is 2.7 times the model's 192 pixels); a search around a tracked face at a patch of
    its crop halved by area (a far face needs the detail, and only the crop is read).
    """
    factor = working_factor(frame.width)
    if factor == 1:
        return frame.image, region, (0, 0), 1
    if model == "full":
        picture, factor = frame.overview()
        return picture, reduced_box(region, factor), (0, 0), factor
    piece, (x, y, _, _) = frame.patch(region, factor)
    return piece, (0, 0, piece.shape[1], piece.shape[0]), (x, y), factor


def _open_at_frame_edges(region: Box, width: int, height: int, far: int = 100_000) -> Box:
    """The region as the tracker should see it: a side on the frame's edge extends past it.

    A face half out of the picture was still searched wherever it is visible.
    """
    x, y, w, h = region
    x0 = -far if x <= 0 else x
    y0 = -far if y <= 0 else y
    x1 = far if x + w >= width else x + w
    y1 = far if y + h >= height else y + h
    return (x0, y0, x1 - x0, y1 - y0)


def _cut_by_region(box: tuple[float, float, float, float], region: Box, width: int, height: int,
                   margin: float = 2.0) -> bool:
    """True when a face touches an edge of the searched region inside the frame: a partial face.

    A half face at a tile's seam has a wrong size and position; the tiles
    overlap so that the whole face is inside a neighbouring tile.
    """
    x, y, w, h = box
    rx, ry, rw, rh = region
    return ((rx > 0 and x <= rx + margin) or (ry > 0 and y <= ry + margin)
            or (rx + rw < width and x + w >= rx + rw - margin) or (ry + rh < height and y + h >= ry + rh - margin))
