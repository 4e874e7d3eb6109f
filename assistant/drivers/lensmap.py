"""Lens maps: focus distance (as dioptres) to a driver's native units and back.

A lens's focus scale is not linear in anything convenient, so a lens file
lists measured pairs — ``distance_m`` and the ``native`` value that focuses
there — and the map interpolates between them with a monotone cubic
(Fritsch–Carlson), which never overshoots between points: a map that
increases (or decreases) in the table increases (or decreases) everywhere.
Interpolation is in dioptres, where depth of field is roughly constant.
Outside the table the map holds the end values: no extrapolating past what
was measured.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import ConfigError, OutputError
from assistant.schema import build, limits, read_toml
from assistant.units import to_dioptres


@dataclass(frozen=True)
class LensPoint:
    """One measured pair: the lens focuses at ``distance_m`` when the driver is at ``native``."""

    distance_m: float = field(metadata=limits(lo=0.01))
    native: float = 0.0


@dataclass(frozen=True)
class LensFile:
    """A lens file as written in ``config/lenses/*.toml``."""

    name: str = "lens"
    units: str = "native"
    points: tuple[LensPoint, ...] = ()
    soft_limits: tuple[float, ...] = ()
    """Native (min, max) the assistant never commands beyond; empty means the table's range."""
    max_speed: float = field(default=math.inf, metadata=limits(lo=0.0, lo_open=True))
    """Slew limit in native units per second (infinite means the driver's own)."""
    marks: dict[str, float] = field(default_factory=dict)
    """Named focus marks (A-D, ...) in metres."""


class LensMap:
    """Monotone interpolation between dioptres and native units."""

    def __init__(self, pairs: list[tuple[float, float]], units: str = "native") -> None:
        """``pairs`` are (dioptres, native); at least two, with distinct dioptres and a monotone native."""
        pairs = sorted(pairs)
        if len(pairs) < 2:
            raise ValueError("a lens map needs at least two points")
        dpt = [float(d) for d, _ in pairs]
        native = [float(n) for _, n in pairs]
        if any(b <= a for a, b in zip(dpt, dpt[1:])):
            raise ValueError("lens map points must be at different distances")
        steps = [b - a for a, b in zip(native, native[1:])]
        if not (all(s > 0 for s in steps) or all(s < 0 for s in steps)):
            raise ValueError("lens map native values must rise (or fall) steadily with distance")
        self.units = units
        self._dpt = dpt
        self._native = native
        self._slopes = _monotone_slopes(dpt, native)

    @property
    def native_range(self) -> tuple[float, float]:
        return min(self._native[0], self._native[-1]), max(self._native[0], self._native[-1])

    def to_native(self, dioptres: float) -> float:
        """The native value that focuses at ``dioptres`` (clamped to the table)."""
        d = min(self._dpt[-1], max(self._dpt[0], dioptres))
        i = min(len(self._dpt) - 2, max(0, bisect.bisect_right(self._dpt, d) - 1))
        return _hermite(self._dpt, self._native, self._slopes, i, d)

    def to_dioptres(self, native: float) -> float:
        """Where the lens focuses at ``native`` (inverse of :meth:`to_native`, by bisection)."""
        lo, hi = self._dpt[0], self._dpt[-1]
        rising = self._native[-1] > self._native[0]
        lo_n, hi_n = self.native_range
        native = min(hi_n, max(lo_n, native))
        for _ in range(60):  # 2^-60 of the range: far below any lens's resolution
            mid = (lo + hi) / 2
            if (self.to_native(mid) < native) == rising:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def dioptre_speed(self, native_per_s: float) -> float:
        """The dioptre speed a native speed guarantees everywhere (at the steepest part)."""
        steepest = max(abs(s) for s in self._slopes)
        return math.inf if steepest == 0 else native_per_s / steepest


def _monotone_slopes(x: list[float], y: list[float]) -> list[float]:
    """Fritsch–Carlson tangents: harmonic-mean slopes, zero at local extrema, capped to keep monotone."""
    secants = [(y[i + 1] - y[i]) / (x[i + 1] - x[i]) for i in range(len(x) - 1)]
    slopes = [secants[0]] + [0.0] * (len(x) - 2) + [secants[-1]]
    for i in range(1, len(x) - 1):
        a, b = secants[i - 1], secants[i]
        if a * b > 0:
            wa, wb = 2 * (x[i + 1] - x[i]) + (x[i] - x[i - 1]), (x[i + 1] - x[i]) + 2 * (x[i] - x[i - 1])
            slopes[i] = (wa + wb) / (wa / a + wb / b)
    for i, s in enumerate(secants):  # the end tangents must not exceed three secants either
        for j in (i, i + 1):
            if s == 0:
                slopes[j] = 0.0
            elif abs(slopes[j]) > 3 * abs(s):
                slopes[j] = 3 * s
    return slopes


def _hermite(x: list[float], y: list[float], m: list[float], i: int, at: float) -> float:
    h = x[i + 1] - x[i]
    t = (at - x[i]) / h
    t2, t3 = t * t, t * t * t
    return ((2 * t3 - 3 * t2 + 1) * y[i] + (t3 - 2 * t2 + t) * h * m[i]
            + (-2 * t3 + 3 * t2) * y[i + 1] + (t3 - t2) * h * m[i + 1])


def load_lens(path: Path) -> tuple[LensFile, LensMap]:
    """Read and check a lens file; errors name the file and the key."""
    lens = build(LensFile, read_toml(path), str(path))
    try:
        lens_map = LensMap([(to_dioptres(p.distance_m), p.native) for p in lens.points], lens.units)
    except ValueError as exc:
        raise ConfigError(f"{path}: points: {exc}; list [[points]] with distance_m and native, one per calibrated distance") from exc
    if lens.soft_limits:
        if len(lens.soft_limits) != 2 or not lens.soft_limits[0] < lens.soft_limits[1]:
            raise ConfigError(f"{path}: soft_limits: expected [min, max] in native units with min < max, got {list(lens.soft_limits)}")
    for name, metres in lens.marks.items():
        if not metres > 0:
            raise ConfigError(f"{path}: marks.{name}: expected a distance in metres > 0, got {metres}")
    return lens, lens_map


def save_lens(path: Path, lens: LensFile) -> None:
    """Write a lens file that :func:`load_lens` reads back (used by ``calibrate``)."""
    lines = [f"name = {_toml_string(lens.name)}", f"units = {_toml_string(lens.units)}"]
    if lens.soft_limits:
        lines.append(f"soft_limits = [{lens.soft_limits[0]:g}, {lens.soft_limits[1]:g}]")
    if math.isfinite(lens.max_speed):
        lines.append(f"max_speed = {lens.max_speed:g}")
    if lens.marks:
        lines += ["", "[marks]"] + [f"{_toml_string(name)} = {metres:g}" for name, metres in lens.marks.items()]
    for point in lens.points:
        distance = "inf" if math.isinf(point.distance_m) else f"{point.distance_m:g}"
        lines += ["", "[[points]]", f"distance_m = {distance}", f"native = {point.native:g}"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the lens file ({exc.strerror}); choose a writable path") from exc


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's for these characters)."""
    return json.dumps(text, ensure_ascii=False)
