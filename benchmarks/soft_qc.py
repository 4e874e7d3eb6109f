"""Soft sections: ``qc``'s against thresholding FFmpeg's ``blurdetect``, on generated clips with truth.

Clips come from seeds (``assistant.sim.generate``) and are rendered once by
``benchmarks/labels.py`` (shared cache ``.cache/label-clips``). Each clip is
measured twice and the results cached in ``.cache/softqc`` under the clip's
file name (which holds a digest of its scene):

- **qc**: the pipeline ``focus-assistant qc`` runs on each clip
  (``build_pipeline(LiveOptions(analyze=True, ...))``), with the clip's own
  field of view (``truth["hfov_deg"]``, what ``qc --hfov`` would be given for
  that camera); its soft sections made exactly as ``qc`` makes
  ``soft_sections`` (``assistant.qc.soft``: each soft event stretched while
  its subject stays judged out of focus). The field of view only scales distances: one
  ``run_qc`` batch at the default 60 degrees gave the same soft sections on
  all 400 clips of seeds 1000-1199 and 7000-7199 (it can move a pull's
  timing, never changed a soft section).
- **blurdetect**: ``ffmpeg -i CLIP -vf blurdetect,metadata=print:file=- -f null -``
  with the filter's defaults (``high=0.117647 low=0.0588235 radius=50
  block_pct=80 block_width=-1 block_height=-1 planes=1``: Canny edges on the
  luma plane, the whole frame as one block), one ``lavfi.blur`` per frame,
  higher = blurrier. Two variants: the absolute score, and the score divided
  by the clip's median (**normalised**: absolute blur depends on content).

Scoring, per frame (each decoded frame at its presentation time ``t``):

- truly soft: ``t`` lies inside a truth ``soft`` event, ``start <= t < end``;
- predicted soft: ``t`` inside a qc soft section (same half-open rule), or
  the blurdetect score, after a centred running median over ``window``
  frames, is at or above the threshold; for both methods, predicted runs shorter
  than ``min_frames`` frames are then dropped;
- precision = predicted-soft frames that are truly soft / predicted-soft
  frames (1 when nothing is predicted); recall = truly soft frames predicted
  soft / truly soft frames (1 when nothing is truly soft); F1 their harmonic
  mean (0 when both are 0). Frames are pooled over all clips of a range;
- sections: a truth section (a run of truly soft frames) is *found* when at
  least 50 % of its frames are predicted soft; a predicted run with no truly
  soft frame is a *false section*;
- false soft seconds per minute: predicted-soft time on clips with no soft
  truth, per minute of those clips.

The rule (blurdetect: threshold, window, min_frames; qc: min_frames) is the
one with the best pooled F1 on the tuning seeds (``--tune-seeds``), then
frozen and applied to the held-out seeds (``--seeds``). A last row calls every
frame soft: the F1 any rule reaches without telling soft from sharp.

A truth ``soft`` event of a generated clip runs from the moment the person in
focus starts to walk out of the depth of field to the moment their blur
reaches 4 px; they stay soft until the clip ends (focus never follows). So a
second scoring, **state**, counts a frame truly soft from a soft event's
start until the next truth event or the end of the clip: what a picture
measure such as blurdetect sees. Its rules are tuned separately.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # labels.py beside this file, also when imported
from labels import render, seed_range  # noqa: E402  (the same cached clips as bench-labels)

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "softqc"
CACHE_VERSION = {"qc": 2, "blurdetect": 1}
"""Bump when what is cached changes; ``--fresh`` redoes the qc side after the analysis changed."""
BLURDETECT = "blurdetect"
"""The filter as run: FFmpeg's defaults (see the module docstring)."""
FOUND_SHARE = 0.5
WINDOWS = (1, 5, 9, 15, 31)
"""Running-median windows tried for blurdetect, in frames (1: none; 31 is about 1 s at 30 fps)."""
MIN_FRAMES = (1, 4, 8, 15, 30)
"""Minimum predicted section lengths tried for both methods, in frames."""
MIN_UNSHARP = (float("inf"), 0.5, 1.0, 1.5, 2.0, 3.0)
"""qc: shortest stretches with nobody sharp tried as soft sections, in seconds (inf: soft events only)."""
THRESHOLD_QUANTILES = np.linspace(0.01, 0.995, 120)
"""Thresholds tried: these quantiles of all tuning clips' (smoothed) scores."""
DEFAULT_TUNE, DEFAULT_HELD_OUT = "1000-1199,5000-5199", "7000-7199"


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Score:
    """Frame and section counts, pooled by ``+``."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    truth_sections: int = 0
    found_sections: int = 0
    false_sections: int = 0

    def __add__(self, other: Score) -> Score:
        return Score(*(a + b for a, b in zip(self.counts(), other.counts())))

    def counts(self) -> tuple[int, ...]:
        return (self.tp, self.fp, self.fn, self.truth_sections, self.found_sections, self.false_sections)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def mask_of(sections, times) -> np.ndarray:
    """True for each frame time inside one of the half-open ``(start, end)`` sections."""
    times = np.asarray(times, dtype=float)
    mask = np.zeros(len(times), dtype=bool)
    for start, end in sections:
        mask |= (times >= start) & (times < end)
    return mask


def runs(mask) -> list[tuple[int, int]]:
    """The runs of True in ``mask`` as half-open index ranges ``(first, past_last)``."""
    padded = np.concatenate(([False], np.asarray(mask, dtype=bool), [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def drop_short(mask, min_frames: int) -> np.ndarray:
    """``mask`` without its runs shorter than ``min_frames`` frames."""
    out = np.asarray(mask, dtype=bool).copy()
    if min_frames > 1:
        for a, b in runs(out):
            if b - a < min_frames:
                out[a:b] = False
    return out


def running_median(values, window: int) -> np.ndarray:
    """Centred running median over ``window`` frames (odd; shrinks at the ends; 1: unchanged)."""
    values = np.asarray(values, dtype=float)
    if window <= 1 or len(values) == 0:
        return values.copy()
    half = window // 2
    return np.array([np.median(values[max(0, i - half): i + half + 1]) for i in range(len(values))])


def score_clip(truth, predicted, found_share: float = FOUND_SHARE) -> Score:
    """One clip's counts from its per-frame truth and prediction (boolean sequences of equal length)."""
    truth, predicted = np.asarray(truth, dtype=bool), np.asarray(predicted, dtype=bool)
    if truth.shape != predicted.shape:
        raise ValueError(f"truth has {truth.size} frames, the prediction {predicted.size}")
    truth_runs = runs(truth)
    found = sum(predicted[a:b].mean() >= found_share for a, b in truth_runs)
    false = sum(not truth[a:b].any() for a, b in runs(predicted))
    return Score(int(np.sum(truth & predicted)), int(np.sum(~truth & predicted)), int(np.sum(truth & ~predicted)),
                 len(truth_runs), int(found), int(false))


@dataclass(frozen=True)
class Rule:
    """How scores become soft frames: ``score >= threshold`` after smoothing; short runs dropped."""

    threshold: float = float("inf")  # inf: a rule for sections given (qc), no score threshold
    window: int = 1
    min_frames: int = 1
    normalised: bool = False
    min_unsharp_s: float = float("inf")  # qc: the shortest stretch with nobody sharp that is a section

    def describe(self, fps: float = 30.0) -> str:
        keep = f"runs >= {self.min_frames} frames ({self.min_frames / fps:.2f} s)" if self.min_frames > 1 else "all runs"
        if self.threshold == float("inf"):
            unsharp = ("events only" if self.min_unsharp_s == float("inf")
                       else f"events + nobody sharp >= {self.min_unsharp_s:g} s")
            return f"qc sections ({unsharp}), {keep}"
        if self.threshold == -float("inf"):
            return "every frame (no rule)"
        score = "blur / clip median" if self.normalised else "blur"
        smooth = f"median of {self.window} frames" if self.window > 1 else "no smoothing"
        return f"{score} >= {self.threshold:.3f}, {smooth}, {keep}"


def normalised(scores) -> np.ndarray:
    """Scores relative to their clip's median (1 = the clip's typical blur)."""
    scores = np.asarray(scores, dtype=float)
    median = float(np.median(scores)) if len(scores) else 1.0
    return scores / median if median > 0 else scores


def threshold_mask(scores, rule: Rule) -> np.ndarray:
    """Frames ``rule`` calls soft from one clip's blur scores."""
    values = normalised(scores) if rule.normalised else np.asarray(scores, dtype=float)
    return drop_short(running_median(values, rule.window) >= rule.threshold, rule.min_frames)


def pick_rule(clips: list[tuple[np.ndarray, np.ndarray]], thresholds=None, windows=(1,), min_frames=(1,),
              normalise: bool = False) -> tuple[Rule, Score]:
    """The rule with the best pooled F1 over ``clips`` ((truth mask, blur scores) pairs).

    ``thresholds``: candidates (default: quantiles of each window's smoothed scores). Ties keep the
    first found (smaller window, shorter minimum, lower threshold).
    """
    best: tuple[Rule, Score] | None = None
    for window in windows:
        smoothed = [running_median(normalised(s) if normalise else s, window) for _, s in clips]
        candidates = (np.unique(np.quantile(np.concatenate(smoothed), THRESHOLD_QUANTILES))
                      if thresholds is None else thresholds)
        for minimum in min_frames:
            for threshold in candidates:
                total = Score()
                for (truth, _), values in zip(clips, smoothed):
                    total += score_clip(truth, drop_short(values >= threshold, minimum))
                if best is None or total.f1 > best[1].f1:
                    best = (Rule(float(threshold), window, minimum, normalise), total)
    assert best is not None, "no candidate rule"
    return best


def pick_qc_rule(clips: list[Clip], scoring: str, unsharp=MIN_UNSHARP, min_frames=MIN_FRAMES) -> tuple[Rule, Score]:
    """qc's rule with the best pooled F1: the shortest nobody-sharp stretch that counts, and the shortest run
    kept. Ties keep the first found (events only first, then shorter stretches; shorter minimum runs)."""
    best: tuple[Rule, Score] | None = None
    for min_s in unsharp:
        masks = [(c.truth_mask(scoring), c.qc_mask(min_s)) for c in clips]
        for minimum in min_frames:
            total = Score()
            for truth, predicted in masks:
                total += score_clip(truth, drop_short(predicted, minimum))
            if best is None or total.f1 > best[1].f1:
                best = (Rule(min_frames=minimum, min_unsharp_s=min_s), total)
    assert best is not None
    return best


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Clip:
    """One clip's truth and both methods' raw outputs."""

    seed: int
    name: str
    kind: str
    effects: tuple[str, ...]
    duration_s: float
    events: tuple[tuple[str, float, float], ...]  # truth
    times: np.ndarray  # each frame's presentation time (from FFmpeg)
    blur: np.ndarray  # blurdetect per frame
    qc_soft: tuple[tuple[float, float], ...]  # as qc writes them (its shipped MIN_UNSHARP_S)
    qc_events: tuple[tuple[str, float, float], ...]  # everything the analysis labelled
    qc_event_soft: tuple[tuple[float, float], ...]  # the soft events alone, stretched
    qc_states: tuple[tuple[float, int], ...]  # per frame: 1 someone judged sharp, 0 all judged soft, -1 nobody judged
    wall_s: tuple[float, float] = (0.0, 0.0)  # qc's analysis, blurdetect (when measured, before caching)

    @property
    def has_soft(self) -> bool:
        return any(e[0] == "soft" for e in self.events)

    def truth_mask(self, scoring: str) -> np.ndarray:
        soft = [(s, e) for kind, s, e in self.events if kind == "soft"]
        if scoring == "state":  # soft until the next truth event or the clip's end
            ends = [min([s2 for _, s2, _ in self.events if s2 > s] + [float("inf")]) for s, _ in soft]
            soft = [(s, e) for (s, _), e in zip(soft, ends)]
        return mask_of(soft, self.times)

    def qc_mask(self, min_unsharp_s: float) -> np.ndarray:
        """qc's soft frames with the nobody-sharp rule at ``min_unsharp_s`` (what ``soft_sections`` gives)."""
        from assistant.qc.soft import merged, unsharp_runs

        frames = [(t, {} if code < 0 else {0: bool(code)}) for t, code in self.qc_states]
        return mask_of(merged(list(self.qc_event_soft) + unsharp_runs(frames, min_unsharp_s)), self.times)

    def frame_s(self) -> float:
        return float(np.median(np.diff(self.times))) if len(self.times) > 1 else 1 / 30


def _cached(path: Path, version: int, make, fresh: bool = False) -> dict:
    if path.exists() and not fresh:
        data = json.loads(path.read_text())
        if data.get("version") == version:
            return data
    data = {"version": version, **make()}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.part")
    partial.write_text(json.dumps(data))
    partial.rename(path)
    return data


def run_qc_analysis(video: Path, hfov_deg: float | None) -> dict:
    """What ``qc`` analyses for one clip: its labelled events and its soft sections, made as ``qc`` makes them."""
    from assistant.live import LiveOptions, build_pipeline
    from assistant.qc.soft import SoftTimeline, soft_sections

    started = time.monotonic()
    pipeline = build_pipeline(LiveOptions(source=str(video), analyze=True, progress=False, headless=True,
                                          hfov_deg=hfov_deg), with_sinks=False)
    timeline = SoftTimeline()
    pipeline.add_sink(timeline)
    pipeline.run()
    events = [(e.type, round(e.start, 3), round(e.end, 3)) for e in timeline.events
              if e.type in ("rack", "pull", "soft")]
    states = [(round(t, 4), _state(flags)) for t, flags in timeline.frames]
    return {"hfov_deg": hfov_deg, "events": events, "soft_sections": timeline.sections(),
            "event_soft": soft_sections(timeline.events, timeline.frames, min_unsharp_s=float("inf")),
            "states": states, "wall_s": round(time.monotonic() - started, 2)}


def _state(flags: dict) -> int:
    judged = [v for v in flags.values() if v is not None]
    return -1 if not judged else int(any(judged))


def run_blurdetect(video: Path, options: str = BLURDETECT) -> dict:
    """FFmpeg's blurdetect on every frame: presentation times and ``lavfi.blur`` values."""
    started = time.monotonic()
    out = subprocess.run(["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-threads", "1", "-i", str(video),
                          "-vf", f"{options},metadata=print:file=-", "-an", "-f", "null", "-"],
                         check=True, capture_output=True, text=True).stdout
    return {"filter": options, **parse_metadata(out), "wall_s": round(time.monotonic() - started, 2)}


def parse_metadata(text: str) -> dict:
    """``metadata=print`` output (``frame:N pts:P pts_time:T`` then ``lavfi.blur=V``) as times and scores."""
    times: list[float] = []
    scores: list[float] = []
    t = None
    for line in text.splitlines():
        if line.startswith("frame:"):
            t = float(line.rsplit("pts_time:", 1)[1])
        elif line.startswith("lavfi.blur=") and t is not None:
            times.append(t)
            scores.append(float(line.split("=", 1)[1]))
            t = None
    return {"times": times, "scores": scores}


def measure(seed: int, fresh: bool = False) -> Clip:
    """Render (or reuse) the clip for ``seed``, then run (or reuse) qc's analysis and blurdetect on it."""
    from assistant.sim.generate import generate

    video, truth = render(generate(seed))
    qc = _cached(CACHE / f"{video.stem}.qc.json", CACHE_VERSION["qc"], lambda: run_qc_analysis(video, truth["hfov_deg"]),
                 fresh)
    blur = _cached(CACHE / f"{video.stem}.blurdetect.json", CACHE_VERSION["blurdetect"], lambda: run_blurdetect(video))
    return Clip(seed, video.stem, truth["kind"], tuple(truth["effects"]), truth["duration_s"],
                tuple((k, s, e) for k, s, e in truth["events"]), np.array(blur["times"]), np.array(blur["scores"]),
                tuple(tuple(s) for s in qc["soft_sections"]), tuple(tuple(e) for e in qc["events"]),
                tuple(tuple(s) for s in qc["event_soft"]), tuple((t, c) for t, c in qc["states"]),
                (qc["wall_s"], blur["wall_s"]))


def _measure_fresh(seed: int) -> Clip:
    return measure(seed, fresh=True)


def measure_all(seeds: list[int], workers: int, fresh: bool, label: str) -> list[Clip]:
    started = time.monotonic()
    clips: list[Clip] = []
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for i, clip in enumerate(pool.imap_unordered(_measure_fresh if fresh else measure, seeds), 1):
            clips.append(clip)
            elapsed = time.monotonic() - started
            print(f"\r{label}: {i}/{len(seeds)} clips  {elapsed:5.0f} s  ~{elapsed / i * (len(seeds) - i):4.0f} s left",
                  end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return sorted(clips, key=lambda c: c.seed)


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class Method:
    """A row of the table: qc's sections (``rule.threshold`` inf) or blurdetect's scores under ``rule``."""

    name: str
    rule: Rule

    def predict(self, clip: Clip) -> np.ndarray:
        if self.rule.threshold == float("inf"):
            return drop_short(clip.qc_mask(self.rule.min_unsharp_s), self.rule.min_frames)
        return threshold_mask(clip.blur, self.rule)


def tune(clips: list[Clip], scoring: str) -> list[tuple[Method, bool]]:
    """qc's rule and both blurdetect variants' rules on the tuning clips; the flag marks the better variant."""
    qc_rule, _ = pick_qc_rule(clips, scoring)
    pairs = [(c.truth_mask(scoring), c.blur) for c in clips]
    absolute, a_score = pick_rule(pairs, windows=WINDOWS, min_frames=MIN_FRAMES)
    relative, r_score = pick_rule(pairs, windows=WINDOWS, min_frames=MIN_FRAMES, normalise=True)
    return [(Method("qc", qc_rule), False), (Method("blurdetect", absolute), a_score.f1 >= r_score.f1),
            (Method("blurdetect normalised", relative), r_score.f1 > a_score.f1),
            (Method("baseline: all soft", Rule(threshold=-float("inf"))), False)]


def evaluate(method: Method, clips: list[Clip], scoring: str) -> tuple[Score, float]:
    """Pooled score and false soft seconds per minute on the clips without soft truth."""
    total = Score()
    false_s = quiet_s = 0.0
    for clip in clips:
        predicted = method.predict(clip)
        total += score_clip(clip.truth_mask(scoring), predicted)
        if not clip.has_soft:
            false_s += predicted.sum() * clip.frame_s()
            quiet_s += len(clip.times) * clip.frame_s()
    return total, (false_s / (quiet_s / 60) if quiet_s else 0.0)


def table(methods: list[tuple[Method, bool]], clips: list[Clip], scoring: str) -> list[str]:
    lines = ["| method | rule (chosen on tuning) | precision | recall | F1 | sections found / truth | "
             "false sections | false soft s/min (no-soft clips) |", "|---|---|---|---|---|---|---|---|"]
    for method, better in methods:
        score, false_rate = evaluate(method, clips, scoring)
        lines.append(f"| {method.name}{' (better on tuning)' if better else ''} | {method.rule.describe()} | "
                     f"{score.precision:.3f} | {score.recall:.3f} | {score.f1:.3f} | "
                     f"{score.found_sections} / {score.truth_sections} | {score.false_sections} | {false_rate:.2f} |")
    return lines


def report(tuning: list[Clip], held_out: list[Clip], tune_seeds: str, seeds: str, wall_s: float) -> str:
    clips = tuning + held_out

    def about(group: list[Clip]) -> str:
        quiet = [c for c in group if not c.has_soft]
        return (f"{len(group)} clips, {sum(c.duration_s for c in group) / 60:.1f} min, "
                f"{sum(c.has_soft for c in group)} with soft truth, {len(quiet)} without "
                f"({sum(c.duration_s for c in quiet) / 60:.1f} min)")

    lines = [f"Soft sections: qc against FFmpeg blurdetect ({BLURDETECT}, defaults), frame-level; "
             f"rules tuned on seeds {tune_seeds} ({about(tuning)}), held out {seeds} ({about(held_out)}); "
             f"{wall_s / 60:.1f} min to run (cached clips are not measured again)",
             f"per clip, wall time when measured (2 workers on a shared 2-core machine): qc analysis median "
             f"{statistics.median(c.wall_s[0] for c in clips):.1f} s, blurdetect median "
             f"{statistics.median(c.wall_s[1] for c in clips):.1f} s", ""]
    from assistant.qc.soft import MIN_UNSHARP_S

    for scoring, title in (("event", "truth = the soft events as labelled (walk-out start to 4 px of blur)"),
                           ("state", "truth = soft from the event's start until the next event or the clip's end")):
        methods = tune(tuning, scoring)
        chosen = methods[0][0].rule.min_unsharp_s
        lines += [f"qc ships MIN_UNSHARP_S = {MIN_UNSHARP_S:g} s; {scoring} scoring on the tuning seeds chose "
                  f"{chosen:g} s" + ("" if chosen == MIN_UNSHARP_S else " (the table scores the chosen rule)"), ""]
        for group, which in ((tuning, f"tuning {tune_seeds}"), (held_out, f"held out {seeds}")):
            lines += [f"**{scoring} scoring**, {which}: {title}", "", *table(methods, group, scoring), ""]
    return "\n".join(lines)


def _spans(seeds: list[int]) -> list[str]:
    """Seeds written back as FIRST-LAST runs (for the report)."""
    spans: list[list[int]] = []
    for seed in seeds:
        if spans and seed == spans[-1][1] + 1:
            spans[-1][1] = seed
        else:
            spans.append([seed, seed])
    return [f"{a}-{b}" for a, b in spans]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tune-seeds", default=DEFAULT_TUNE, type=seed_range,
                        help=f"FIRST-LAST[,FIRST-LAST...]: seeds the rules are chosen on (default {DEFAULT_TUNE})")
    parser.add_argument("--seeds", default=DEFAULT_HELD_OUT, type=seed_range,
                        help=f"FIRST-LAST: held-out seeds the frozen rules are scored on (default {DEFAULT_HELD_OUT})")
    parser.add_argument("--limit", type=int, help="only the first N seeds of each range")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fresh", action="store_true", help="analyse again with qc (after the analysis changed)")
    parser.add_argument("--details", type=Path, help="write each clip's truth, qc sections and blur scores here (JSON)")
    args = parser.parse_args(argv)
    args.tune_text = ",".join(_spans(args.tune_seeds[:args.limit]))
    args.seeds_text = ",".join(_spans(args.seeds[:args.limit]))
    tune_seeds, seeds = args.tune_seeds[:args.limit], args.seeds[:args.limit]
    started = time.monotonic()
    tuning = measure_all(tune_seeds, args.workers, args.fresh, "tuning")
    held_out = measure_all(seeds, args.workers, args.fresh, "held out")
    if args.details:
        args.details.write_text(json.dumps([{
            "seed": c.seed, "clip": c.name, "kind": c.kind, "effects": c.effects, "truth": c.events,
            "qc_soft": c.qc_soft, "qc_events": c.qc_events, "times": c.times.round(4).tolist(),
            "blur": c.blur.round(4).tolist()} for c in tuning + held_out]))
    print(report(tuning, held_out, args.tune_text, args.seeds_text,
                 time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
