"""Is a subject in focus? An absolute judgement, from the picture (and the lens when it reports).

From the picture: a face's blur width (``assistant.vision.blur``) is the
camera's own blur (pixel sampling, about ``PIXEL_SIGMA_PX``), the
photograph's or the face's own softness, and defocus, added in quadrature.
The face's own softness grows with its size on screen (a picture enlarged
twice is twice as soft in pixels), so it is learned per subject as a share
of the face's width: the low percentile of what the subject has shown, and
never more than ``max_own_blur`` (a subject that has never been sharp cannot
teach itself that its blur is its own). What is left over is the defocus
blur; the subject is in focus while it stays within ``acceptable_sigma_px``
(a disk about 2.5 px across, between the 1 px that is surely sharp and the
4 px that is surely not).

With a lens reading (a driver or the rig reports focus, and the depth of field
is known), a subject whose distance lies clearly outside the depth of field
(by more than twice its distance uncertainty) is out of focus whatever the
picture says.

``focus_score`` maps the defocus blur to 0..1: 1 sharp, 0.5 at the limit of
acceptable blur, toward 0 far out of focus.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from assistant.focus.settings import JudgeConfig

PIXEL_SIGMA_PX = 0.4
"""Blur a perfectly focused edge shows anyway: the sensor's pixels (and demosaicing) sample it."""
HISTORY = 900
"""Samples of a subject's own softness kept (30 s at 30 fps)."""
SMOOTHING = 5
"""Frames in the running median of the blur width (a single glitch cannot flip the flag)."""


@dataclass(frozen=True)
class LensReading:
    """Where the lens is focused and how deep its depth of field is, both in dioptres."""

    focus_dpt: float
    dof_half_dpt: float


@dataclass(frozen=True)
class FocusVerdict:
    """One subject on one frame: defocus blur (sigma px), the score and the flag."""

    defocus_px: float
    score: float
    in_focus: bool


class _History:
    """One subject's recent blur widths and what it has shown of its own softness."""

    def __init__(self) -> None:
        self.recent: deque[float] = deque(maxlen=SMOOTHING)
        self.own: deque[float] = deque(maxlen=HISTORY)
        self.in_focus = False


class FocusJudge:
    """Blur widths in, verdicts out (one verb: ``judge``); remembers each subject's own softness."""

    def __init__(self, config: JudgeConfig = JudgeConfig()) -> None:
        self.config = config
        self._subjects: dict[int, _History] = {}

    def judge(self, subject_id: int, blur_px: float, width_px: float, distance_m: float | None = None,
              distance_sigma_m: float | None = None, lens: LensReading | None = None) -> FocusVerdict:
        """The verdict for one subject on this frame (call once per subject per frame)."""
        history = self._subjects.setdefault(subject_id, _History())
        history.recent.append(blur_px)
        sigma = float(np.median(history.recent))
        width = max(width_px, 1.0)
        history.own.append(math.sqrt(max(sigma * sigma - PIXEL_SIGMA_PX ** 2, 0.0)) / width)
        own = min(float(np.percentile(history.own, self.config.own_blur_percentile)), self.config.max_own_blur)
        expected = PIXEL_SIGMA_PX ** 2 + (own * width) ** 2
        defocus = math.sqrt(max(sigma * sigma - expected, 0.0))
        limit = self.config.acceptable_sigma_px
        ratio = defocus / limit
        # Hysteresis: a subject on the limit does not flicker between in and out.
        band = self.config.hysteresis
        in_focus = ratio <= (1.0 + band if history.in_focus else 1.0 - band)
        if lens is not None and distance_m and _clearly_outside(lens, distance_m, distance_sigma_m or 0.0):
            in_focus = False
            ratio = max(ratio, 1.0 + band)
        history.in_focus = in_focus
        return FocusVerdict(defocus, 1.0 / (1.0 + ratio * ratio), in_focus)

    def forget(self, keep: set[int]) -> None:
        """Drop subjects no longer followed."""
        self._subjects = {sid: h for sid, h in self._subjects.items() if sid in keep}


def _clearly_outside(lens: LensReading, distance_m: float, sigma_m: float) -> bool:
    """The subject's distance is outside the depth of field even at the near edge of its uncertainty."""
    subject_dpt = 1.0 / distance_m
    spread_dpt = 2.0 * sigma_m / (distance_m * distance_m)
    return abs(subject_dpt - lens.focus_dpt) - spread_dpt > lens.dof_half_dpt
