"""Benchmarks: `make bench`. Medians over repeated runs, ratios measured side by side.

Machines here are shared and noisy, so each comparison interleaves the two
contenders in the same loop and reports the median of each and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from assistant import paths
from assistant.sim.scene import load_scene
from assistant.sim.source import SimSource
from assistant.vision.sharpness import SharpnessMeter, naive_tile_sharpness
from qc_batch import TARGET_RATIO as QC_TARGET_RATIO  # beside this file (run as benchmarks/bench.py)
from qc_batch import bench_qc_batch
from qc_batch import describe as describe_qc_batch


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def test_frame(width: int, height: int) -> np.ndarray:
    """A real photograph repeated at its own scale to the frame size (texture everywhere)."""
    photo = cv2.imread(str(paths.ASSETS_DIR / "astronaut.png"))
    reps = (-(-height // photo.shape[0]), -(-width // photo.shape[1]), 1)
    return np.ascontiguousarray(np.tile(photo, reps)[:height, :width])


def bench_sharpness(width: int, height: int, rounds: int) -> dict[str, float]:
    """Sharpness map (16x9 tiles + 3 subject boxes) against the per-tile loop, interleaved."""
    image = test_frame(width, height)
    meter = SharpnessMeter()
    boxes = [(width // 10, height // 5, width // 6, height // 4), (width // 2, height // 3, width // 8, height // 6),
             (int(width * 0.75), height // 2, width // 12, height // 8)]
    for _ in range(10):
        meter.measure(image, boxes)
        naive_tile_sharpness(image)
    ours, naive = [], []
    for _ in range(rounds):
        ours.append(timed(lambda: meter.measure(image, boxes)))
        naive.append(timed(lambda: naive_tile_sharpness(image)))
    return {"map_ms": statistics.median(ours), "map_p99_ms": percentile(ours, 99),
            "naive_ms": statistics.median(naive), "speedup": statistics.median(naive) / statistics.median(ours)}


def bench_rig(seconds: float) -> dict[str, float]:
    """Render the demo scene (1280x720, racks and a walking subject) frame by frame."""
    scene = load_scene(paths.SCENES_DIR / "two_people.toml")
    scene = replace(scene, duration_s=min(seconds, scene.duration_s))
    source = SimSource(scene)
    times = []
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        frame = source.read()
        if frame is None:
            break
        times.append((time.perf_counter() - t0) * 1000.0)
    wall = time.perf_counter() - start
    return {"frames": len(times), "fps": len(times) / wall, "median_ms": statistics.median(times),
            "p99_ms": percentile(times, 99), "size": f"{scene.camera.width}x{scene.camera.height}"}


def bench_subjects(clip: str) -> dict[str, float]:
    """Detection + tracking + distance per 720p frame on a rig clip (frames rendered beforehand)."""
    from assistant.vision.faces import MediaPipeFaceDetector
    from assistant.vision.subjects import SubjectTracker
    from assistant.vision.tracker import Tracker

    scene = load_scene(paths.SCENES_DIR / f"{clip}.toml")
    source = SimSource(scene)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    detectors = {name: MediaPipeFaceDetector(name) for name in ("short", "full")}
    stage = SubjectTracker(detectors, Tracker(), scene.camera.thin_lens().hfov_deg)
    times = [timed(lambda f=frame: stage.update(f)) for frame in frames]
    stage.close()
    return {"frames": len(times), "median_ms": statistics.median(times), "mean_ms": statistics.fmean(times),
            "p99_ms": percentile(times, 99)}


def bench_overlay(width: int, height: int, frames: int = 120) -> dict[str, float]:
    """Overlay drawing on real rig frames with their real subjects and sharpness (pipeline stages run first)."""
    from assistant.live import LiveOptions, build_pipeline
    from assistant.ui.overlay import draw

    pipeline = build_pipeline(LiveOptions(source="sim", headless=True), with_sinks=False, draw_overlay=False)
    scene = pipeline.source.scene
    pipeline.source = SimSource(replace(scene, camera=replace(scene.camera, width=width, height=height)))
    results = [pipeline.process(pipeline.source.read(), time.perf_counter()) for _ in range(frames)]
    pipeline.close()
    timings: dict[str, list[float]] = {"default": [], "peaking": []}
    shown = pipeline.presenter.style
    for r in results:  # the two styles interleaved, frame by frame
        target = r.guidance.target_id if r.guidance else None
        for name, style in (("default", shown), ("peaking", replace(shown, peaking=True))):
            timings[name].append(timed(lambda s=style: draw(r.frame.image, r.sharpness, r.status, s, r.subjects, target)))
    return {f"{name}_{stat}": fn(t) for name, t in timings.items()
            for stat, fn in (("median_ms", statistics.median), ("p99_ms", lambda v: percentile(v, 99)))}


def proc_status_mb(field: str = "VmRSS") -> float:
    """A memory figure of this process from Linux /proc: VmRSS now, VmHWM its peak since exec.

    (``getrusage``'s maxrss is not used: after fork and exec it still counts the parent's size.)
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rss_mb() -> float:
    return proc_status_mb("VmRSS")


SOAK = """
import json, sys
sys.path.insert(0, sys.argv[2])
from bench import proc_status_mb, soak_in_this_process
result = soak_in_this_process(int(sys.argv[1]))
result["peak_mb"] = proc_status_mb("VmHWM")
print(json.dumps(result))
"""


def bench_soak(frames: int) -> dict[str, float]:
    """The soak in a fresh process, so its memory is the pipeline's alone (and its peak RSS is reported)."""
    import json
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", SOAK, str(frames), str(Path(__file__).parent)],
                         capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        raise SystemExit(f"soak failed: {run.stderr.strip().splitlines()[-1:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def soak_in_this_process(frames: int, warmup: int = 1000) -> dict[str, float]:
    """The whole live pipeline (rig, detection, sharpness, events, director, overlay, logs) for ``frames`` frames.

    The rig scene loops at 640x360 so 10,000 frames fit in about a minute; memory is read after a warm-up
    (sprite cache and tracker filled) and at the end, and frame time early and late shows any drift.
    """
    import tempfile

    from assistant.live import LiveOptions, build_pipeline

    with tempfile.TemporaryDirectory() as folder:
        options = LiveOptions(source="sim", headless=True, no_audio=True, tracks=Path(folder) / "t.jsonl",
                              events=Path(folder) / "e.jsonl")
        pipeline = build_pipeline(options, with_sinks=True, draw_overlay=True)
        scene = pipeline.source.scene
        pipeline.source = SimSource(replace(scene, loop=True, camera=replace(scene.camera, width=640, height=360)))
        pipeline.sinks = [s for s in pipeline.sinks if type(s).__name__ in ("EventsSink", "TracksSink")]
        times, start_mb, first_mb = [], float("nan"), rss_mb()
        began = time.perf_counter()
        for i in range(frames):
            t0 = time.perf_counter()
            pipeline.dispatch(pipeline.process(pipeline.source.read(), t0))
            times.append((time.perf_counter() - t0) * 1000.0)
            if i + 1 == warmup:
                start_mb = rss_mb()
        wall = time.perf_counter() - began
        end_mb = rss_mb()
        pipeline.close()
    early, late = times[warmup:warmup + 1000], times[-1000:]
    return {"frames": frames, "fps": frames / wall, "first_mb": first_mb, "start_mb": start_mb, "end_mb": end_mb,
            "growth_pct": 100.0 * (end_mb - start_mb) / start_mb, "early_ms": statistics.median(early),
            "late_ms": statistics.median(late)}


class StageClock:
    """Wraps stage methods to time them; sums the calls made for one frame (detection may run twice)."""

    def __init__(self) -> None:
        self.per_frame: dict[str, list[float]] = {}
        self._current: dict[str, float] = {}

    def wrap(self, owner: object, attribute: str, stage: str) -> None:
        original = getattr(owner, attribute)

        def timed_call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._current[stage] = self._current.get(stage, 0.0) + (time.perf_counter() - start) * 1000.0

        setattr(owner, attribute, timed_call)

    def next_frame(self, stages: tuple[str, ...]) -> None:
        for stage in stages:
            self.per_frame.setdefault(stage, []).append(self._current.get(stage, 0.0))
        self._current = {}


STAGES = ("decode", "sharpness map", "detection", "tracking", "focus engine", "overlay", "encode")


def bench_stages(clip: Path, folder: Path) -> dict[str, dict[str, float]]:
    """Every stage of the live pipeline on a clip, unpaced, recording on: median and p99 per frame."""
    import assistant.ui.presenter as presenter_module
    from assistant.live import LiveOptions, build_pipeline
    from assistant.sinks import RecorderSink

    pipeline = build_pipeline(LiveOptions(source=str(clip), headless=True, no_audio=True,
                                          record=folder / f"stages-{clip.stem}.mp4"), with_sinks=True,
                              draw_overlay=True)
    pipeline.pacer = None
    pipeline.sinks = [s for s in pipeline.sinks if isinstance(s, RecorderSink)]
    clock = StageClock()
    clock.wrap(pipeline.source, "read", "decode")
    clock.wrap(pipeline.meter, "measure", "sharpness map")
    for detector in pipeline.subjects.detectors.values():
        clock.wrap(detector, "detect", "detection")
    clock.wrap(pipeline.subjects.tracker, "update", "tracking")
    clock.wrap(pipeline.events, "update", "focus engine")
    clock.wrap(pipeline.director, "step", "focus engine")
    clock.wrap(pipeline.sinks[0], "consume", "encode")
    draw = presenter_module.draw
    presenter_module.draw = lambda *a, **k: _timed_draw(clock, draw, a, k)
    latencies = []
    try:
        while (frame := pipeline.source.read()) is not None:
            arrived = time.perf_counter()
            result = pipeline.process(frame, arrived)
            latencies.append((time.perf_counter() - arrived) * 1000.0)
            pipeline.dispatch(result)
            clock.next_frame(STAGES)
    finally:
        presenter_module.draw = draw
        pipeline.close()
    out = {stage: {"median_ms": statistics.median(v), "p99_ms": percentile(v, 99)} for stage, v in clock.per_frame.items()}
    out["capture to overlay"] = {"median_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99)}
    return out


def _timed_draw(clock: StageClock, draw, args, kwargs):
    start = time.perf_counter()
    try:
        return draw(*args, **kwargs)
    finally:
        clock._current["overlay"] = clock._current.get("overlay", 0.0) + (time.perf_counter() - start) * 1000.0


def bench_rig_latency(frames: int = 300) -> dict[str, float]:
    """Live on the virtual rig: from the rendered frame (the capture) to the drawn overlay, per frame."""
    from assistant.live import LiveOptions, build_pipeline

    pipeline = build_pipeline(LiveOptions(source="sim", headless=True, no_audio=True), with_sinks=False,
                              draw_overlay=True)
    latencies = []
    for _ in range(frames):
        frame = pipeline.source.read()
        if frame is None:
            break
        arrived = time.perf_counter()
        pipeline.dispatch(pipeline.process(frame, arrived))
        latencies.append((time.perf_counter() - arrived) * 1000.0)
    pipeline.close()
    return {"frames": len(latencies), "median_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99),
            "max_ms": max(latencies)}


def render_clip(scene_name: str, width: int, height: int, folder: Path) -> Path:
    """A rig clip encoded to mp4 at the given size (the scene's optics scaled with it)."""
    scene = load_scene(paths.SCENES_DIR / f"{scene_name}.toml")
    scene = replace(scene, camera=replace(scene.camera, width=width, height=height))
    path = folder / f"{scene_name}-{height}p.mp4"
    source = SimSource(scene)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), scene.camera.fps, (width, height))
    while (frame := source.read()) is not None:
        writer.write(frame.image)
    writer.release()
    return path


CLIP_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "bench-clips"
RENDER_VERSION = 1
"""Bump when the rig renders the same scene differently: cached clips are made again (a changed scene is noticed
by itself: the file name holds a digest of the scene)."""


def cached_clip_path(scene_name: str, width: int, height: int, folder: Path = CLIP_CACHE) -> Path:
    """Where ``cached_clip`` keeps the clip (named by a digest of the scene at that size)."""
    import hashlib

    scene = load_scene(paths.SCENES_DIR / f"{scene_name}.toml")
    scene = replace(scene, camera=replace(scene.camera, width=width, height=height))
    digest = hashlib.sha256(repr(scene).encode()).hexdigest()[:12]
    return folder / f"v{RENDER_VERSION}" / f"{scene_name}-{height}p-{digest}.mp4"


def cached_clip(scene_name: str, width: int, height: int, folder: Path = CLIP_CACHE) -> Path:
    """``render_clip`` made once and kept: a 4K clip takes minutes to render, and every run should time the same
    file. Written under a temporary name and renamed, so a stopped render leaves nothing that looks whole."""
    path = cached_clip_path(scene_name, width, height, folder)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = render_clip(scene_name, width, height, path.parent)
        partial.rename(path)
    return path


def decode_alone_fps(clip: Path) -> float:
    """Every frame read as ``analyze`` reads it (``VideoFileSource``, OpenCV's FFmpeg), and nothing else."""
    from assistant.capture.sources import VideoFileSource

    source = VideoFileSource(clip)
    frames, started = 0, time.perf_counter()
    while source.read() is not None:
        frames += 1
    wall = time.perf_counter() - started
    source.close()
    return frames / wall


def analyze_fps(clip: Path) -> float:
    """``analyze`` on ``clip`` (no outputs, so nothing is drawn), decoding from the moment the clock starts.

    ``build_pipeline`` starts the prefetch thread while it loads the models, which would give the run a head
    start of a few decoded frames; a fresh prefetched reader started with the run keeps the race fair.
    """
    from assistant.capture.sources import PrefetchedSource, VideoFileSource
    from assistant.live import LiveOptions, build_pipeline

    pipeline = build_pipeline(LiveOptions(source=str(clip), analyze=True), with_sinks=False)
    pipeline.source.close()
    pipeline.source = PrefetchedSource(VideoFileSource(clip))
    return pipeline.run().fps


def bench_analyze_vs_decode(clip: Path, runs: int) -> dict[str, float | list[float]]:
    """``analyze`` against decoding the same clip alone, interleaved run by run: medians and their ratio.

    Decoding is the floor ``analyze`` cannot go below; on a shared machine only a ratio measured side by side
    means anything.
    """
    decode, analyze = [], []
    for _ in range(runs):
        decode.append(decode_alone_fps(clip))
        analyze.append(analyze_fps(clip))
    d, a = statistics.median(decode), statistics.median(analyze)
    return {"decode_fps": d, "analyze_fps": a, "ratio": a / d, "runs": runs,
            "ratios": [x / y for x, y in zip(analyze, decode)]}


UHD_GOAL = 0.8
"""``analyze`` on a 3840x2160 clip at no less than this share of the speed of decoding it alone."""


def bench_analyze(clip: Path, runs: int) -> dict[str, float]:
    """End-to-end analyze (decode, detection, tracking, sharpness, classification) in frames per second."""
    from assistant.live import LiveOptions, build_pipeline

    rates = []
    for _ in range(runs):
        pipeline = build_pipeline(LiveOptions(source=str(clip), analyze=True), with_sinks=False)
        summary = pipeline.run()
        rates.append(summary.fps)
    return {"frames": summary.frames, "fps": statistics.median(rates), "runs": runs}


CUE_BENCH = """
import json, sys, time
from dataclasses import replace
from assistant import paths
from assistant.live import LiveOptions, build_pipeline
from assistant.audio.cues import CueSink
from assistant.sim.scene import load_scene
from assistant.sink import Sink

seconds = float(sys.argv[1])
pipeline = build_pipeline(LiveOptions(source="sim", headless=True, max_frames=int(seconds * 30)), with_sinks=True)
pipeline.source.scene = replace(pipeline.source.scene, loop=True)
pipeline.source._end = None
cues = next(s for s in pipeline.sinks if isinstance(s, CueSink))
player = cues.player


class Metronome(Sink):
    # Triggers a cue every 15th frame from inside the busy pipeline, timed from the frame's arrival
    # (now, less the processing the status bar reports from arrival to the status).
    n = 0

    def consume(self, result):
        self.n += 1
        if self.n % 15 == 0:
            player.play("pull_tick", 0.3, time.monotonic() - result.status.latency_ms / 1000.0)


pipeline.add_sink(Metronome())
summary = pipeline.run()
print(json.dumps({"available": player.available, "latencies": list(getattr(player, "latencies_ms", [])),
                  "mix_ms": list(getattr(player, "mix_ms", [])),
                  "underflows": getattr(player, "underflows", None), "frames": summary.frames,
                  "wall_s": summary.wall_s}))
"""


def bench_cues(seconds: float) -> dict:
    """Cue latency (trigger frame -> first sample mixed in the callback) and underflows, pipeline busy."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        conf = Path(folder) / "asound.conf"
        conf.write_text("pcm.!default { type null }\nctl.!default { type hw card 0 }\n")
        env = dict(os.environ, ALSA_CONFIG_PATH=str(conf))
        run = subprocess.run([sys.executable, "-c", CUE_BENCH, str(seconds)], capture_output=True, text=True,
                             env=env, timeout=seconds * 4 + 60)
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"}
    return json.loads(run.stdout.strip().splitlines()[-1])


class Results:
    """Prints each section as it comes and keeps the headline numbers for the summary table."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, bool | None]] = []

    def add(self, measurement: str, result: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append((measurement, result, target, met))

    def table(self, machine: str) -> str:
        lines = [f"Measured by `make bench` on {machine}.", "",
                 "| measurement | result | target | met |", "|---|---|---|---|"]
        for measurement, result, target, met in self.rows:
            mark = "" if met is None else ("yes" if met else "**no**")
            lines.append(f"| {measurement} | {result} | {target} | {mark} |")
        return "\n".join(lines)


README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


def update_readme(path: Path, table: str) -> None:
    """Replace the results table between the bench markers in the README."""
    text = path.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"{path}: no {README_START} ... {README_END} block to update")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(f"{head}{README_START}\n{table}\n{README_END}{tail}")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description="Focus Assistant benchmarks (make bench)")
    parser.add_argument("--rounds", type=int, default=300, help="timed repetitions per measurement")
    parser.add_argument("--soak-frames", type=int, default=10_000, help="frames in the memory soak (0 skips it)")
    parser.add_argument("--cue-seconds", type=float, default=30.0, help="how long the cue-latency run lasts")
    parser.add_argument("--uhd-runs", type=int, default=5, help="interleaved runs of 4K analyze and decode alone")
    parser.add_argument("--update-readme", type=Path, metavar="README.md",
                        help="write the summary table into this README between the bench markers")
    args = parser.parse_args()
    began = time.perf_counter()
    cv2.setNumThreads(os.cpu_count() or 1)
    machine = (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"OpenCV {cv2.__version__}, NumPy {np.__version__}, {time.strftime('%Y-%m-%d')}")
    print(f"machine: {machine}")
    results = Results()
    print()
    print("Sharpness map: 16x9 tiles + 3 boxes vs per-tile cv2.Laplacian(tile).var() loop (medians, same run)")
    print(f"{'frame':>10} {'map ms':>8} {'p99 ms':>8} {'loop ms':>8} {'speed-up':>9}")
    for w, h in ((1920, 1080), (1280, 720)):
        r = bench_sharpness(w, h, args.rounds)
        print(f"{w}x{h:<5} {r['map_ms']:8.2f} {r['map_p99_ms']:8.2f} {r['naive_ms']:8.2f} {r['speedup']:8.1f}x")
        if h == 1080:
            results.add("sharpness map, 1080p (16x9 tiles + 3 boxes), median", f"{r['map_ms']:.2f} ms", "<= 2 ms",
                        r["map_ms"] <= 2.0)
            results.add("same, speed-up over the per-tile loop in the same run",
                        f"{r['speedup']:.1f}x ({r['naive_ms']:.2f} ms loop)", ">= 3x", r["speedup"] >= 3.0)
    print()
    print("Subjects: detection + tracking + distance per 1280x720 frame (one planned search per frame)")
    print(f"{'clip':>18} {'frames':>7} {'mean ms':>8} {'median':>8} {'p99':>8}")
    for clip in ("two_people", "track_cross"):
        r = bench_subjects(clip)
        print(f"{clip:>18} {r['frames']:7d} {r['mean_ms']:8.2f} {r['median_ms']:8.2f} {r['p99_ms']:8.2f}")
    with tempfile.TemporaryDirectory() as folder:
        clips = {h: render_clip("label_racks", w, h, Path(folder)) for w, h in ((1280, 720), (1920, 1080))}
        print()
        print("Stages of the live pipeline on the label_racks clip, unpaced, recording on (per frame, ms)")
        print(f"{'stage':>20} {'720p median':>12} {'p99':>7} {'1080p median':>13} {'p99':>7}")
        stages = {h: bench_stages(clip, Path(folder)) for h, clip in clips.items()}
        for stage in (*STAGES, "capture to overlay"):
            a, b = stages[720][stage], stages[1080][stage]
            print(f"{stage:>20} {a['median_ms']:12.2f} {a['p99_ms']:7.2f} {b['median_ms']:13.2f} {b['p99_ms']:7.2f}")
        overlay = stages[1080]["overlay"]["median_ms"]
        results.add("overlay drawing, 1080p, median", f"{overlay:.2f} ms", "<= 3 ms", overlay <= 3.0)
        print()
        print("analyze end to end (decode on a prefetch thread + detection every 2nd frame + tracking + "
              "sharpness + classification), label_racks clip, median of 3 runs")
        for h, target in ((720, 120), (1080, 60)):
            r = bench_analyze(clips[h], runs=3)
            print(f"{h}p  {r['frames']} frames  {r['fps']:6.1f} fps   (target >= {target} fps)")
            results.add(f"analyze end to end, {h}p", f"{r['fps']:.0f} fps", f">= {target} fps", r["fps"] >= target)
    print()
    print(f"analyze against decoding alone, 3840x2160 label_racks clip, {args.uhd_runs} runs of each interleaved "
          "(medians)")
    if not cached_clip_path("label_racks", 3840, 2160).exists():
        print(f"  rendering the clip once into {CLIP_CACHE} (a few minutes)")
    r = bench_analyze_vs_decode(cached_clip("label_racks", 3840, 2160), args.uhd_runs)
    print(f"analyze 3840x2160: {r['analyze_fps']:.1f} fps; decode alone: {r['decode_fps']:.1f} fps; "
          f"ratio {r['ratio']:.2f} (goal >= {UHD_GOAL}); run by run: {', '.join(f'{x:.2f}' for x in r['ratios'])}")
    results.add("analyze end to end, 3840x2160 (median)", f"{r['analyze_fps']:.0f} fps")
    results.add("decoding the same 4K clip alone, same run (median)", f"{r['decode_fps']:.0f} fps")
    results.add("analyze 4K speed / decode-alone speed", f"{r['ratio']:.2f}", f">= {UHD_GOAL}", r["ratio"] >= UHD_GOAL)
    print()
    print("qc over a folder against analyze on each clip one after another (fresh processes each way)")
    r = bench_qc_batch()
    print(describe_qc_batch(r, os.cpu_count() or 1))
    results.add(f"qc over {r['clips']:.0f} generated clips, default workers, / analyze one by one (wall time)",
                f"{r['ratio']:.2f} ({r['batch_s']:.0f} s / {r['serial_s']:.0f} s; {r['batch_cores']:.2f} cores busy)",
                f"<= {QC_TARGET_RATIO}", r["ratio"] <= QC_TARGET_RATIO)
    print()
    print("Overlay drawing per frame on real rig frames (heat map, boxes, meters, focus bar, ticker, status)")
    for w, h in ((1920, 1080), (1280, 720)):
        r = bench_overlay(w, h)
        print(f"{w}x{h:<5} default {r['default_median_ms']:5.2f} ms (p99 {r['default_p99_ms']:5.2f})   "
              f"with peaking {r['peaking_median_ms']:5.2f} ms (p99 {r['peaking_p99_ms']:5.2f})")
    print()
    r = bench_rig_latency()
    print(f"Live on the virtual rig, capture (rendered frame) to drawn overlay: median {r['median_ms']:.1f} ms, "
          f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms over {r['frames']} frames (target <= 33 ms)")
    results.add("live capture-to-overlay latency, virtual rig 720p, p99", f"{r['p99_ms']:.1f} ms",
                "<= 33 ms (one frame at 30 fps)", r["p99_ms"] <= 1000 / 30)
    r = bench_rig(12.0)
    print(f"Virtual rig render ({r['size']}, demo scene, {r['frames']} frames): {r['fps']:.1f} fps overall, "
          f"median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms per frame")
    print()
    r = bench_cues(args.cue_seconds)
    if "error" in r or not r.get("available"):
        print(f"Cues: no sound device could be opened ({r.get('error', 'silent player')})")
        results.add("cue latency", "not measured: no sound device", "<= 50 ms", None)
    else:
        lat, mix = r["latencies"], r["mix_ms"]
        print(f"Cues through PortAudio (ALSA null device), live rig pipeline busy for {r['wall_s']:.0f} s, "
              f"{r['frames']} frames: {len(lat)} cues, trigger->first sample median {statistics.median(lat):.2f} ms, "
              f"max {max(lat):.2f} ms (target <= 50 ms); underflows reported: {r['underflows']}")
        print(f"  audio mix (callback work while a cue sounds): median {statistics.median(mix):.3f} ms, "
              f"p99 {percentile(mix, 99):.3f} ms per 256-sample block")
        print("  (the ALSA null device does not pace playback, so the callback runs back to back: latency is the "
              "mixing path's, and underflow cannot occur; see README)")
        results.add("cue latency, trigger frame to first sample mixed, max", f"{max(lat):.2f} ms", "<= 50 ms",
                    max(lat) <= 50)
    print()
    import web  # benchmarks/web.py: the web monitor's cost to the loop and its delay to a viewer
    r = web.bench_web()
    print("\n".join(web.summary_lines(r, frames=300, rounds=2)))
    n = int(r["viewers"])
    results.add(f"live loop frame time, 0 -> {n} web viewers (median)",
                f"{r['frame_ms_0']:.1f} -> {r[f'frame_ms_{n}']:.1f} ms ({r['ratio']:.2f}x)", "<= 10 % apart",
                abs(r["ratio"] - 1.0) <= 0.10)
    results.add("web monitor: frame leaving the pipeline to its JPEG at a client, 127.0.0.1, 720p30",
                f"p50 {r['delay_p50_ms']:.1f} ms, p99 {r['delay_p99_ms']:.1f} ms", "p99 <= 50 ms",
                r["delay_p99_ms"] <= web.GOAL_P99_MS)
    if args.soak_frames:
        print()
        r = bench_soak(args.soak_frames)
        print(f"Soak (own process): {r['frames']} frames of the whole live pipeline (rig 640x360, looping) at "
              f"{r['fps']:.0f} fps; RSS {r['start_mb']:.1f} MB after 1000 frames of warm-up -> {r['end_mb']:.1f} MB "
              f"at the end ({r['growth_pct']:+.1f} %, target < 5 %; {r['first_mb']:.1f} MB before the first frame, "
              f"peak {r['peak_mb']:.1f} MB); median frame time {r['early_ms']:.2f} ms early, {r['late_ms']:.2f} ms late")
        results.add(f"memory over a {r['frames']:,}-frame soak of the live pipeline",
                    f"{r['start_mb']:.0f} -> {r['end_mb']:.0f} MB ({r['growth_pct']:+.1f} %)", "< 5 % growth",
                    r["growth_pct"] < 5.0)
        results.add("peak RSS of that live pipeline", f"{r['peak_mb']:.0f} MB")
        results.add("frame time, early -> late in the soak (median)", f"{r['early_ms']:.2f} -> {r['late_ms']:.2f} ms",
                    "no drift", r["late_ms"] <= 1.1 * r["early_ms"])
    print()
    print(f"Whole benchmark: {time.perf_counter() - began:.0f} s")
    table = results.table(machine)
    print()
    print(table)
    if args.update_readme:
        update_readme(args.update_readme, table)
        print(f"\nwrote the table into {args.update_readme}")


if __name__ == "__main__":
    main()
