"""Which clips of a ``qc`` batch still need doing, and running them on workers here or on a Dask cluster.

Local workers are processes (``--workers N``) that each import the analysis once and take clip after clip,
so start-up is paid once per worker, not per clip. ``--scheduler tcp://HOST:PORT`` hands the same jobs to
an existing Dask cluster whose workers see the clips and ``--out`` on shared storage; ``--scheduler local``
starts a Dask ``LocalCluster`` here (mostly to try the cluster path on one machine).
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
from collections.abc import Callable, Iterator
from functools import partial
from multiprocessing.managers import SyncManager
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import UserInputError
from assistant.qc.clips import Clip, fingerprint
from assistant.qc.job import RESULT_FILE, ClipJob, ClipOutcome, QcSettings, run_clip

DASK_MISSING = ("--scheduler needs Dask's distributed scheduler, an optional extra: "
                "pip install 'focus-assistant[cluster]' (or pip install 'dask[distributed]')")


@dataclass(frozen=True)
class Plan:
    """The batch split into clips whose finished result can be reused and jobs still to run."""

    done: tuple[ClipOutcome, ...]
    jobs: tuple[ClipJob, ...]


def plan(clips: list[Clip], out_dir: Path, settings: QcSettings) -> Plan:
    """Reuse each clip whose folder holds a result with the same content fingerprint and settings."""
    settings_digest = hashlib.blake2b(settings.key().encode(), digest_size=8).hexdigest()
    done, jobs = [], []
    for clip in clips:
        try:
            key = f"{fingerprint(clip.path)}-{settings_digest}"
        except OSError as exc:
            done.append(ClipOutcome(str(clip.path), clip.name, "error", error=f"cannot read the file: {exc.strerror}"))
            continue
        previous = _finished(out_dir / clip.name / RESULT_FILE)
        if previous is not None and previous.key == key:  # an unchanged unreadable file fails the same way
            done.append(previous)
        else:
            jobs.append(ClipJob(clip.path, clip.name, out_dir, settings, key))
    return Plan(tuple(done), tuple(jobs))


def _finished(result: Path) -> ClipOutcome | None:
    try:
        return ClipOutcome.from_json(json.loads(result.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def clear_leftovers(out_dir: Path) -> int:
    """Remove the half-written folders a killed batch left (``.NAME.partial-*``, ``.NAME.old-*``)."""
    stale = [p for p in out_dir.glob(".*") if p.is_dir() and (".partial-" in p.name or ".old-" in p.name)]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


Progress = Callable[[int], None]
"""Called with a number of frames just analysed (from any worker)."""


def run_local(jobs: tuple[ClipJob, ...], workers: int, frames: Progress) -> Iterator[ClipOutcome]:
    """Each job's outcome as it finishes, from ``workers`` processes; frames are reported as they go.

    Workers ignore Ctrl-C: the batch process stops them itself (``terminate``), so a stop prints no
    tracebacks from every worker, and the clip each was on is left half-written, to be redone.

    A worker that dies mid-clip (a decoder or a model crashing on one file, the kernel's out-of-memory
    killer) would leave the pool waiting for its result for ever: each worker says which clip it starts,
    and a clip whose worker is gone is reported as crashed (and tried again by the next run) while the
    pool's replacement worker goes on with the rest.
    """
    if workers == 1:  # in this process: simplest to debug, nothing to start
        for job in jobs:
            yield run_clip(job, frames)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a parent holding threads (decoders, TFLite)
    manager = SyncManager(ctx=context)
    manager.start(_ignore_interrupts)
    try:
        queue = manager.Queue()
        pool = context.Pool(workers, initializer=_ignore_interrupts)
        try:
            finished = pool.imap_unordered(partial(_run_reporting, queue=queue), jobs)
            watch = _WorkerWatch(frames)
            by_name = {job.name: job for job in jobs}
            remaining, lost = len(jobs), False
            while remaining:
                try:
                    outcome = finished.next(timeout=0.2)
                except multiprocessing.TimeoutError:
                    watch.drain(queue)
                    for name in watch.lost():
                        lost = True
                        remaining -= 1
                        yield _crashed(by_name[name])
                    continue
                watch.drain(queue)
                watch.done(outcome.name)
                remaining -= 1
                yield outcome
            if lost:  # the pool still waits for the lost clip's result: closing would wait with it
                pool.terminate()
            else:
                pool.close()
        except BaseException:  # Ctrl-C, or the caller stopped listening: stop the clips in progress
            pool.terminate()
            raise
        finally:
            pool.join()
    finally:
        manager.shutdown()


class _WorkerWatch:
    """What the workers said through the manager's queue: frame counts, and which process took which clip."""

    def __init__(self, frames: Progress) -> None:
        self._frames = frames
        self._running: dict[str, int] = {}  # clip name -> the worker's process id

    def drain(self, queue: Any) -> None:
        while not queue.empty():
            message = queue.get_nowait()
            if isinstance(message, tuple):  # ("started", clip name, process id)
                self._running[message[1]] = message[2]
            else:
                self._frames(message)

    def done(self, name: str) -> None:
        self._running.pop(name, None)

    def lost(self) -> list[str]:
        """Clips whose worker process has gone (the pool has already reaped it) without a result."""
        gone = [name for name, pid in self._running.items() if not _alive(pid)]
        for name in gone:
            del self._running[name]
        return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now holds the number: ours is gone
        return False
    return True


def _crashed(job: ClipJob) -> ClipOutcome:
    return ClipOutcome(str(job.path), job.name, "error",
                       error="the analysis crashed (its worker process died); the next run tries it again")


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_reporting(job: ClipJob, queue: Any) -> ClipOutcome:
    """In a worker: says which clip it starts, then runs it, sending frame counts through the manager's queue."""
    queue.put(("started", job.name, os.getpid()))
    return run_clip(job, queue.put)


def require_dask() -> None:
    """Say at once, before any clip is looked at, when the cluster extra is not installed."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UserInputError(DASK_MISSING) from exc


def run_dask(jobs: tuple[ClipJob, ...], scheduler: str, workers: int, say: Callable[[str], None]) -> Iterator[ClipOutcome]:
    """Each job's outcome as it finishes, on the Dask cluster at ``scheduler`` (or a LocalCluster for "local")."""
    require_dask()
    from distributed import Client, LocalCluster, as_completed

    with _dask_client(scheduler, workers, Client, LocalCluster, say) as client:
        futures = [client.submit(run_clip, job, key=f"qc-{job.name}-{job.key}", pure=False) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            client.cancel(futures)
            raise


@contextmanager
def _dask_client(scheduler: str, workers: int, client_type: Any, cluster_type: Any,
                 say: Callable[[str], None]) -> Iterator[Any]:
    if scheduler == "local":
        with cluster_type(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None) as cluster, client_type(cluster) as client:
            say(f"started a Dask LocalCluster with {workers} workers at {cluster.scheduler_address}")
            yield client
        return
    try:
        client = client_type(scheduler, timeout="10s")
    except OSError as exc:
        raise UserInputError(f"--scheduler {scheduler}: no Dask scheduler answered ({exc}); check the address and "
                             "that `dask scheduler` runs there") from exc
    with client:
        say(f"sending clips to the Dask cluster at {scheduler} "
            f"({len(client.scheduler_info().get('workers', {}))} workers)")
        yield client
