"""Distance to a face from its size in the picture (pinhole model), smoothed over time.

Two cues, fused by their uncertainties:
- the eyes: adults' interpupillary distance is about 63 mm, so
  ``d = f_px * 0.063 / eye_distance_px``; precise on large faces, but it reads
  too far when the head turns (the eyes' spacing foreshortens);
- the face box: BlazeFace's box is about ``FACE_BOX_M`` wide on an adult
  (measured on this project's photographs, scaled by their eye spacing), which
  does not shrink with a turned head but is coarser (0.133 m on the astronaut
  photograph, 0.150 m on Grace Hopper: their mean, 0.143 m, is used).

``f_px`` follows the actual frame width: ``f_px = (W / 2) / tan(hfov / 2)``.
A constant-velocity Kalman filter over distance smooths the estimate and
gives its uncertainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant import kalman
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


def measure_distance(detection: Detection, width_px: int, hfov_deg: float) -> DistanceEstimate:
    """One frame's distance from the eyes and the face box, fused by inverse variance."""
    f = focal_px(width_px, hfov_deg)
    box_w = detection.box[2]
    d_box = f * FACE_BOX_M / box_w
    var_box = (d_box * FACE_BOX_REL_NOISE) ** 2
    eyes = detection.eye_distance_px
    if eyes is None or eyes < 3.0:
        return DistanceEstimate(d_box, math.sqrt(var_box))
    d_eye = f * IPD_M / eyes
    rel_eye = math.sqrt(2.0) * KEYPOINT_NOISE_PX / eyes
    var_eye = (d_eye * max(rel_eye, 0.02)) ** 2
    weight = var_box / (var_box + var_eye)
    d = weight * d_eye + (1.0 - weight) * d_box
    return DistanceEstimate(d, math.sqrt(var_eye * var_box / (var_eye + var_box)))


class DistanceFilter:
    """Constant-velocity Kalman filter over one subject's distance (one verb: ``update``)."""

    def __init__(self, accel_sigma: float = 4.0) -> None:
        self.accel_sigma = accel_sigma  # m/s^2 of unmodelled motion
        self._x: list[float] | None = None  # [distance, speed]
        self._p = [[0.0, 0.0], [0.0, 0.0]]
        self._t = 0.0

    def predict(self, t: float) -> DistanceEstimate | None:
        if self._x is None:
            return None
        x, p = self._propagate(t)
        return DistanceEstimate(max(0.05, x[0]), math.sqrt(max(p[0][0], 0.0)))

    def update(self, t: float, measurement: DistanceEstimate) -> DistanceEstimate:
        if self._x is None:
            self._x = [measurement.metres, 0.0]
            self._p = [[measurement.sigma_m ** 2, 0.0], [0.0, 1.0]]
            self._t = t
            return measurement
        x, p = self._propagate(t)
        self._x, self._p = kalman.correct(x, p, measurement.metres, measurement.sigma_m ** 2)
        self._t = t
        return DistanceEstimate(max(0.05, self._x[0]), math.sqrt(max(self._p[0][0], 0.0)))

    def _propagate(self, t: float) -> tuple[list[float], list[list[float]]]:
        assert self._x is not None
        return kalman.predict(self._x, self._p, t - self._t, self.accel_sigma)
