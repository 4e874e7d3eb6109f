"""``focus-assistant calibrate``: measure a lens map by sweeping focus over a target.

For each known distance the user holds a detailed target (a printed chart,
a face) in the middle of the picture; the assistant sweeps the driver across
its range, measures the sharpness of the middle of the frame at each
position, and fits the sharpness peak (a coarse pass, then a fine pass around
the best position, then a parabola fitted to the top of the curve on log sharpness).
The (distance, native) pairs become the lens file's points, with the
driver's hard stops reported, soft limits and marks as given, and the file
is checked by loading it back.

On the virtual rig the rig places its chart at each distance itself
(``SimSource.place_layer``), so the whole procedure runs unattended.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from assistant.drivers.guard import GuardedDriver
from assistant.drivers.lensmap import LensFile, LensMap, LensPoint, load_lens, save_lens
from assistant.errors import ConfigError, OutputError, SourceError, UserInputError
from assistant.focus.peak import sharpness_peak
from assistant.types import Box, FrameSource
from assistant.units import to_dioptres
from assistant.vision.sharpness import SharpnessMeter

CHART_LAYER = "chart"
CHART_SHARE = 0.4
"""The rig's chart fills this share of the frame width at every distance (more than the measured fifth)."""


@dataclass(frozen=True)
class SweepSettings:
    """How finely to sweep and how long to let each position settle."""

    coarse_steps: int = 30
    fine_steps: int = 11
    settle_frames: int = 2  # frames to drop after arriving (camera pipeline latency)
    measure_frames: int = 2  # frames averaged per position
    arrive_timeout_frames: int = 90


@dataclass(frozen=True)
class Peak:
    """Where the target at ``distance_m`` was sharpest, and the sweep that found it."""

    distance_m: float
    native: float
    samples: tuple[tuple[float, float], ...]  # (native, sharpness) in sweep order


class FocusSweep:
    """Sweeps a driver (in native units, under the guard) and finds the sharpest position."""

    def __init__(self, driver: GuardedDriver, source: FrameSource, settings: SweepSettings = SweepSettings(),
                 meter: SharpnessMeter | None = None) -> None:
        self.driver = driver
        self.source = source
        self.settings = settings
        self.meter = meter or SharpnessMeter()

    def find_peak(self, distance_m: float) -> Peak:
        lo, hi = self.driver.limits
        coarse = np.linspace(lo, hi, self.settings.coarse_steps)
        samples = [(float(n), self._sharpness_at(float(n))) for n in coarse]
        best = max(range(len(samples)), key=lambda i: samples[i][1])
        spacing = coarse[1] - coarse[0]
        fine = np.linspace(max(lo, coarse[best] - spacing), min(hi, coarse[best] + spacing), self.settings.fine_steps)
        samples += [(float(n), self._sharpness_at(float(n))) for n in fine]
        return Peak(distance_m, sharpness_peak(samples[len(coarse):]), tuple(samples))

    def _sharpness_at(self, native: float) -> float:
        self._arrive(native)
        for _ in range(self.settings.settle_frames):
            self._frame()
        values = []
        for _ in range(self.settings.measure_frames):
            image = self._frame()
            values.append(self.meter.measure(image, [centre_box(image)]).boxes[0])
        return float(np.mean(values))

    def _arrive(self, native: float) -> None:
        """Command ``native`` and read frames until the driver says it is there (or stops moving)."""
        previous = None
        for _ in range(self.settings.arrive_timeout_frames):
            self.driver.move_to(native)  # repeated: the slew limit may need several steps
            if self.driver.fault:
                raise UserInputError(f"calibrate: the driver failed: {self.driver.fault}")
            self._frame()
            here = self.driver.position()
            if here is None or abs(here - native) <= 1e-3 * max(1.0, abs(native)) or here == previous:
                return
            previous = here

    def _frame(self) -> np.ndarray:
        frame = self.source.read()
        if frame is None:
            raise SourceError(f"{self.source.description}: the source ended during calibration; use a camera or the rig")
        return frame.image


def centre_box(image: np.ndarray) -> Box:
    """The middle fifth of the frame, which the user fills with the target."""
    h, w = image.shape[:2]
    return (2 * w // 5, 2 * h // 5, w // 5, h // 5)


@dataclass(frozen=True)
class CalibrationPlan:
    """What the user asked ``calibrate`` to do."""

    distances_m: tuple[float, ...]
    out: Path
    name: str = "lens"
    soft_limits: tuple[float, float] | None = None
    marks: tuple[tuple[str, float], ...] = ()
    prompt: bool = True


def calibrate(plan: CalibrationPlan, driver: GuardedDriver, units: str, source: FrameSource,
              settings: SweepSettings = SweepSettings(), say: TextIO | None = None,
              ask: Callable[[str], str] = input) -> tuple[LensFile, LensMap]:
    """Sweep at each distance, fit and save the lens file; returns what was saved (loaded back)."""
    say = say or sys.stderr
    if len(plan.distances_m) < 2:
        raise UserInputError("calibrate: give at least two distances, e.g. --distances 0.5,1,3")
    check_writable(plan.out)
    hard = driver.limits
    say.write(f"calibrate: driver {driver.description}, {units} units, hard stops {hard[0]:g} .. {hard[1]:g}\n")
    sweep = FocusSweep(driver, source, settings)
    peaks = []
    for distance in plan.distances_m:
        _present_target(source, distance, plan.prompt, ask)
        peak = sweep.find_peak(distance)
        peaks.append(peak)
        say.write(f"  {distance:g} m: sharpest at {peak.native:.4g} {units} ({len(peak.samples)} positions)\n")
        say.flush()
    points = tuple(LensPoint(p.distance_m, round(p.native, 4)) for p in peaks)
    try:
        LensMap([(to_dioptres(p.distance_m), p.native) for p in points], units)
    except ValueError as exc:
        found = ", ".join(f"{p.distance_m:g} m -> {p.native:.4g}" for p in points)
        raise UserInputError(f"calibrate: the sharpness peaks do not line up with the distances ({found}): {exc}; "
                             "check the target was at each distance and detailed enough") from exc
    lens = LensFile(name=plan.name, units=units, points=points,
                    soft_limits=plan.soft_limits or hard, max_speed=driver.max_speed, marks=dict(plan.marks))
    save_lens(plan.out, lens)
    try:
        saved = load_lens(plan.out)
    except ConfigError as exc:  # a bug here, not a user mistake: say so plainly
        raise RuntimeError(f"calibrate wrote a lens file it cannot read back: {exc}") from exc
    say.write(f"calibrate: wrote {plan.out}\n")
    return saved


def check_writable(path: Path) -> None:
    """Fail now, not after the sweep, when the lens file cannot be written where asked.

    A hand-held session is costly to repeat, so a file is really made and
    removed beside ``path`` (catching permissions, read-only and pseudo file
    systems such as /proc), and an existing file is opened for appending
    without changing it. A missing folder is made, as for every output file.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give --out a .toml file path for the lens file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"):
            pass
        if path.exists():
            with path.open("a"):
                pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(f"{path}: cannot write the lens file there ({reason}); give --out a path in a writable "
                          "folder (nothing was swept)") from exc


def _present_target(source: Any, distance_m: float, prompt: bool, ask: Callable[[str], str]) -> None:
    """Get the target to ``distance_m``: the rig moves its chart; a person is asked to."""
    place = getattr(source, "place_layer", None)
    if place is not None:
        place(CHART_LAYER, distance_m, CHART_SHARE)
        return
    if not prompt:
        return
    if not sys.stdin.isatty() and ask is input:
        raise UserInputError("calibrate: it asks you to hold the target at each distance, so run it on a terminal "
                             "(or pass --yes when the target is already in place)")
    ask(f"Hold a detailed target (a printed chart, a poster) {distance_m:g} m from the lens so that it fills the "
        "middle of the picture, then press Enter: ")
