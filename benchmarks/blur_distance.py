"""Distance from face size against defocus blur: the real detector on the virtual rig.

Why: a defocused face may read nearer than it is (blur spreads the face, and
BlazeFace's box and eye keypoints may spread with it: Grace Hopper's do, the
astronaut's box does not). This study renders one
person (``grace_hopper`` or ``astronaut``) in front of a brick wall at known
distances on the 1280x720, 40 degree rig camera, with the lens focused in
front of them so their blur disk has a chosen diameter, and detects the face
as the subject stage does: the short-range model on a crop four face-widths
wide around the face, and the full-range model on the whole frame. The blur is
measured from the picture (``BlurMeter`` on the detection's box, as the
pipeline does), never taken from the truth.

It prints the distance error of the box cue, the eye cue and their fusion
without a blur reading (``measure_distance``), then of the shipped estimate
given the measured blur (``measure_distance(..., blur_px=...)``), which
keeps each cue's distance and only widens its sigma by the distance Grace
Hopper's fitted growth would have moved it (so only the cues' weights, and
the stated uncertainty, change). With each: the median sigma and the 90th
percentile of |error| / sigma, i.e. whether the stated sigma covers the error.
All against the true blur diameter and against the measured blur, separately
for the tuning set (Grace Hopper at 1.8, 2.7 and 3.8 m: the growth constants
that size the doubt were fitted there) and the held-out set (Grace Hopper at
1.5, 2.2, 3.2 and 4.5 m, and the astronaut at all seven distances); last, one
table per face of the shipped behaviour against blur. ``--fit`` re-derives
the growth constants (``BOX_GROWTH_PX``, ``EYE_GROWTH_PX``) on the tuning set.

Run: ``.venv/bin/python benchmarks/blur_distance.py``
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.sim.assets import AssetLibrary  # noqa: E402
from assistant.sim.optics import ThinLens  # noqa: E402
from assistant.sim.renderer import Renderer  # noqa: E402
from assistant.sim.scene import CameraSpec, LayerSpec, MotionKey, Scene  # noqa: E402
from assistant.types import Box  # noqa: E402
from assistant.vision.blur import BlurMeter, edge_blur_sigma  # noqa: E402
from assistant.vision.depth import (  # noqa: E402
    FACE_BOX_M,
    IPD_M,
    MAX_EXCESS_SIGMA_PX,
    SHARP_SIGMA_PX,
    focal_px,
    measure_distance,
)
from assistant.vision.faces import Detection, MediaPipeFaceDetector, RegionDetector  # noqa: E402

ASSETS = ("grace_hopper", "astronaut")
DISTANCES_M = (1.5, 1.8, 2.2, 2.7, 3.2, 3.8, 4.5)
BLURS_PX = (0.0, 2.0, 4.0, 8.0, 12.0, 15.0, 20.0, 30.0)
TUNING = ("grace_hopper", (1.8, 2.7, 3.8))
"""The one asset and the distances the growth constants were fitted on; everything else is held out."""
PLACES = ((0.5, 0.42), (0.36, 0.5), (0.63, 0.38))
"""Where the face's centre stands in the frame (fractions of width, height); each uses its own noise frame."""
CROP_SCALE, MIN_CROP_PX = 4.0, 96
"""As ``SearchConfig``: the short model searches a square four face-widths wide around a tracked face."""
SIZE_GATE = 1.6
"""As ``TrackerConfig.size_gate``: a box this many times off the face's true width is a wrong box, not a spread one."""


@dataclass(frozen=True)
class Sample:
    """One detection of the face in one rendered frame, and what each distance cue made of it."""

    asset: str
    distance_m: float
    coc_px: float  # true blur-disk diameter (renderer truth), for the table only
    model: str
    detection: Detection | None
    true_width_px: float
    blur_sigma_px: float | None  # measured from the picture on the detection's box

    @property
    def gross(self) -> bool:
        """A wrong box (e.g. the whole blurred portrait taken for a face), not a spread one."""
        if self.detection is None:
            return False
        ratio = self.detection.box[2] / self.true_width_px
        return not 1.0 / SIZE_GATE <= ratio <= SIZE_GATE

    @property
    def tuning(self) -> bool:
        return self.asset == TUNING[0] and self.distance_m in TUNING[1]


def focus_dpt_for_blur(lens: ThinLens, distance_m: float, coc_px: float) -> float:
    """Focus (dioptres) in front of a subject at ``distance_m`` that blurs it into a disk ``coc_px`` wide.

    Inverts ``ThinLens.coc_mm``: c = A (1/s - 1/d) / (1 - f/s), A = f^2 / N.
    """
    f = lens.focal_length_mm / 1000.0
    a = f * f / lens.f_number
    c = coc_px * lens.sensor_width_mm / lens.width_px / 1000.0
    return (c + a / distance_m) / (a + c * f)


def person_layer(library: AssetLibrary, asset: str, lens: ThinLens, size: tuple[int, int],
                 poses: Sequence[tuple[float, tuple[float, float]]]) -> LayerSpec:
    """The person's layer, holding pose ``i`` (distance, face centre as fractions of the frame) at t = i.

    One layer (so one renderer) for all poses: making a renderer draws its sensor-noise pool, which
    costs more than rendering a frame.
    """
    photo = library.get(asset)
    height, width = photo.rgba.shape[:2]
    fx, fy, fw, fh = photo.info.face_box or (0, 0, width, height)
    keys = []
    for i, (distance_m, (face_x, face_y)) in enumerate(poses):
        px_per_photo_px = lens.focal_px * photo.info.metres_per_pixel / distance_m
        dx = (fx + fw / 2 - width / 2) * px_per_photo_px / size[0]
        dy = (fy + fh / 2 - height / 2) * px_per_photo_px / size[1]
        keys.append(MotionKey(t=float(i), x=face_x - dx, y=face_y - dy, distance_m=distance_m))
    first = keys[0]
    assert first.distance_m is not None and first.x is not None and first.y is not None
    return LayerSpec(name="person", asset=asset, distance_m=first.distance_m, x=first.x, y=first.y, label="A",
                     motion=tuple(keys))


def rig(library: AssetLibrary, asset: str, poses: Sequence[tuple[float, tuple[float, float]]],
        noise_sigma: float = 1.5) -> Renderer:
    """The rig camera looking at one person before a brick wall at 7 m, pose ``i`` held at t = i."""
    camera = CameraSpec()
    scene = Scene(name="blur_distance", noise_sigma=noise_sigma, camera=camera, duration_s=max(1.0, len(poses)),
                  layers=(LayerSpec(name="wall", asset="brick", distance_m=7.0, fill=True),
                          person_layer(library, asset, camera.thin_lens(), (camera.width, camera.height), poses)))
    return Renderer(scene, library)


def crop_around(box: Box | tuple[float, float, float, float], width: int, height: int) -> Box:
    """The short model's search square around a face, as ``SearchPlanner`` makes it."""
    x, y, w, h = box
    side = min(max(MIN_CROP_PX, round(CROP_SCALE * max(w, h))), width, height)
    cx, cy = x + w / 2, y + h / 2
    left = int(min(max(0, round(cx - side / 2)), width - side))
    top = int(min(max(0, round(cy - side / 2)), height - side))
    return (left, top, side, side)


def nearest_face(found: Sequence[Detection], face: Box) -> Detection | None:
    """The detection whose centre is nearest the true face's centre (what the tracker would match)."""
    if not found:
        return None
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return min(found, key=lambda d: math.hypot(d.centre[0] - cx, d.centre[1] - cy))


def int_box(box: tuple[float, float, float, float]) -> Box:
    return (round(box[0]), round(box[1]), round(box[2]), round(box[3]))


def collect(detectors: dict[str, RegionDetector], assets: Iterable[str] = ASSETS,
            distances: Sequence[float] = DISTANCES_M, blurs: Sequence[float] = BLURS_PX,
            places: Sequence[tuple[float, float]] = PLACES, noise_sigma: float = 1.5) -> list[Sample]:
    """Render every (asset, distance, blur, place), detect with both models, measure the blur on each box."""
    camera = CameraSpec()
    lens = camera.thin_lens()
    size = (camera.width, camera.height)
    library = AssetLibrary()
    meter = BlurMeter()
    samples = []
    for asset in assets:
        poses = [(distance, place) for distance in distances for place in places]
        renderer = rig(library, asset, poses, noise_sigma)
        for i, (distance, place) in enumerate(poses):
            for blur in blurs:
                image, truth = renderer.render(float(i), focus_dpt_for_blur(lens, distance, blur), places.index(place))
                person = next(t for t in truth if t.face_box is not None)
                face = person.face_box
                assert face is not None and abs(person.distance_m - distance) < 1e-9
                for model, region in (("short", crop_around(face, *size)), ("full", (0, 0, *size))):
                    det = nearest_face(detectors[model].detect(image, region), face)
                    sigma = None if det is None else meter.measure(image, [int_box(det.box)])[0]
                    samples.append(Sample(asset, distance, person.coc_px, model, det, face[2], sigma))
    return samples


def errors(sample: Sample, estimate: Callable[[Detection, float | None], float]) -> float:
    """Relative distance error of one sample under one estimator."""
    assert sample.detection is not None
    return estimate(sample.detection, sample.blur_sigma_px) / sample.distance_m - 1.0


HFOV = CameraSpec().thin_lens().hfov_deg
F_PX = focal_px(CameraSpec().width, HFOV)


def box_cue(det: Detection, _: float | None) -> float:
    return F_PX * FACE_BOX_M / det.box[2]


def eye_cue(det: Detection, _: float | None) -> float:
    eyes = det.eye_distance_px
    return F_PX * IPD_M / eyes if eyes else math.nan


def fused(det: Detection, _: float | None) -> float:
    return measure_distance(det, CameraSpec().width, HFOV).metres


def shipped(det: Detection, blur: float | None) -> float:
    """The distance given the measured blur, as the pipeline computes it."""
    return measure_distance(det, CameraSpec().width, HFOV, blur_px=blur).metres


def shipped_sigma(det: Detection, blur: float | None) -> float:
    return measure_distance(det, CameraSpec().width, HFOV, blur_px=blur).sigma_m


def fused_sigma(det: Detection, blur: float | None) -> float:
    return measure_distance(det, CameraSpec().width, HFOV).sigma_m


def summary(values: list[float]) -> str:
    """Median and worst absolute relative error, in per cent (signed median, so a bias shows)."""
    clean = [v for v in values if not math.isnan(v)]
    if not clean:
        return f"{'-':>13}"
    worst = max(clean, key=abs)
    return f"{100 * statistics.median(clean):+5.1f} {100 * worst:+6.1f}"


def table(samples: list[Sample], bins: list[tuple[str, Callable[[Sample], bool]]], title: str) -> str:
    """Distance error per bin: box, eye, fused without blur_px (f), shipped with it (s), and their sigma and |z|."""
    lines = [title,
             f"{'':>14} {'n':>3} {'gross':>5} | {'box med worst':>13} | {'eye med worst':>13} | "
             f"{'fused med worst':>15} | {'shipped':>15} | {'sigma% f/s':>10} | {'|z|90 f/s':>9}"]
    for name, keep in bins:
        chosen = [s for s in samples if keep(s) and s.detection is not None]
        good = [s for s in chosen if not s.gross]
        if not chosen:
            continue
        cols = [summary([errors(s, fn) for s in good]) for fn in (box_cue, eye_cue, fused, shipped)]
        if good:
            sig_f = statistics.median(fused_sigma(s.detection, s.blur_sigma_px) / s.distance_m for s in good)
            sig_c = statistics.median(shipped_sigma(s.detection, s.blur_sigma_px) / s.distance_m for s in good)
            z_f = _quantile([abs(fused(s.detection, None) - s.distance_m) / fused_sigma(s.detection, None)
                             for s in good], 0.9)
            z_c = _quantile([abs(shipped(s.detection, s.blur_sigma_px) - s.distance_m)
                             / shipped_sigma(s.detection, s.blur_sigma_px) for s in good], 0.9)
            extra = f"{100 * sig_f:4.1f}/{100 * sig_c:4.1f} | {z_f:4.1f}/{z_c:4.1f}"
        else:
            extra = ""
        lines.append(f"{name:>14} {len(good):>3} {len(chosen) - len(good):>5} | {cols[0]:>13} | {cols[1]:>13} | "
                     f"{cols[2]:>15} | {cols[3]:>15} | {extra}")
    return "\n".join(lines)


def _quantile(values: list[float], q: float) -> float:
    return float(np.quantile(values, q)) if values else math.nan


SETS: tuple[tuple[str, Callable[[Sample], bool]], ...] = (
    ("tuning: grace_hopper 1.8, 2.7, 3.8 m", lambda s: s.tuning),
    ("held out: grace_hopper 1.5, 2.2, 3.2, 4.5 m", lambda s: s.asset == "grace_hopper" and not s.tuning),
    ("held out: astronaut, all distances", lambda s: s.asset == "astronaut"),
)


def overview(samples: list[Sample]) -> str:
    """One line per set and model: faces measured blurred (s >= 1.5 px), without blur_px and shipped (with it)."""
    lines = ["Blurred faces (measured s >= 1.5 px, gross boxes left out): without blur_px -> shipped (with it)",
             f"{'':44} {'model':5} {'n':>3} | {'median err %':>13} | {'mean |err| %':>13} | {'worst %':>13} | "
             f"{'sigma %':>11} | {'|z|90':>9}"]
    for name, keep in SETS:
        for model in ("short", "full"):
            good = [s for s in samples if keep(s) and s.model == model and s.detection is not None and not s.gross
                    and s.blur_sigma_px is not None and s.blur_sigma_px >= 1.5]
            if not good:
                continue
            cols = []
            for value in (fused, shipped):
                err = [errors(s, value) for s in good]
                cols.append((statistics.median(err), statistics.mean(abs(e) for e in err), max(err, key=abs)))
            sig = [(fused_sigma(s.detection, None) / s.distance_m, shipped_sigma(s.detection, s.blur_sigma_px)
                    / s.distance_m) for s in good if s.detection is not None]
            z_f = _quantile([abs(errors(s, fused)) / sf for s, (sf, _) in zip(good, sig)], 0.9)
            z_c = _quantile([abs(errors(s, shipped)) / sc for s, (_, sc) in zip(good, sig)], 0.9)
            (m0, a0, w0), (m1, a1, w1) = cols
            lines.append(f"{name:44} {model:5} {len(good):>3} | {100 * m0:+5.1f} -> {100 * m1:+5.1f} | "
                         f"{100 * a0:5.1f} -> {100 * a1:5.1f} | {100 * w0:+5.1f} -> {100 * w1:+5.1f} | "
                         f"{100 * statistics.median(f for f, _ in sig):4.1f} -> "
                         f"{100 * statistics.median(c for _, c in sig):4.1f} | {z_f:3.1f} -> {z_c:3.1f}")
    return "\n".join(lines)


def per_face(samples: list[Sample], model: str) -> str:
    """The shipped behaviour per face against the true blur diameter, all distances, gross boxes left out.

    Per blur: the signed median error (the same with or without blur_px but for the re-weighting), the
    median sigma, and the 90th percentile and the worst of |error| / sigma, without blur_px -> shipped.
    """
    lines = [f"[{model}] Shipped behaviour per face against blur (all seven distances, three places each)",
             f"{'':12} {'D px':>4} {'n':>3} | {'median err %':>13} | {'sigma %':>11} | {'|z|90':>10} | "
             f"{'|z| worst':>10}"]
    for asset in ASSETS:
        for blur in BLURS_PX:
            good = [s for s in samples if s.asset == asset and s.model == model and abs(s.coc_px - blur) < 0.5
                    and s.detection is not None and not s.gross]
            if not good:
                lines.append(f"{asset:12} {blur:4.0f} {0:>3} | (no face found)")
                continue
            err_f = [errors(s, fused) for s in good]
            err_s = [errors(s, shipped) for s in good]
            sig_f = [fused_sigma(s.detection, None) / s.distance_m for s in good]
            sig_s = [shipped_sigma(s.detection, s.blur_sigma_px) / s.distance_m for s in good]
            z_f = [abs(e) / g for e, g in zip(err_f, sig_f)]
            z_s = [abs(e) / g for e, g in zip(err_s, sig_s)]
            lines.append(f"{asset:12} {blur:4.0f} {len(good):>3} | {100 * statistics.median(err_f):+5.1f} -> "
                         f"{100 * statistics.median(err_s):+5.1f} | {100 * statistics.median(sig_f):4.1f} -> "
                         f"{100 * statistics.median(sig_s):4.1f} | {_quantile(z_f, 0.9):3.1f} -> "
                         f"{_quantile(z_s, 0.9):3.1f} | {max(z_f):3.1f} -> {max(z_s):3.1f}")
    return "\n".join(lines)


def by_true_blur() -> list[tuple[str, Callable[[Sample], bool]]]:
    return [(f"D = {b:.0f} px", lambda s, b=b: abs(s.coc_px - b) < 0.5) for b in BLURS_PX]


MEASURED_BINS = ((0.0, 1.0), (1.0, 1.5), (1.5, 2.5), (2.5, 3.5), (3.5, 4.5), (4.5, 6.0), (6.0, 99.0))


def by_measured_blur() -> list[tuple[str, Callable[[Sample], bool]]]:
    return [(f"s {lo:.1f}-{hi:.1f}" if hi < 99 else f"s >= {lo:.1f}",
             lambda s, lo=lo, hi=hi: s.blur_sigma_px is not None and lo <= s.blur_sigma_px < hi)
            for lo, hi in MEASURED_BINS]


def fit(samples: list[Sample]) -> dict[str, float]:
    """The growth constants that size a blurred face's doubt, fitted on the tuning set (short model, non-gross).

    The box and the eye spacing are each modelled as growing by ``k * excess`` pixels,
    ``excess = max(0, sigma - SHARP_SIGMA_PX)`` (blur spreads edges by pixels, not by
    face-widths); ``k`` is the least-squares slope through the origin of ``measured -
    expected`` against ``excess``, expected being the pinhole size at the true distance times
    the sharp frames' own median ratio (the face's own departure from the mean face is not
    blur's). The RMS of what is left, in pixels and in per cent, is reported by blur.
    """
    good = [s for s in samples if s.tuning and s.model == "short" and s.detection is not None and not s.gross]
    result: dict[str, float] = {}
    for cue, size, metres in (("box", lambda d: d.box[2], FACE_BOX_M), ("eye", lambda d: d.eye_distance_px, IPD_M)):
        scale = statistics.median(size(s.detection) / (F_PX * metres / s.distance_m) for s in good if s.coc_px < 0.5)
        rows = []
        for s in good:
            assert s.detection is not None and s.blur_sigma_px is not None
            excess = min(max(0.0, s.blur_sigma_px - SHARP_SIGMA_PX), MAX_EXCESS_SIGMA_PX)
            expected = scale * F_PX * metres / s.distance_m
            rows.append((excess, size(s.detection) - expected, expected))
        k = sum(e * g for e, g, _ in rows) / sum(e * e for e, _, _ in rows)
        result[f"{cue}_growth_px_per_sigma"] = k
        result[f"{cue}_sharp_scale"] = scale
        for lo, hi in ((0.0, 1e-9), (1e-9, 2.0), (2.0, 99.0)):
            left = [(g - k * e, x) for e, g, x in rows if lo <= e < hi]
            if left:
                result[f"{cue}_residual_px_excess_{lo:.0f}-{min(hi, 9):.0f}"] = math.sqrt(
                    statistics.mean(r * r for r, _ in left))
                result[f"{cue}_residual_pct_excess_{lo:.0f}-{min(hi, 9):.0f}"] = 100 * math.sqrt(
                    statistics.mean((r / x) ** 2 for r, x in left))
    return result


def time_blur_meter(widths: Sequence[int] = (60, 170), blurs: Sequence[float] = (0.0, 8.0),
                    repeats: int = 300) -> list[tuple[int, float, float, float, float]]:
    """Milliseconds of ``edge_blur_sigma`` (fastest and median) and of ``BlurMeter.measure`` (median)
    on a rig face ``widths`` px wide.

    Why: the subject stage would have to measure a face's blur itself to weigh its distance in
    the same frame (the pipeline's ``BlurMeter`` runs after it). The fastest run is the cost on an
    idle core; the median includes whatever else the shared machine is doing.
    Returns (width, blur D, edge fastest, edge median, meter median).
    """
    camera = CameraSpec()
    lens = camera.thin_lens()
    library = AssetLibrary()
    info = library.infos["grace_hopper"]
    face_m = (info.face_box or (0, 0, 1, 1))[2] * info.metres_per_pixel
    meter = BlurMeter()
    out = []
    for width in widths:
        distance = lens.focal_px * face_m / width
        renderer = rig(library, "grace_hopper", [(distance, (0.5, 0.45))])
        for blur in blurs:
            image, truth = renderer.render(0.0, focus_dpt_for_blur(lens, distance, blur))
            face = next(t.face_box for t in truth if t.face_box is not None)
            assert face is not None
            x, y, w, h = face
            grey = cv2.cvtColor(image[y - 1:y + h + 1, x - 1:x + w + 1], cv2.COLOR_BGR2GRAY)
            edge, whole = [], []
            for _ in range(repeats):
                start = time.perf_counter()
                edge_blur_sigma(grey)
                middle = time.perf_counter()
                meter.measure(image, [face])
                whole.append((time.perf_counter() - middle) * 1000.0)
                edge.append((middle - start) * 1000.0)
            out.append((w, blur, min(edge), statistics.median(edge), statistics.median(whole)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true",
                        help="print BOX_GROWTH_PX / EYE_GROWTH_PX re-fitted on the tuning set")
    parser.add_argument("--model", choices=("short", "full", "both"), default="both")
    args = parser.parse_args(argv)
    detectors = {name: MediaPipeFaceDetector(name) for name in ("short", "full")}
    try:
        start = time.perf_counter()
        samples = collect(detectors)
        print(f"{len(samples)} detections searched in {time.perf_counter() - start:.1f} s "
              f"(errors in %: signed median and the worst; 'gross' = a box more than {SIZE_GATE}x off the face, "
              "left out of the error columns; sigma% = median one-sigma in % of the distance, without blur_px/shipped; "
              "|z|90 = 90th percentile of |error| / sigma)")
        if args.fit:
            for key, value in fit(samples).items():
                print(f"  {key} = {value:.4f}")
        models = ("short", "full") if args.model == "both" else (args.model,)
        for model in models:
            for name, keep in SETS:
                chosen = [s for s in samples if s.model == model and keep(s)]
                missed = sum(1 for s in chosen if s.detection is None)
                print()
                print(table(chosen, by_true_blur(), f"[{model}] {name}: against the TRUE blur diameter D "
                                                    f"({missed} of {len(chosen)} frames: no face found)"))
                print(table(chosen, by_measured_blur(), f"[{model}] {name}: against the MEASURED blur sigma s"))
        print()
        print(overview(samples))
        at = [s for s in samples if s.distance_m == 3.2 and abs(s.coc_px - 15.0) < 0.5 and s.detection is not None]
        print("\nAt 3.2 m and D = 15 px, each detection (distance m: box / eye / fused -> shipped +- sigma):")
        for s in at:
            det = s.detection
            assert det is not None
            est = measure_distance(det, CameraSpec().width, HFOV, blur_px=s.blur_sigma_px)
            print(f"  {s.asset:12} {s.model:5} s={s.blur_sigma_px:4.2f} px  {box_cue(det, None):4.2f} / "
                  f"{eye_cue(det, None):4.2f} / {fused(det, None):4.2f} -> {est.metres:4.2f} +- {est.sigma_m:4.2f}"
                  f"{'  (gross box)' if s.gross else ''}")
        for model in models:
            print()
            print(per_face(samples, model))
    finally:
        for detector in detectors.values():
            detector.close()
    print("\nCost of measuring a face's blur in the subject stage:")
    for width, blur, fastest, edge, whole in time_blur_meter():
        print(f"  face {width:3} px wide, blur disk {blur:2.0f} px: edge_blur_sigma {fastest:.2f} ms fastest, "
              f"{edge:.2f} ms median; BlurMeter.measure (crop, grey, measure) {whole:.2f} ms median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
