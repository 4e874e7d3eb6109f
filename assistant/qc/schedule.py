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
            for _ in jobs:
                while True:
                    try:
                        outcome = finished.next(timeout=0.2)
                        break
                    except multiprocessing.TimeoutError:
                        _drain(queue, frames)
                _drain(queue, frames)
                yield outcome
            pool.close()
        except BaseException:  # Ctrl-C, or the caller stopped listening: stop the clips in progress
            pool.terminate()
            raise
        finally:
            pool.join()
    finally:
        manager.shutdown()


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_reporting(job: ClipJob, queue: Any) -> ClipOutcome:
    """In a worker: the job, sending frame counts back through the manager's queue."""
    return run_clip(job, queue.put)


def _drain(queue: Any, frames: Progress) -> None:
    while not queue.empty():
        frames(queue.get_nowait())


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
