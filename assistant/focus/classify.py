"""Label what focus did, from the picture alone: racks, tracking pulls, soft focus.

Needs no lens data, so it works on any video. Per frame it gets every
subject's blur width and distance, and the tile grid's sharpness:

- each subject is judged in or out of focus absolutely (``judge``): its
  defocus blur against the acceptable limit;
- with subjects in the picture, ``subject_events`` reads racks, pulls and
  soft focus from who comes into and goes out of focus, and who walks;
- without any for a few seconds, ``planes`` reads racks and soft focus
  from the tile grid.

A lens reading (live with a driver, or the rig) sharpens the in-focus
judgement; the events still come from the picture.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.focus.judge import FocusJudge, LensReading
from assistant.focus.planes import PlaneLabeller
from assistant.focus.settings import ClassifierConfig
from assistant.focus.subject_events import SubjectEventLabeller
from assistant.focus.subject_series import Reading
from assistant.types import Box, Event, SharpnessMap, Subject

PLANES_AFTER_S = 5.0
"""Seconds without any tracked subject before the tile grid is labelled on its own."""


class EventClassifier:
    """Frames' measurements in, completed events out (one verb: ``update``)."""

    def __init__(self, grid: tuple[int, int], config: ClassifierConfig = ClassifierConfig()) -> None:
        self.config = config
        self.grid = grid
        self.judge = FocusJudge(config.judge)
        self.labeller = SubjectEventLabeller(config.subjects)
        self.planes = PlaneLabeller(grid, config.planes)
        self._verdicts: dict[int, tuple[float, bool]] = {}
        self._last_subject_t = -1e9
        self._t = 0.0

    def focus_state(self, subject_id: int) -> tuple[float | None, bool | None]:
        """(score, in focus) of a subject on the last frame; (None, None) when it was not measured."""
        verdict = self._verdicts.get(subject_id)
        return (None, None) if verdict is None else verdict

    def take_provisional(self) -> list[Event]:
        """Racks recognised under way since the last call (their final label follows when they land)."""
        taken, self.labeller.provisional = self.labeller.provisional, []
        return taken

    def update(self, t: float, frame: int, sharpness: SharpnessMap, subjects: Sequence[Subject],
               lens: LensReading | None = None) -> list[Event]:
        """Feed one frame; returns the events that completed (usually none)."""
        self._t = t
        levels = np.log(np.maximum(sharpness.tiles.ravel(), 1e-9))
        self.planes.update(t, frame, sharpness, levels)
        self._verdicts = {}
        readings = []
        for subject in subjects:
            ratio = None
            if not subject.coasting and subject.blur_px is not None:
                verdict = self.judge.judge(subject.id, subject.blur_px, subject.box[2], subject.distance_m,
                                           subject.distance_sigma_m, lens)
                self._verdicts[subject.id] = (verdict.score, verdict.in_focus)
                ratio = verdict.defocus_px / self.config.judge.acceptable_sigma_px
            # a coasting subject's distance is the filter's extrapolation, not a measurement: no walk from it
            readings.append(Reading(subject.id, subject.box, ratio, subject.distance_m if ratio is not None else None))
        if subjects:
            self._last_subject_t = t
        clear = _clear_tiles(sharpness, [s.box for s in subjects])
        events = self.labeller.update(t, frame, readings, levels, clear)
        events += self.planes.events(labelling=t - self._last_subject_t > PLANES_AFTER_S, since=self._last_subject_t)
        self.judge.forget({s.id for s in subjects} | set(self.labeller.followed))
        return events

    def cut(self, t: float) -> None:
        """A cut to another shot: every move under way ends unlabelled (a cut is not a focus change).

        Events completed before the cut stand; what the subjects and tiles did
        before it says nothing about the new picture.
        """
        self.labeller = SubjectEventLabeller(self.config.subjects)
        self.planes = PlaneLabeller(self.grid, self.config.planes)
        self._verdicts = {}
        self._last_subject_t = t  # the tile grid waits for the new shot as at the start of a clip

    def finish(self) -> list[Event]:
        """End of the clip: close moves in progress and emit what they complete."""
        events = self.labeller.finish()
        events += self.planes.events(labelling=self._t - self._last_subject_t > PLANES_AFTER_S, final=True,
                                     since=self._last_subject_t)
        return sorted(events, key=lambda e: e.start)


def _clear_tiles(sharpness: SharpnessMap, boxes: list[Box]) -> np.ndarray:
    """Tiles no subject box touches (grown by half a face): the background, for telling focus moved."""
    rows, cols = sharpness.grid
    clear = np.ones((rows, cols), bool)
    tw, th = sharpness.tile_size
    for x, y, w, h in boxes:
        x0, x1 = int(max(0, (x - w / 2) // tw)), int(min(cols - 1, (x + 1.5 * w) // tw))
        y0, y1 = int(max(0, (y - h / 2) // th)), int(min(rows - 1, (y + 2.5 * h) // th))  # a body below the face
        clear[y0:y1 + 1, x0:x1 + 1] = False
    return clear.ravel()
