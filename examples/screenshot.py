"""Save the live view of the virtual rig at a given media time as a PNG.

    python examples/screenshot.py --at 3.0 --command toggle_magnifier docs/live-view.png   # make screenshot
    python examples/screenshot.py --at 5.0 --command toggle_magnifier --command rack:B out/shot.png

Builds the same pipeline as `focus-assistant live` (subjects, sharpness,
overlay, event ticker), runs it without pacing up to the requested time, and
writes the annotated frame. ``--command`` applies an operator command (the
ones the keys send, see assistant/ui/keys.py) at the start.

The picture depends only on the scene: the status bar leaves out frame rate,
latency and sound (which depend on the machine), so the README's picture is
reproduced exactly (``tests/test_screenshot.py`` checks it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

from assistant.live import LiveOptions, build_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="PNG to write")
    parser.add_argument("--at", type=float, default=3.0, help="media time in seconds")
    parser.add_argument("--scene", type=Path, help="scene file (default from config)")
    parser.add_argument("--command", action="append", default=[], help="operator command to apply first (repeatable)")
    args = parser.parse_args()
    pipeline = build_pipeline(LiveOptions(scene=args.scene, no_audio=True), with_sinks=False, draw_overlay=True)
    for command in args.command:
        if not pipeline.controls.apply(command, ()):
            raise SystemExit(f"{command}: {pipeline.controls.last_refusal}")
    result = None
    try:
        while (frame := pipeline.source.read()) is not None:
            result = pipeline.process(frame, None)
            pipeline.dispatch(result)  # events reach the ticker, as in a live run
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
