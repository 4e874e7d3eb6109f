"""``qc`` over a folder against ``analyze`` on each clip one after another (part of ``make bench``).

    python benchmarks/qc_batch.py            # also run by benchmarks/bench.py

Twelve generated clips (full-length scenes from seeds 3100-3111, 960x540, cached in
``.cache/qc-bench/``) are analysed twice, each way in fresh processes as a user would run them:

- one after another: ``focus-assistant analyze CLIP --events --tracks --report --markers`` per clip;
- as a batch: ``focus-assistant qc FOLDER --out DIR`` with the default workers (the machine's cores).

Both write the same per-clip outputs. The ratio of wall times is the number to beat (<= 0.75); the CPU
time of the child processes over wall time says how many of the machine's cores each way kept busy.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "qc-bench"
SEEDS = range(3100, 3112)
TARGET_RATIO = 0.75


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float

    @property
    def cores_busy(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


def clips() -> list[Path]:
    """The twelve clips, rendered once (each written whole under a temporary name)."""
    from assistant.sim.clip_file import write_clip
    from assistant.sim.generate import generate

    CACHE.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in SEEDS:
        path = CACHE / f"take-{seed}.mp4"
        if not path.exists():
            write_clip(generate(seed).scene, path)
        paths.append(path)
    return paths


def timed(commands: list[list[str]]) -> Timing:
    """Run the commands one after another; wall time and the children's CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for command in commands:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def bench_qc_batch() -> dict[str, float]:
    """Wall time of analyze one by one and of one qc batch over the same clips, side by side."""
    takes = clips()
    program = [sys.executable, "-m", "assistant"]
    with tempfile.TemporaryDirectory() as scratch:
        folder, out = Path(scratch) / "day", Path(scratch) / "qc"
        folder.mkdir()
        for take in takes:
            (folder / take.name).symlink_to(take)
        one_by_one = timed([[*program, "analyze", str(take), "--events", f"{scratch}/{take.stem}.jsonl",
                             "--tracks", f"{scratch}/{take.stem}-tracks.jsonl",
                             "--report", f"{scratch}/{take.stem}.png", "--markers", f"{scratch}/{take.stem}.edl"]
                            for take in takes])
        batch = timed([[*program, "qc", str(folder), "--out", str(out)]])
        resumed = timed([[*program, "qc", str(folder), "--out", str(out)]])
        shutil.rmtree(out)
    return {"clips": len(takes), "serial_s": one_by_one.wall_s, "serial_cores": one_by_one.cores_busy,
            "batch_s": batch.wall_s, "batch_cores": batch.cores_busy, "ratio": batch.wall_s / one_by_one.wall_s,
            "resume_s": resumed.wall_s}


def describe(r: dict[str, float], cores: int) -> str:
    return (f"qc over {r['clips']:.0f} generated clips: {r['batch_s']:.1f} s with the default workers "
            f"({r['batch_cores']:.2f} of {cores} cores busy) vs analyze one after another {r['serial_s']:.1f} s "
            f"({r['serial_cores']:.2f} cores busy): ratio {r['ratio']:.2f} (goal <= {TARGET_RATIO}); "
            f"a second run (all reused) {r['resume_s']:.2f} s")


if __name__ == "__main__":
    import os

    print(describe(bench_qc_batch(), os.cpu_count() or 1))
