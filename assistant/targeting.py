"""Who should be sharp: the one set of targeting rules (``--target``, labels, marks, clicks, racks).

Drive, suggest, the tracker's A-D labels, racks and rehearsal marks all pick
subjects here, with one geometry:

- ``left`` / ``right``: the face whose centre is furthest left / right;
- ``largest``: the face with the largest box area (the nearest or most
  important person, as a camera operator frames them);
- ``nearest``: the smallest distance estimate (faces without one last);
- ``A``-``D``: the subject carrying that label.

:class:`Targeting` keeps the operator's choice from frame to frame. A rule
that compares faces (``largest``, ``nearest``, ``left``, ``right``) is only
decided once the whole frame has been searched, so a small face found in the
first region searched cannot win over a larger one found a moment later.
Afterwards the target sticks to its subject's ID - a passer-by never takes it
- until the operator chooses again or the subject is gone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.types import SUBJECT_LABELS, Box, Subject

LABELS = SUBJECT_LABELS
COMPARING_RULES = ("left", "right", "largest", "nearest")
TARGET_RULES = (*LABELS, *COMPARING_RULES)
"""What ``--target`` accepts."""
RACK_TARGETS = (*LABELS, "left", "right")
"""Where a rack or a rehearsal mark may point: a labelled subject or a side of frame."""


@dataclass(frozen=True)
class Candidate:
    """A face a rule can choose: its ID, box and distance (if known)."""

    id: int
    box: Box
    distance_m: float | None = None


def centre_x(box: Box) -> float:
    return box[0] + box[2] / 2.0


def area(box: Box) -> float:
    return float(box[2] * box[3])


def pick(rule: str, candidates: Sequence[Candidate]) -> Candidate | None:
    """The candidate a comparing rule chooses, or None when there are none."""
    if not candidates:
        return None
    if rule == "left":
        return min(candidates, key=lambda c: (centre_x(c.box), c.id))
    if rule == "right":
        return max(candidates, key=lambda c: (centre_x(c.box), -c.id))
    if rule == "largest":
        return max(candidates, key=lambda c: (area(c.box), -c.id))
    if rule == "nearest":
        return min(candidates, key=lambda c: (c.distance_m if c.distance_m else math.inf, c.id))
    raise ValueError(f"unknown targeting rule {rule!r}; expected one of: {', '.join(COMPARING_RULES)}")


def candidate(subject: Subject) -> Candidate:
    return Candidate(subject.id, subject.box, subject.distance_m)


def pick_subject(rule: str, subjects: Sequence[Subject]) -> Subject | None:
    """The subject a rule (a label or a comparing rule) names among ``subjects``, or None."""
    if rule in LABELS:
        return next((s for s in subjects if s.label == rule), None)
    chosen = pick(rule, [candidate(s) for s in subjects])
    return None if chosen is None else next(s for s in subjects if s.id == chosen.id)


def rack_subject(subjects: Sequence[Subject], to: str) -> Subject | None:
    """The subject a rack (or a rehearsal mark) goes to: by label, or the one seen at that side now.

    Side racks only consider faces seen this frame with a distance: a rack needs somewhere to go.
    """
    if to in LABELS:
        return pick_subject(to, subjects)
    if to not in ("left", "right"):
        raise ValueError(f"racks go to a labelled subject A-D or left/right, got {to!r}")
    return pick_subject(to, [s for s in subjects if not s.coasting and s.distance_m is not None])


class Targeting:
    """The operator's target, frame to frame (one verb: ``update``).

    ``update`` gets this frame's subjects and whether the whole frame has
    been searched since the start (or the last cut); it returns the target
    subject, or None while there is none yet or it is out of sight.
    """

    def __init__(self, rule: str = "largest") -> None:
        if rule not in TARGET_RULES:
            raise ValueError(f"unknown target {rule!r}; expected one of: {', '.join(TARGET_RULES)}")
        self.rule = rule
        self.target_id: int | None = None
        self.changed = False
        """True on the frame the target became a different subject (the advice starts afresh)."""

    def choose_rule(self, rule: str) -> None:
        """The operator names a new rule; it is applied from the next frame."""
        if rule not in TARGET_RULES:
            raise ValueError(f"unknown target {rule!r}; expected one of: {', '.join(TARGET_RULES)}")
        self.rule = rule
        self.target_id = None

    def select(self, subject_id: int | None) -> None:
        """A click, a number key or a rack to a plane: this subject (or nobody) is the target now."""
        self.rule = "manual"
        self._set(subject_id)

    def forget(self) -> None:
        """A cut: the subject chosen is not in the new picture; the rule chooses again there."""
        if self.rule == "manual":
            self.rule = "largest"  # a clicked subject cannot follow across a cut
        self._set(None)

    def follow_label(self, label: str, subject_id: int) -> None:
        """A rack to a labelled subject: that subject now, and whoever carries the label from now on."""
        self.choose_rule(label)
        self._set(subject_id)

    @property
    def found(self) -> bool:
        """A target has been chosen (it may be out of sight this frame)."""
        return self.target_id is not None

    def update(self, subjects: Sequence[Subject], searched_all: bool = True) -> Subject | None:
        self.changed = False
        live = {s.id: s for s in subjects}
        if self.rule in LABELS:
            labelled = pick_subject(self.rule, subjects)
            if labelled is not None and labelled.id != self.target_id:
                self._set(labelled.id)
        if self.target_id in live:
            return live[self.target_id]
        if self.rule in LABELS or self.rule == "manual":
            return None
        if not searched_all:
            return None  # a comparison needs every face in the frame
        # Faces the last search missed still count: a whole-frame search misses small faces a tile finds.
        choice = pick_subject(self.rule, subjects)
        if choice is not None:
            self._set(choice.id)
        return choice

    def _set(self, subject_id: int | None) -> None:
        self.changed = subject_id != self.target_id
        self.target_id = subject_id
