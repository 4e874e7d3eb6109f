"""Is there a person under that face? The person mask asked about tracked faces, on a budget.

The face detector finds faces in brickwork, clouds and saddles; a person
segmentation mask (``assistant.vision.people``) finds bodies. A track becomes
a subject only once its eyes sit as far apart as a real face's
(``Detection.plausible``) and the mask agrees that its face sits on a person: the
mask covers the face and reaches below its chin (a cup the mask calls foreground
ends at the "face" found in its rim). A subject whose face has gone (turned
away, too blurred) is kept while the mask still sees a body where its head was.

At most one segmentation runs per frame (~4-8 ms), chosen in this order:
1. a track with a fresh detection that has not been vouched for yet (a crop
   around its face, so small people fill the model's input);
2. a subject whose face has been missing for ``BODY_AFTER_S``, to see whether
   its body is still there;
3. with nobody tracked, every ``empty_every`` frames, the whole frame: the
   person regions a focus search climbs.
A subject vouched for stays vouched; a track the mask rejects ``reject_after``
times in a row is set aside until its face is ``RELOOK_SHARPER_PX`` sharper
than then (a person first seen blurred, whose box the detector put over the
chest, is asked again as focus comes to them; a cup or a cloud in a still
focus stays as it was).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from assistant.types import Box
from assistant.vision.blur import BlurMeter
from assistant.vision.people import PersonMask, region_around_face
from assistant.vision.settings import WitnessConfig
from assistant.vision.tracker import Track


Verdict = Literal["person", "not a person", "not yet"]

TOO_BLURRED_PX = 6.0
"""A face blurred more than this is not judged yet: the detector's box for it can be several times the face."""

RELOOK_SHARPER_PX = 0.6
"""How much narrower a rejected face's blur must become (px) for it to be asked about again."""

BODY_AFTER_S = 0.5
"""A subject's body is checked only once its face has been missing this long (a turn, not a missed look)."""


class Segmenter(Protocol):
    def segment(self, image_bgr: np.ndarray, region: Box | None = None) -> PersonMask: ...

    def close(self) -> None: ...


class PersonWitness:
    """Vouches for faces that sit on a person (one verb: ``look``)."""

    def __init__(self, segmenter: Segmenter, config: WitnessConfig = WitnessConfig(), find_people: bool = True) -> None:
        self.segmenter = segmenter
        self.config = config
        self.find_people = find_people
        """Look for people in an empty picture (drive mode's search); ``analyze`` needs no such looks."""
        self.vouched: set[int] = set()
        self._rejections: dict[int, int] = {}
        self._blur = BlurMeter()
        self._set_aside: dict[int, float] = {}
        """Rejected tracks: their face's blur (px) when they were set aside."""
        self._not_before: dict[int, int] = {}
        """Tracks whose face the mask covers with no body under it yet: the frame number of their next look."""
        self.bodies: dict[int, bool] = {}
        """For subjects whose face was not found: whether the mask still saw a body under their head."""
        self.people: tuple[Box, ...] = ()
        """Person regions from the last whole-frame look (only while nobody is tracked)."""
        self._frame = 0
        self._body_turn = 0

    def look(self, image: np.ndarray, tracks: Sequence[Track], now: float) -> None:
        """Spend this frame's one look where it is most needed (``now``: the frame's time)."""
        self._frame += 1
        live = {t.id for t in tracks}
        self.vouched &= live
        self._rejections = {tid: n for tid, n in self._rejections.items() if tid in live}
        self._not_before = {tid: n for tid, n in self._not_before.items() if tid in live}
        self._set_aside = {tid: b for tid, b in self._set_aside.items() if tid in live}
        self.bodies = {tid: seen for tid, seen in self.bodies.items() if tid in live}
        frame_size = (image.shape[1], image.shape[0])
        unvouched = [t for t in tracks if t.detection is not None and t.id not in self.vouched
                     and self._not_before.get(t.id, 0) <= self._frame and not self._aside(image, t)]
        if unvouched:
            self._vouch(image, unvouched[0], frame_size)
            return
        # A face missed for a moment is the tracker's to hold; only one gone for a while needs its body checked.
        faceless = [t for t in tracks if t.coasting and t.id in self.vouched and now - t.last_seen >= BODY_AFTER_S]
        if faceless:
            self._body_turn += 1
            if self._body_turn % self.config.body_every == 0:
                track = faceless[(self._body_turn // self.config.body_every) % len(faceless)]
                mask = self.segmenter.segment(image, region_around_face(track.box, frame_size))
                self.bodies[track.id] = mask.coverage(track.box) >= self.config.min_coverage
            return
        if self.find_people and not tracks and self._frame % self.config.empty_every == 0:
            self.people = self.segmenter.segment(image).regions()
        elif tracks:
            self.people = ()

    def _vouch(self, image: np.ndarray, track: Track, frame_size: tuple[int, int]) -> None:
        assert track.detection is not None
        face = track.detection.pixel_box
        blur_px = self._blur.measure(image, [face])[0]
        verdict: Verdict = "not a person"
        if track.detection.plausible and blur_px > TOO_BLURRED_PX:  # no mask needed to say so: spare it
            verdict = "not yet"
        elif track.detection.plausible:
            mask = self.segmenter.segment(image, region_around_face(face, frame_size))
            verdict = self._verdict(mask, face, blur_px)
        if verdict == "person":
            self.vouched.add(track.id)
            self._rejections.pop(track.id, None)
        elif verdict == "not yet":
            self._not_before[track.id] = self._frame + self.config.body_every
        else:
            rejections = self._rejections.get(track.id, 0) + 1
            if rejections >= self.config.reject_after:
                self._set_aside[track.id] = blur_px
                rejections = 0
            self._rejections[track.id] = rejections

    def _aside(self, image: np.ndarray, track: Track) -> bool:
        """Still set aside: rejected, and its face no sharper since."""
        blur_then = self._set_aside.get(track.id)
        if blur_then is None or track.detection is None:
            return blur_then is not None
        if not self._blur.measure(image, [track.detection.pixel_box])[0] <= blur_then - RELOOK_SHARPER_PX:
            return True
        del self._set_aside[track.id]
        return False

    def _verdict(self, mask: PersonMask, face: Box, blur_px: float) -> Verdict:
        """A person when the mask covers the face and reaches ``min_body_below`` face heights below its chin.

        A face blurred by more than ``body_check_max_blur_px`` is let off the body check: the detector puts
        a defocused face's box lower and larger, over the chin and chest, so nothing shows below it. Covered
        with no body under it is a wait, not a rejection (a face low in the picture, a person coming into
        focus): the track is looked at again every ``body_every`` frames; a cup seldom grows a body. So is
        a face blurred past ``TOO_BLURRED_PX``, whose box is no guide to where the face is.
        """
        if blur_px > TOO_BLURRED_PX:  # a lens parked far off: a 350 px box round a 70 px face
            return "not yet"
        if mask.coverage(face) < self.config.min_coverage:
            return "not a person"
        if blur_px > self.config.body_check_max_blur_px:
            return "person"
        return "person" if mask.reach_below(face) >= self.config.min_body_below else "not yet"

    def close(self) -> None:
        self.segmenter.close()
