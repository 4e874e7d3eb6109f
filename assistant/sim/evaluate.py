"""Score subject tracking against the virtual rig's ground truth.

Used by the tests and the benchmark: a subject *tracks* a person on a frame
when its box centre lies inside the person's true face box (grown by
``slack``); an *ID switch* is a change of the subject ID tracking one person.
Frames where a nearer layer hides a face are not counted as frames to track,
but an ID that changes across such a gap still counts as a switch.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.sim.truth import LayerTruth
from assistant.types import Box, Subject


@dataclass(frozen=True)
class TrackingScore:
    """Tracking quality on one clip."""

    person_frames: int
    tracked_frames: int
    id_switches: int
    median_distance_error: float  # relative, over tracked frames with a distance

    @property
    def tracked_share(self) -> float:
        return self.tracked_frames / self.person_frames if self.person_frames else 0.0


def _contains(box: Box, x: float, y: float, slack: float) -> bool:
    bx, by, bw, bh = box
    gx, gy = bw * slack / 2, bh * slack / 2
    return bx - gx <= x <= bx + bw + gx and by - gy <= y <= by + bh + gy


def _in_frame(box: Box, width: int, height: int) -> bool:
    x, y, w, h = box
    return x >= 0 and y >= 0 and x + w <= width and y + h <= height


def score_tracking(frames: Sequence[tuple[tuple[LayerTruth, ...], tuple[Subject, ...]]],
                   width: int, height: int, slack: float = 0.3) -> TrackingScore:
    """Score a clip given, per frame, its ground truth and the published subjects."""
    person_frames = tracked = switches = 0
    errors: list[float] = []
    last_id: dict[str, int] = {}
    for truth, subjects in frames:
        for person in truth:
            if (person.face_box is None or not person.face_visible
                    or not _in_frame(person.face_box, width, height)):
                continue
            person_frames += 1
            near = [s for s in subjects
                    if _contains(person.face_box, s.box[0] + s.box[2] / 2, s.box[1] + s.box[3] / 2, slack)]
            if not near:
                continue
            tracked += 1
            fx, fy, fw, fh = person.face_box
            subject = min(near, key=lambda s: abs(s.box[0] + s.box[2] / 2 - fx - fw / 2))
            if person.name in last_id and last_id[person.name] != subject.id:
                switches += 1
            last_id[person.name] = subject.id
            if subject.distance_m is not None:
                errors.append(abs(subject.distance_m - person.distance_m) / person.distance_m)
    median = statistics.median(errors) if errors else float("inf")
    return TrackingScore(person_frames, tracked, switches, median)


@dataclass(frozen=True)
class LabelScore:
    """Observed events against a clip's truth events."""

    true_positives: int
    false_positives: int
    false_negatives: int
    onset_errors: tuple[float, ...]  # |start - truth start| of every matched event

    @property
    def f1(self) -> float:
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def _overlap_s(a, b) -> float:
    """Seconds two events' spans share (negative when apart)."""
    return min(a.end, b.end) - max(a.start, b.start)


def score_labels(events: Sequence, truth: Sequence, types: tuple[str, ...] = ("rack", "pull")) -> LabelScore:
    """Match events to truth of the same type whose time spans overlap, best overlap first."""
    predicted = [e for e in events if e.type in types]
    expected = [t for t in truth if t.type in types]
    pairs = []
    for i, e in enumerate(predicted):
        for j, t in enumerate(expected):
            overlap = _overlap_s(e, t)
            if e.type == t.type and overlap > 0:
                pairs.append((overlap, i, j))
    used_p, used_t, errors = set(), set(), []
    for _, i, j in sorted(pairs, reverse=True):
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        errors.append(abs(predicted[i].start - expected[j].start))
    return LabelScore(len(used_p), len(predicted) - len(used_p), len(expected) - len(used_t), tuple(errors))


def combine(scores: Sequence[LabelScore]) -> LabelScore:
    """Totals over several clips."""
    return LabelScore(sum(s.true_positives for s in scores), sum(s.false_positives for s in scores),
                      sum(s.false_negatives for s in scores), tuple(e for s in scores for e in s.onset_errors))


EVENT_KINDS = ("rack", "pull", "soft")


@dataclass(frozen=True)
class TypedEvent:
    """An event reduced to what scoring needs (a truth event or a labelled one)."""

    type: str
    start: float
    end: float


def confusion(events: Sequence, truth: Sequence, kinds: tuple[str, ...] = EVENT_KINDS) -> dict[tuple[str, str], int]:
    """(truth type, labelled type) counts; "none" where one side has nothing overlapping in time.

    Each truth event takes the labelled event overlapping it most (of any
    type); labelled events overlapping no truth event count as (none, type).
    """
    counts: dict[tuple[str, str], int] = {}
    predicted = [e for e in events if e.type in kinds]
    used: set[int] = set()
    for t in (t for t in truth if t.type in kinds):
        overlaps = [(_overlap_s(e, t), i) for i, e in enumerate(predicted) if i not in used]
        overlaps = [(o, i) for o, i in overlaps if o > 0]
        if overlaps:
            _, best = max(overlaps)
            used.add(best)
            key = (t.type, predicted[best].type)
        else:
            key = (t.type, "none")
        counts[key] = counts.get(key, 0) + 1
    for i, e in enumerate(predicted):
        if i not in used and not any(_overlap_s(e, t) > 0 for t in truth):
            counts[("none", e.type)] = counts.get(("none", e.type), 0) + 1
    return counts


@dataclass(frozen=True)
class FocusAgreement:
    """Per-subject in-focus flags against truth (blur <= 1 px in focus, >= 4 px out; between not counted)."""

    agreed: int
    judged: int
    unjudged: int  # truth faces with a clear answer but no tracked subject or no flag on that frame

    @property
    def share(self) -> float:
        return self.agreed / self.judged if self.judged else 1.0


def focus_agreement(frames: Sequence[tuple[Sequence[tuple[Box, float]], Sequence[tuple[Box, bool | None]]]],
                    sharp_px: float = 1.0, soft_px: float = 4.0, slack: float = 0.3) -> FocusAgreement:
    """Score each frame's (truth faces as (box, blur px), subjects as (box, in_focus))."""
    agreed = judged = unjudged = 0
    for faces, subjects in frames:
        for face_box, blur in faces:
            if sharp_px < blur < soft_px:
                continue
            near = [flag for box, flag in subjects if _contains(face_box, box[0] + box[2] / 2, box[1] + box[3] / 2, slack)]
            if not near or near[0] is None:
                unjudged += 1
                continue
            judged += 1
            agreed += int(near[0] == (blur <= sharp_px))
    return FocusAgreement(agreed, judged, unjudged)
