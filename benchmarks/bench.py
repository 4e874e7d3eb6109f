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
    for r in results:  # the two styles interleaved, frame by frame
        target = r.guidance.target_id if r.guidance else None
        for name, style in (("default", pipeline.style), ("peaking", replace(pipeline.style, peaking=True))):
            timings[name].append(timed(lambda s=style: draw(r.frame.image, r.sharpness, r.status, s, r.subjects, target)))
    return {f"{name}_{stat}": fn(t) for name, t in timings.items()
            for stat, fn in (("median_ms", statistics.median), ("p99_ms", lambda v: percentile(v, 99)))}


def rss_mb() -> float:
    """Resident memory of this process now (Linux /proc)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_soak(frames: int, warmup: int = 1000) -> dict[str, float]:
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

seconds = float(sys.argv[1])
pipeline = build_pipeline(LiveOptions(source="sim", headless=True, max_frames=int(seconds * 30)), with_sinks=True)
pipeline.source.scene = replace(pipeline.source.scene, loop=True)
pipeline.source._end = None
cues = next(s for s in pipeline.sinks if isinstance(s, CueSink))
player = cues.player


class Metronome:
    # Triggers a cue every 15th frame from inside the busy pipeline, timed from the frame's arrival.
    n = 0

    def consume(self, result):
        self.n += 1
        if self.n % 15 == 0:
            player.play("pull_tick", 0.3, time.monotonic())

    def close(self):
        pass


pipeline.sinks.append(Metronome())
summary = pipeline.run()
print(json.dumps({"available": player.available, "latencies": list(getattr(player, "latencies_ms", [])),
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


def main() -> None:
    parser = argparse.ArgumentParser(description="Focus Assistant benchmarks")
    parser.add_argument("--rounds", type=int, default=300, help="timed repetitions per measurement")
    parser.add_argument("--soak-frames", type=int, default=10_000, help="frames in the memory soak (0 skips it)")
    args = parser.parse_args()
    cv2.setNumThreads(os.cpu_count() or 1)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"OpenCV {cv2.__version__}, NumPy {np.__version__}, {time.strftime('%Y-%m-%d')}")
    print()
    print("Sharpness map: 16x9 tiles + 3 boxes vs per-tile cv2.Laplacian(tile).var() loop (medians, same run)")
    print(f"{'frame':>10} {'map ms':>8} {'p99 ms':>8} {'loop ms':>8} {'speed-up':>9}")
    for w, h in ((1920, 1080), (1280, 720)):
        r = bench_sharpness(w, h, args.rounds)
        print(f"{w}x{h:<5} {r['map_ms']:8.2f} {r['map_p99_ms']:8.2f} {r['naive_ms']:8.2f} {r['speedup']:8.1f}x")
    print()
    print()
    print("Subjects: detection + tracking + distance per 1280x720 frame (one planned search per frame)")
    print(f"{'clip':>18} {'frames':>7} {'mean ms':>8} {'median':>8} {'p99':>8}")
    for clip in ("two_people", "track_cross"):
        r = bench_subjects(clip)
        print(f"{clip:>18} {r['frames']:7d} {r['mean_ms']:8.2f} {r['median_ms']:8.2f} {r['p99_ms']:8.2f}")
    print()
    print("analyze end to end (decode on a prefetch thread + detection every 2nd frame + tracking + "
          "sharpness + classification), label_racks clip, median of 3 runs")
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for w, h, target in ((1280, 720, 120), (1920, 1080, 60)):
            clip = render_clip("label_racks", w, h, Path(folder))
            r = bench_analyze(clip, runs=3)
            print(f"{w}x{h:<5} {r['frames']} frames  {r['fps']:6.1f} fps   (target >= {target} fps)")
    print()
    print("Overlay drawing per frame (heat map, boxes, meters, focus bar, ticker, status), rig frames, target <= 3 ms")
    for w, h in ((1920, 1080), (1280, 720)):
        r = bench_overlay(w, h)
        print(f"{w}x{h:<5} default {r['default_median_ms']:5.2f} ms (p99 {r['default_p99_ms']:5.2f})   "
              f"with peaking {r['peaking_median_ms']:5.2f} ms (p99 {r['peaking_p99_ms']:5.2f})")
    print()
    r = bench_rig(12.0)
    print(f"Virtual rig render ({r['size']}, demo scene, {r['frames']} frames): {r['fps']:.1f} fps overall, "
          f"median {r['median_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms per frame")
    print()
    r = bench_cues(60.0)
    if "error" in r or not r.get("available"):
        print(f"Cues: no sound device could be opened ({r.get('error', 'silent player')})")
    else:
        lat = r["latencies"]
        print(f"Cues through PortAudio (ALSA null device), live rig pipeline busy for {r['wall_s']:.0f} s, "
              f"{r['frames']} frames: {len(lat)} cues, trigger->first sample median {statistics.median(lat):.2f} ms, "
              f"max {max(lat):.2f} ms (target <= 50 ms); underflows reported: {r['underflows']}")
        print("  (the ALSA null device does not pace playback, so the callback runs back to back: latency is the "
              "mixing path's, and underflow cannot occur; see README)")
    if args.soak_frames:
        print()
        r = bench_soak(args.soak_frames)
        print(f"Soak: {r['frames']} frames of the whole live pipeline (rig 640x360, looping) at {r['fps']:.0f} fps; "
              f"RSS {r['start_mb']:.1f} MB after 1000 frames of warm-up -> {r['end_mb']:.1f} MB at the end "
              f"({r['growth_pct']:+.1f} %, target < 5 %; {r['first_mb']:.1f} MB before the first frame); "
              f"median frame time {r['early_ms']:.2f} ms early, {r['late_ms']:.2f} ms late")



if __name__ == "__main__":
    main()
