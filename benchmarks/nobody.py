"""False subjects on clips with nobody in them (``make bench-nobody``).

Each seed gives a 15 s clip of walls, posters and props panned and zoomed by
the rig (``assistant.sim.empty_scenes``), rendered once to an mp4 file and
analysed as ``analyze`` does. Every subject published is a false one; the
goal is at most one per five minutes of clips.

    python benchmarks/nobody.py --seeds 9000-9019
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass

from labels import render, seed_range

from assistant.sink import Sink

GOAL_PER_5_MIN = 1.0


@dataclass(frozen=True)
class NobodyResult:
    seed: int
    duration_s: float
    false_subjects: int
    seconds_shown: float  # how long false subjects were on screen, summed


class _Subjects(Sink):
    """A sink noting every subject ID published, and for how many frames."""

    def __init__(self) -> None:
        self.frames_by_id: dict[int, int] = {}

    def consume(self, result) -> None:
        for subject in result.subjects:
            self.frames_by_id[subject.id] = self.frames_by_id.get(subject.id, 0) + 1


def analyse(seed: int) -> NobodyResult:
    from assistant.live import LiveOptions, build_pipeline
    from assistant.sim.empty_scenes import empty_scene
    from assistant.sim.generate import Scenario

    scene = empty_scene(seed)
    video, truth = render(Scenario(seed, "nobody", (), scene))
    pipeline = build_pipeline(LiveOptions(source=str(video), analyze=True, hfov_deg=truth["hfov_deg"]),
                              with_sinks=False)
    sink = _Subjects()
    pipeline.add_sink(sink)
    pipeline.run()
    fps = scene.camera.fps
    return NobodyResult(seed, scene.duration_s, len(sink.frames_by_id), sum(sink.frames_by_id.values()) / fps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="9000-9019", help="seed range A-B (default 9000-9019, held out: 5 minutes)")
    args = parser.parse_args(argv)
    seeds = seed_range(args.seeds)
    started = time.monotonic()
    results = []
    for i, seed in enumerate(seeds, 1):
        results.append(analyse(seed))
        r = results[-1]
        print(f"[{i}/{len(seeds)}] seed {seed}: {r.false_subjects} false subjects ({r.seconds_shown:.1f} s shown)",
              file=sys.stderr, flush=True)
    minutes = sum(r.duration_s for r in results) / 60
    false = sum(r.false_subjects for r in results)
    rate = false / minutes * 5 if minutes else 0.0
    verdict = "PASS" if rate <= GOAL_PER_5_MIN else "MISS"
    print(f"nobody clips {args.seeds}: {len(results)} clips, {minutes:.1f} min, {false} false subjects "
          f"({rate:.2f} per 5 min, goal <= {GOAL_PER_5_MIN:g}) {verdict}; "
          f"shown {sum(r.seconds_shown for r in results):.1f} s in all; {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
