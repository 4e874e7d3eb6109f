"""Stable subject IDs from frame to frame (pure maths: no detector, no clock).

Each track predicts its face box with a constant-velocity (alpha-beta) model.
Detections are matched to predictions inside a gate on position (which widens
while a track goes unseen) and on size (a face cannot double in size between
looks); the cheapest pairs are taken first. A new track must be seen
``confirm_hits`` times before it is published, so a one-frame false detection
never becomes a subject. A confirmed track that is missed keeps its ID and
coasts on its prediction for ``hold_s``, so short misses, occlusions and
crossings do not change IDs; a detection near the prediction re-acquires it.

Misses only count where the detector actually looked at the whole face: the
caller says which regions it searched, because detection runs on crops and
tiles, not always on the whole frame (a region reaching the frame's edge
should be passed as open-ended on that side).

When the caller gives the frame's size, the picture's edges bound what a
track can do: the box it reports and is matched at stops at the edge (its
centre stays inside the frame), and a track not seen this frame whose motion
has carried it mostly out of the picture (less than ``MIN_INSIDE`` of its box
left inside) has walked out and ends at once, instead of coasting outside for
the hold time. The motion itself runs on unbounded, so a subject who stops at
the edge teaches the track to stop too.

A cut to another shot (``Observation.cut`` or ``reset``) ends every track:
nothing seen before it is in the new picture. IDs are never reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant.targeting import LABELS, Candidate, pick
from assistant.types import Box
from assistant.vision.faces import Detection
from assistant.vision.settings import TrackerConfig

LABEL_MIN_HITS = 4
COAST_PREDICT_S = 1.5
"""A coasting track follows its velocity this long after it was last seen, then stands still."""
RULES = ("left", "right", "largest", "auto")
CONCENTRIC_SHARE = 0.25
"""A smaller detection centred within this share of its width of a track's prediction is that face coming
into focus, however much smaller: defocus blur widens a face's box about its centre."""
MIN_INSIDE = 1.0 / 3.0
"""An unseen track whose predicted box keeps less than this share of its area inside the frame has walked out."""


@dataclass(frozen=True)
class Observation:
    """What one detection pass saw: its detections and the regions it searched."""

    t: float
    detections: tuple[Detection, ...]
    searched: tuple[Box, ...]
    frame_size: tuple[int, int] | None = None  # (width, height); None: the last size given, if any
    cut: bool = False  # the first frame of a new shot: every track ends before this one is matched
    min_face_px: float = 0.0
    """The narrowest face (frame pixels) the search could have found: a smaller face it missed was not
    really looked for (a whole-frame search shrinks the frame to the model's input)."""

    def __post_init__(self) -> None:
        if self.frame_size is not None and (len(self.frame_size) != 2 or min(self.frame_size) <= 0):
            raise ValueError(f"frame_size must be (width, height) in pixels, got {self.frame_size}")


@dataclass(frozen=True)
class Track:
    """A published (confirmed) subject track in one frame."""

    id: int
    label: str
    box: Box
    coasting: bool
    detection: Detection | None  # this frame's matched detection, if any
    last_seen: float


@dataclass
class _State:
    id: int
    cx: float
    cy: float
    w: float
    h: float
    t: float  # time of the last update of position
    last_seen: float
    first_seen: float
    vx: float = 0.0
    vy: float = 0.0
    vw: float = 0.0
    hits: int = 1
    confirmed: bool = False
    coasting: bool = False
    detection: Detection | None = None

    def predict(self, t: float, frame: tuple[int, int] | None = None) -> tuple[float, float, float, float]:
        """(cx, cy, w, h) at ``t``; inside ``frame`` (width, height), the centre stops at its edges."""
        dt = max(0.0, t - self.t)
        if self.coasting:
            dt = min(dt, max(0.0, self.last_seen + COAST_PREDICT_S - self.t))
        w = max(4.0, self.w + self.vw * dt)
        cx, cy = self.cx + self.vx * dt, self.cy + self.vy * dt
        if frame is not None:
            cx, cy = min(max(cx, 0.0), float(frame[0])), min(max(cy, 0.0), float(frame[1]))
        return cx, cy, w, self.h * w / self.w

    def box(self, t: float, frame: tuple[int, int] | None = None) -> Box:
        cx, cy, w, h = self.predict(t, frame)
        return (round(cx - w / 2), round(cy - h / 2), round(w), round(h))

    def share_inside(self, t: float, frame: tuple[int, int]) -> float:
        """How much of the box, moved on by its unbounded motion, is still inside the frame."""
        cx, cy, w, h = self.predict(t)
        iw = max(0.0, min(cx + w / 2, frame[0]) - max(cx - w / 2, 0.0))
        ih = max(0.0, min(cy + h / 2, frame[1]) - max(cy - h / 2, 0.0))
        return iw * ih / (w * h)


class Tracker:
    """Assigns stable IDs to detections (one verb: ``update``)."""

    def __init__(self, config: TrackerConfig = TrackerConfig(), label_rules: dict[str, str] | None = None) -> None:
        rules = dict(label_rules or {})
        for label, rule in rules.items():
            if label not in LABELS:
                raise ValueError(f"unknown subject label {label!r}; expected one of: {', '.join(LABELS)}")
            if rule not in RULES and not rule.isdigit():
                raise ValueError(f"unknown rule {rule!r} for subject {label}; use left, right, largest, auto or a track ID")
        self.config = config
        self.label_rules = {label: rules.get(label, "auto") for label in LABELS}
        self._tracks: list[_State] = []
        self._labels: dict[str, int] = {}
        self._next_id = 1
        self._t = 0.0
        self._frame: tuple[int, int] | None = None
        self.eligible: set[int] | None = None
        """Track IDs that may take a label (vouched for as people); None: every confirmed track."""

    # ------------------------------------------------------------------ queries
    def predicted(self, t: float) -> list[tuple[int, Box, bool]]:
        """(id, predicted box, confirmed) of every live track at time ``t``, for search planning."""
        return [(s.id, s.box(t, self._frame), s.confirmed) for s in self._tracks]

    def label_of(self, track_id: int) -> str:
        return next((label for label, tid in self._labels.items() if tid == track_id), "")

    # ------------------------------------------------------------------ operator
    def assign_label(self, label: str, track_id: int) -> None:
        """Bind ``label`` to a track (the operator's choice); it follows that ID from now on."""
        if label not in LABELS:
            raise ValueError(f"unknown subject label {label!r}; expected one of: {', '.join(LABELS)}")
        if not any(s.id == track_id and s.confirmed for s in self._tracks):
            raise ValueError(f"no subject with ID {track_id} to label {label}")
        self._labels = {lab: tid for lab, tid in self._labels.items() if tid != track_id}
        self._labels[label] = track_id

    def hold(self, track_id: int, t: float) -> None:
        """A subject whose face is gone but whose body is still there (turned away, too blurred to detect):
        it keeps its ID and stands where it was last seen, for another ``hold_s``."""
        for state in self._tracks:
            if state.id == track_id and state.confirmed and state.coasting:
                cx, cy, w, h = state.predict(t, self._frame)
                state.cx, state.cy, state.w, state.h = cx, cy, w, h
                state.vx = state.vy = state.vw = 0.0
                state.t = state.last_seen = t

    def reset(self) -> None:
        """End every track and free every label (a cut to another shot); IDs go on counting."""
        self._tracks = []
        self._labels = {}

    # ------------------------------------------------------------------ update
    def update(self, observation: Observation) -> tuple[Track, ...]:
        t = observation.t
        if t < self._t:
            raise ValueError(f"observations must come in time order ({t} after {self._t})")
        self._t = t
        if observation.frame_size is not None:
            self._frame = (int(observation.frame_size[0]), int(observation.frame_size[1]))
        if observation.cut:
            self.reset()
        for state in self._tracks:
            state.detection = None
        unmatched = self._match(observation.detections, t)
        self._count_misses(observation.searched, t, observation.min_face_px)
        self._drop_walked_out(t)
        self._start_tracks(unmatched, t)
        self._expire(t)
        self._apply_label_rules(t)
        return tuple(
            Track(s.id, self.label_of(s.id), s.box(t, self._frame), s.coasting, s.detection, s.last_seen)
            for s in sorted(self._tracks, key=lambda s: s.id) if s.confirmed
        )

    def _match(self, detections: tuple[Detection, ...], t: float) -> list[Detection]:
        pairs = []
        for di, det in enumerate(detections):
            for state in self._tracks:
                cost = self._cost(state, det, t)
                if cost is not None:
                    pairs.append((cost, di, state))
        pairs.sort(key=lambda p: (p[0], not p[2].confirmed, p[2].id))
        used_detections: set[int] = set()
        used_tracks: set[int] = set()
        for _, di, state in pairs:
            if di in used_detections or state.id in used_tracks:
                continue
            used_detections.add(di)
            used_tracks.add(state.id)
            self._correct(state, detections[di], t)
        matched_boxes = [s.box(t, self._frame) for s in self._tracks if s.id in used_tracks]
        # A leftover detection on top of a matched face is the same face seen by two searches.
        return [d for i, d in enumerate(detections)
                if i not in used_detections and all(_iou(d.pixel_box, b) < 0.3 for b in matched_boxes)]

    def _cost(self, state: _State, det: Detection, t: float) -> float | None:
        cfg = self.config
        cx, cy, w, _ = state.predict(t, self._frame)
        dx, dy = det.centre
        unseen = max(0.0, t - state.last_seen)
        allowed = max(w, det.box[2]) * (cfg.position_gate + cfg.gate_growth_per_s * min(unseen, cfg.hold_s))
        distance = math.hypot(dx - cx, dy - cy)
        size = abs(math.log(det.box[2] / w))
        if det.box[2] < w and size > math.log(cfg.size_gate) and distance <= CONCENTRIC_SHARE * det.box[2]:
            # A blurred face's box is the face widened by the blur; as focus comes to it the box narrows about
            # the same centre. (A smaller face behind it would be hidden by it: this is the same face.)
            size = math.log(cfg.size_gate)
        if distance > allowed or size > math.log(cfg.size_gate):
            return None
        return distance / allowed + size / math.log(cfg.size_gate)

    def _correct(self, state: _State, det: Detection, t: float) -> None:
        cfg = self.config
        px, py, pw, _ = state.predict(t)  # unbounded: the motion must learn that a subject stopped at the edge
        mx, my = det.centre
        mw, mh = det.box[2], det.box[3]
        dt = t - state.t
        rx, ry, rw = mx - px, my - py, mw - pw
        state.cx, state.cy = px + cfg.alpha * rx, py + cfg.alpha * ry
        state.w = pw + cfg.alpha * rw
        state.h = mh * state.w / mw
        if dt > 1e-6 and not state.coasting:
            state.vx += cfg.beta * rx / dt
            state.vy += cfg.beta * ry / dt
            # Size changes slowly (walking in depth); a single odd box must not set a trend.
            state.vw += cfg.beta / 3.0 * rw / dt
            state.vw = max(-state.w, min(state.w, state.vw))

        state.t = t
        state.last_seen = t
        state.hits += 1
        state.coasting = False
        state.detection = det
        if not state.confirmed and state.hits >= cfg.confirm_hits:
            state.confirmed = True

    def _count_misses(self, searched: tuple[Box, ...], t: float, min_face_px: float) -> None:
        for state in list(self._tracks):
            if state.detection is not None:
                continue
            box = state.box(t, self._frame)
            if box[2] < min_face_px or not any(_contains(region, box) for region in searched):
                continue  # the search did not see this whole face, or could not see a face this small
            if state.confirmed:
                # Keep walking on the prediction: a subject hidden behind another keeps moving.
                state.coasting = True
            else:
                self._tracks.remove(state)

    def _drop_walked_out(self, t: float) -> None:
        """End unseen tracks whose motion has carried them out of the picture (they are not coming back)."""
        if self._frame is None:
            return
        frame = self._frame
        self._tracks = [s for s in self._tracks
                        if s.detection is not None or s.share_inside(t, frame) >= MIN_INSIDE]

    def _start_tracks(self, detections: list[Detection], t: float) -> None:
        for det in detections:
            cx, cy = det.centre
            state = _State(self._next_id, cx, cy, det.box[2], det.box[3], t, t, t, detection=det)
            state.confirmed = self.config.confirm_hits <= 1
            self._next_id += 1
            self._tracks.append(state)

    def _expire(self, t: float) -> None:
        cfg = self.config
        keep = []
        for s in self._tracks:
            if s.confirmed and s.coasting and t - s.last_seen > cfg.hold_s:
                continue  # looked for, not found, for longer than the hold time
            if not s.confirmed and t - s.first_seen > cfg.confirm_window_s:
                continue
            keep.append(s)
        self._tracks = keep
        live = {s.id for s in keep}
        self._labels = {label: tid for label, tid in self._labels.items() if tid in live}

    def _apply_label_rules(self, t: float) -> None:
        for label in LABELS:
            if label in self._labels:
                continue
            # Only subjects seen a few times (and vouched for as people, when someone vouches) get a label,
            # so a brief or false track cannot take one.
            free = [s for s in self._tracks if s.confirmed and not s.coasting and s.hits >= LABEL_MIN_HITS
                    and not self.label_of(s.id) and (self.eligible is None or s.id in self.eligible)]
            if not free:
                return
            rule = self.label_rules[label]
            if rule.isdigit():
                choice = next((s for s in free if s.id == int(rule)), None)
                if choice is None:
                    continue
            elif rule == "auto":  # the subject confirmed earliest
                choice = min(free, key=lambda s: (s.first_seen, s.id))
            else:  # left, right, largest: the one geometry every targeting rule uses
                picked = pick(rule, [Candidate(s.id, s.box(t, self._frame)) for s in free])
                choice = next(s for s in free if picked is not None and s.id == picked.id)
            self._labels[label] = choice.id


def _contains(region: Box, box: Box) -> bool:
    rx, ry, rw, rh = region
    x, y, w, h = box
    return rx <= x and ry <= y and x + w <= rx + rw and y + h <= ry + rh


def _iou(a: Box, b: Box) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0
