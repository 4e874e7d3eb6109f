"""Web monitor benchmark (``live --serve``): what viewers cost the loop, and how late pictures reach them.

On the virtual rig at 720p30 with the web monitor serving on 127.0.0.1:

- the loop's frame time (analysis, overlay, every sink's ``consume``) with no
  viewer and with ``--viewers`` stream viewers, in alternating phases, as
  medians and their ratio;
- the delay from a frame leaving the pipeline (the sink's ``consume``, stamped
  ``X-Frame-Time`` in its part's headers) to its whole JPEG arriving at a viewer
  (p50, p99; the goal is p99 <= 50 ms).

The viewers run in a separate process (``--viewers-of URL``), so their reading
does not compete with the loop for this interpreter; the delay compares
``time.monotonic()`` across the two processes, one clock on one machine.

``python benchmarks/web.py`` prints; ``bench_web()`` returns the numbers (for ``bench.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

GOAL_P99_MS = 50.0
TOKEN = "bench-operator-token"


def bench_web(frames: int = 300, viewers: int = 10, rounds: int = 2) -> dict[str, float]:
    """Loop frame time with 0 and ``viewers`` viewers (``rounds`` phases of ``frames`` each, alternating) and
    the frame-to-viewer delay, on the rig at 1280x720, paced to its 30 fps."""
    from assistant.live import LiveOptions, build_pipeline
    from assistant.web.sink import WebMonitorSink

    pipeline = build_pipeline(LiveOptions(source="sim", headless=True, no_audio=True), with_sinks=False)
    sink = WebMonitorSink("127.0.0.1:0", token=TOKEN, viewer_token=TOKEN[::-1], say=lambda text: None)
    pipeline.add_sink(sink)
    source = pipeline.source
    source.scene = replace(source.scene, loop=True)  # the 12 s demo scene, round and round (a cut each time)
    source._end = None
    period = 1.0 / source.fps
    times: dict[int, list[float]] = {0: [], viewers: []}
    delays: list[float] = []
    encoding: list[float] = []  # of each delay, the part until the JPEG was ready
    try:
        _run(pipeline, 30, period)  # warm up: models loaded, first searches done
        for _ in range(rounds):
            for watching in (0, viewers):
                crowd = None
                if watching:
                    crowd = subprocess.Popen([sys.executable, __file__, "--viewers-of", sink.url, str(watching)],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                    _run_until(pipeline, period, lambda: sink.viewers >= watching, 30.0)
                times[watching] += _run(pipeline, frames, period)
                if crowd is not None:
                    out, _ = crowd.communicate("", timeout=60)  # EOF on stdin: the viewers stop and report
                    report = json.loads(out.strip().splitlines()[-1])
                    delays += report["delays_ms"]
                    encoding += report["encoding_ms"]
                    _run_until(pipeline, period, lambda: sink.viewers == 0, 10.0)
        encoded = sink.encoder.encodes
        encode_ms = statistics.median(sink.encoder.encode_ms) if sink.encoder.encode_ms else float("nan")
        consumed = sink.frames
    finally:
        pipeline.close()
    alone, watched = statistics.median(times[0]), statistics.median(times[viewers])
    return {
        "viewers": viewers, "frames_per_phase": frames,
        "frame_ms_0": alone, f"frame_ms_{viewers}": watched, "ratio": watched / alone,
        "frame_p99_ms_0": float(np.percentile(times[0], 99)),
        f"frame_p99_ms_{viewers}": float(np.percentile(times[viewers], 99)),
        "delay_p50_ms": float(np.percentile(delays, 50)) if delays else float("nan"),
        "delay_p99_ms": float(np.percentile(delays, 99)) if delays else float("nan"),
        "delay_max_ms": max(delays) if delays else float("nan"),
        "to_jpeg_p50_ms": float(np.percentile(encoding, 50)) if encoding else float("nan"),
        "to_jpeg_p99_ms": float(np.percentile(encoding, 99)) if encoding else float("nan"),
        "pictures": len(delays), "encodes": encoded, "frames": consumed, "encode_ms": encode_ms,
    }


def _run(pipeline, frames: int, period: float) -> list[float]:
    """``frames`` through the loop at the source's rate; each one's time from arrival to the last sink."""
    spent = []
    due = time.perf_counter()
    for _ in range(frames):
        frame = pipeline.source.read()
        if frame is None:
            break
        due += period
        arrived = time.perf_counter()
        pipeline.dispatch(pipeline.process(frame, arrived))
        done = time.perf_counter()
        spent.append((done - arrived) * 1000.0)
        time.sleep(max(0.0, due - done))
        due = max(due, time.perf_counter() - period)  # behind: do not rush to catch up
    return spent


def _run_until(pipeline, period: float, condition, timeout: float) -> None:
    """Keep the loop running (untimed) until ``condition``, so viewers connect or leave between phases."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise RuntimeError("the viewers did not connect or leave in time")
        _run(pipeline, 1, period)


# -- the viewers' process --------------------------------------------------------------------------------------


async def _watch(url: str, count: int) -> tuple[list[float], list[float]]:
    import aiohttp

    delays: list[float] = []
    encoding: list[float] = []
    stop = asyncio.Event()

    async def viewer(session: aiohttp.ClientSession) -> None:
        async with session.get(f"{url}stream.mjpg", headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            content = response.content
            while not stop.is_set():
                line = await content.readline()
                if not line:
                    return
                if line.strip() != b"--frame":
                    continue
                headers = {}
                while (line := (await content.readline()).strip()):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                await content.readexactly(int(headers["content-length"]))
                now = time.monotonic()
                delays.append((now - float(headers["x-frame-time"])) * 1000.0)
                encoding.append((float(headers["x-encoded-time"]) - float(headers["x-frame-time"])) * 1000.0)

    async def until_stdin_closes() -> None:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        stop.set()

    async with aiohttp.ClientSession() as session:
        tasks = [asyncio.create_task(viewer(session)) for _ in range(count)]
        await until_stdin_closes()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return delays, encoding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per phase (default 300: 10 s)")
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="phases of each kind, alternating (default 2)")
    parser.add_argument("--viewers-of", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.viewers_of:
        url, count = args.viewers_of
        delays, encoding = asyncio.run(_watch(url, int(count)))
        print(json.dumps({"delays_ms": delays, "encoding_ms": encoding}))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    r = bench_web(args.frames, args.viewers, args.rounds)
    print("\n".join(summary_lines(r, args.frames, args.rounds)))


def summary_lines(r: dict[str, float], frames: int, rounds: int) -> list[str]:
    """The benchmark's report (``python benchmarks/web.py`` and ``make bench``)."""
    n = r["viewers"]
    verdict = "meets" if r["delay_p99_ms"] <= GOAL_P99_MS else "MISSES"
    return [
        f"Web monitor on the rig, 1280x720 at 30 fps, {n} viewers on 127.0.0.1 ({rounds} x {frames} frames each way)",
        f"  loop frame time: {r['frame_ms_0']:.1f} ms median with no viewer (p99 {r['frame_p99_ms_0']:.1f}), "
        f"{r[f'frame_ms_{n}']:.1f} ms with {n} (p99 {r[f'frame_p99_ms_{n}']:.1f}); ratio {r['ratio']:.2f}",
        f"  frame -> viewer delay: p50 {r['delay_p50_ms']:.1f} ms, p99 {r['delay_p99_ms']:.1f} ms, "
        f"max {r['delay_max_ms']:.1f} ms over {r['pictures']} pictures ({verdict} the goal p99 <= {GOAL_P99_MS:.0f} ms)",
        f"  of which until the JPEG was ready: p50 {r['to_jpeg_p50_ms']:.1f} ms, p99 {r['to_jpeg_p99_ms']:.1f} ms",
        f"  JPEG encoded once per frame on its own thread: {r['encodes']} encodes for {r['frames']} frames "
        f"(none while nobody watches), {r['encode_ms']:.1f} ms each (median)",
    ]


if __name__ == "__main__":
    main()
