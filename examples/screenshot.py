"""Save the live view of the virtual rig at a given media time as a PNG.

    python examples/screenshot.py --at 3.0 docs/live-view.png

Runs the same pipeline stages as `focus-assistant live` (sharpness, overlay)
on the demo scene, without pacing, and writes the annotated frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from assistant.config import load_config
from assistant.live import meter_from, style_from
from assistant.pipeline import Pipeline
from assistant.sim.source import SimSource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--at", type=float, default=3.0, help="media time in seconds")
    parser.add_argument("--scene", type=Path, help="scene file (default from config)")
    args = parser.parse_args()
    config = load_config()
    source = SimSource.from_file(args.scene or Path(config.sim.scene))
    pipeline = Pipeline(source, meter_from(config), [], style_from(config), focus=source.lens)
    frame = source.read()
    while frame is not None and frame.t + 1e-9 < args.at:
        frame = source.read()
    if frame is None:
        raise SystemExit(f"the scene ends before {args.at} s")
    result = pipeline.process(frame, time.perf_counter())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), result.annotated)
    print(f"wrote {args.out} (frame {frame.index}, t = {frame.t:.2f} s)")


if __name__ == "__main__":
    main()
