"""Distance to a face from its size in the picture (pinhole model), one frame at a time.

Two cues, fused by their uncertainties:
- the eyes: adults' interpupillary distance is about 63 mm, so
  ``d = f_px * 0.063 / eye_distance_px``; precise on large faces, but it reads
  too far when the head turns (the eyes' spacing foreshortens);
- the face box: BlazeFace's box is about ``FACE_BOX_M`` wide on an adult
  (measured on this project's photographs, scaled by their eye spacing), which
  does not shrink with a turned head but is coarser (0.133 m on the astronaut
  photograph, 0.150 m on Grace Hopper: their mean, 0.143 m, is used).

``f_px`` follows the actual frame width: ``f_px = (W / 2) / tan(hfov / 2)``.
Smoothing over time is not done here: ``assistant.vision.ranging`` runs the one
filter over each subject's distance, and reads the ``sigma_m`` given here.

Defocus can make a face read wrong: blur spreads the face, and BlazeFace's
box and eye keypoints may spread with it (on the rig, Grace Hopper's box grows
about 4 px and her eye spacing about 1.8 px per pixel of blur sigma, so she
reads 5-9 % near at 8-12 px blur disks). That growth is NOT taken off: its size
and even its sign depend on the face and what surrounds it (the held-out
astronaut's box shrinks a little instead, perhaps because a white suit frames
her face where dark cloth frames Grace Hopper's; correcting her by Grace
Hopper's growth made her error worse, not better). Given the face's measured
blur (``BlurMeter``'s Gaussian sigma, ``blur_px``), ``measure_distance``
only trusts a blurred face less: each cue keeps its distance, and its sigma
gains (in quadrature) the distance that the growth fitted on Grace Hopper
would have moved it. A blurred face's distance is thus trusted less, and the fusion leans on
whichever cue the blur would disturb less. Because the cues' weights change,
the fused distance of a blurred face can still move, always between the two
cues (never outside them): under 1 % on the rig's test frames, where the cues
agree, more where they disagree widely (the astronaut at a 30 px blur disk,
her eye cue 26 % far, her box 2 %: fused +20 % without ``blur_px``, +9 %
with it). A face measured sharp reads exactly as without ``blur_px``.
``benchmarks/blur_distance.py`` prints the error and |error| / sigma against
blur for both faces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant.vision.faces import Detection

IPD_M = 0.063
FACE_BOX_M = 0.143
KEYPOINT_NOISE_PX = 1.5
"""Typical error of one BlazeFace eye keypoint, in pixels (so eye spacing error ~ 2 px)."""
FACE_BOX_REL_NOISE = 0.08


@dataclass(frozen=True)
class DistanceEstimate:
    """A distance in metres with its one-sigma uncertainty."""

    metres: float
    sigma_m: float


def focal_px(width_px: int, hfov_deg: float) -> float:
    """Focal length in pixels of a frame ``width_px`` wide with horizontal field of view ``hfov_deg``."""
    if not 1.0 <= hfov_deg < 179.0:
        raise ValueError(f"horizontal field of view must be between 1 and 179 degrees, got {hfov_deg}")
    return (width_px / 2.0) / math.tan(math.radians(hfov_deg) / 2.0)


SHARP_SIGMA_PX = 1.0
"""Measured blur (``BlurMeter`` sigma) of a face in focus on the rig, 0.4-1.0 px: up to it a face adds no doubt."""
BOX_GROWTH_PX = 3.9
"""BlazeFace box width gained per pixel of blur sigma beyond ``SHARP_SIGMA_PX``, on Grace Hopper.

Fitted by least squares on the short-range model's boxes of Grace Hopper at
1.8, 2.7 and 3.8 m, blur disks 0-30 px (``benchmarks/blur_distance.py --fit``).
Used only to size a blurred face's uncertainty, never to change its size: the
held-out astronaut's box does not grow with blur."""
EYE_GROWTH_PX = 1.8
"""Eye keypoint spacing gained per pixel of blur sigma beyond ``SHARP_SIGMA_PX`` (same fit, same use)."""
MAX_EXCESS_SIGMA_PX = 6.0
"""About the widest blur (beyond sharp) the fit saw on a face the detector still found; wider counts as this."""
MAX_SHRINK = 0.3
"""The largest share of a cue's size the growth is allowed to be when sizing the doubt (so the doubt
stays finite, at most 43 % of the cue's distance, however small the face)."""


def measure_distance(detection: Detection, width_px: int, hfov_deg: float, *,
                     blur_px: float | None = None) -> DistanceEstimate:
    """One frame's distance from the eyes and the face box, fused by inverse variance.

    ``blur_px`` is the face's measured blur (Gaussian sigma in pixels, as
    ``BlurMeter`` reads it on the face's box). It never shifts a cue: it only
    widens each cue's sigma (in quadrature) by the distance the fitted growth
    would have moved that cue. So the sigma of a blurred face grows, and its
    fused distance can still change (the cues' weights change; it stays between
    the two cues); None (unknown) or a sharp reading (at most
    ``SHARP_SIGMA_PX``) gives exactly the estimate without it.
    """
    if blur_px is not None and not blur_px >= 0.0:
        raise ValueError(f"blur_px must be a width >= 0 px or None, got {blur_px}")
    f = focal_px(width_px, hfov_deg)
    excess = 0.0 if blur_px is None else min(max(0.0, blur_px - SHARP_SIGMA_PX), MAX_EXCESS_SIGMA_PX)
    box = detection.box[2]
    d_box = f * FACE_BOX_M / box
    var_box = (d_box * FACE_BOX_REL_NOISE) ** 2 + _blur_doubt(d_box, box, BOX_GROWTH_PX * excess) ** 2
    eyes = detection.eye_distance_px
    if eyes is None or eyes < 3.0:
        return DistanceEstimate(d_box, math.sqrt(var_box))
    d_eye = f * IPD_M / eyes
    rel_eye = math.sqrt(2.0) * KEYPOINT_NOISE_PX / eyes
    var_eye = (d_eye * max(rel_eye, 0.02)) ** 2 + _blur_doubt(d_eye, eyes, EYE_GROWTH_PX * excess) ** 2
    weight = var_box / (var_box + var_eye)
    d = weight * d_eye + (1.0 - weight) * d_box
    return DistanceEstimate(d, math.sqrt(var_eye * var_box / (var_eye + var_box)))


def _blur_doubt(distance_m: float, size_px: float, growth_px: float) -> float:
    """How far taking ``growth_px`` off a cue ``size_px`` wide would move its distance (0 without growth)."""
    if growth_px <= 0.0:
        return 0.0
    shrink = min(growth_px / size_px, MAX_SHRINK)
    return distance_m * shrink / (1.0 - shrink)
