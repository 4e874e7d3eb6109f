"""A generated shooting day to try ``focus-assistant qc`` on: ten clips with known focus events, and the
broken files a real card holds (a copy cut short, a text file named like a clip, a sidecar).

    python examples/qc_day.py out/day            # then: focus-assistant qc out/day --out out/qc

The clips are the labelling benchmark's generated scenes (racks, pulls, soft focus, nothing), cut to
three seconds; seeds 3000-3009 are in no range any threshold was tuned or reported on.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from assistant.sim.clip_file import write_clip
from assistant.sim.generate import generate

SEEDS = range(3000, 3010)
CLIP_S = 3.0


def make_day(folder: Path, seeds: range = SEEDS, clip_s: float = CLIP_S) -> dict[str, Path]:
    """Ten good clips in two camera folders, one truncated copy and one text file named like a clip."""
    paths: dict[str, Path] = {}
    for i, seed in enumerate(seeds):
        reel = folder / ("A001" if i < len(seeds) // 2 else "B001")
        reel.mkdir(parents=True, exist_ok=True)
        path = reel / f"C{seed}.mp4"
        write_clip(replace(generate(seed).scene, duration_s=clip_s), path)
        paths[path.name] = path
    broken = folder / "B001" / "C9998_cut.mp4"
    data = paths[f"C{seeds[0]}.mp4"].read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # a copy cut short: OpenCV's writer puts the index last
    notes = folder / "B001" / "C9999.mov"
    notes.write_text("camera report: B001, lens 50 mm, T2.8\n" * 20)
    paths[broken.name], paths[notes.name] = broken, notes
    (folder / "A001" / "A001.xml").write_text("<clip/>\n")  # a sidecar: listed as skipped, never opened
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the day's folders go (created)")
    args = parser.parse_args()
    made = make_day(args.folder)
    print(f"wrote {len(made)} files under {args.folder}")


if __name__ == "__main__":
    main()
