"""Save the live view of the virtual rig at a given media time as a PNG.

    python examples/screenshot.py --at 3.0 docs/live-view.png

Builds the same pipeline as `focus-assistant live` (subjects, sharpness,
overlay), runs it without pacing up to the requested time, and writes the
annotated frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2

from assistant.live import LiveOptions, build_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--at", type=float, default=3.0, help="media time in seconds")
    parser.add_argument("--scene", type=Path, help="scene file (default from config)")
    args = parser.parse_args()
    pipeline = build_pipeline(LiveOptions(scene=args.scene), with_sinks=False, draw_overlay=True)
    result = None
    try:
        while (frame := pipeline.source.read()) is not None:
            result = pipeline.process(frame, time.perf_counter())
            if frame.t + 1e-9 >= args.at:
                break
    finally:
        pipeline.close()
    if result is None or result.frame.t + 1e-9 < args.at:
        raise SystemExit(f"the scene ends before {args.at} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), result.annotated)
    print(f"wrote {args.out} (frame {result.frame.index}, t = {result.frame.t:.2f} s)")


if __name__ == "__main__":
    main()
