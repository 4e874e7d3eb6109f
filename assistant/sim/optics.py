"""Thin-lens optics: circle of confusion, depth of field, field of view.

Pure functions of distances in metres; focus may also be given in dioptres
(1/m, 0 = infinity) because that is how lenses move evenly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ThinLens:
    """A camera: focal length and f-number of the lens, sensor width, image width."""

    focal_length_mm: float
    f_number: float
    sensor_width_mm: float
    width_px: int

    def __post_init__(self) -> None:
        for name in ("focal_length_mm", "f_number", "sensor_width_mm"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.width_px < 1:
            raise ValueError(f"width_px must be >= 1, got {self.width_px}")

    @property
    def focal_px(self) -> float:
        """Focal length in pixels of the image (for perspective scaling)."""
        return self.focal_length_mm / self.sensor_width_mm * self.width_px

    @property
    def hfov_deg(self) -> float:
        """Horizontal field of view in degrees."""
        return math.degrees(2.0 * math.atan(self.sensor_width_mm / (2.0 * self.focal_length_mm)))

    @property
    def min_focus_m(self) -> float:
        """Closest distance the thin lens can focus (just beyond the focal length)."""
        return 1.001 * self.focal_length_mm / 1000.0

    def coc_mm(self, focus_m: float, subject_m: float) -> float:
        """Blur-circle diameter on the sensor (mm) of a point at ``subject_m``.

        c = (f^2 / N) * |1/s - 1/d| / (1 - f/s), with focus s and subject d in
        metres; s = inf (0 dioptres) gives c = f^2 / (N d).
        """
        f = self.focal_length_mm / 1000.0
        inv_s = 0.0 if math.isinf(focus_m) else 1.0 / focus_m
        if subject_m <= f or inv_s >= 1.0 / f:
            raise ValueError(f"distances must exceed the focal length ({f} m): focus {focus_m}, subject {subject_m}")
        c = (f * f / self.f_number) * abs(inv_s - 1.0 / subject_m) / (1.0 - f * inv_s)
        return c * 1000.0

    def coc_px(self, focus_m: float, subject_m: float) -> float:
        """Blur-circle diameter in image pixels."""
        return self.coc_mm(focus_m, subject_m) / self.sensor_width_mm * self.width_px

    def depth_of_field(self, focus_m: float, coc_limit_mm: float) -> tuple[float, float]:
        """(near, far) limits in metres of acceptable sharpness; far may be ``inf``."""
        f = self.focal_length_mm / 1000.0
        c = coc_limit_mm / 1000.0
        hyperfocal = f * f / (self.f_number * c) + f
        s = focus_m
        if math.isinf(s):
            return hyperfocal, math.inf
        near = s * (hyperfocal - f) / (hyperfocal + s - 2.0 * f)
        far = math.inf if s >= hyperfocal else s * (hyperfocal - f) / (hyperfocal - s)
        return near, far

