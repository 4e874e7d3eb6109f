"""``focus-assistant qc PATH... --out DIR``: the whole batch, from finding the clips to the index page."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from assistant import __version__
from assistant.errors import UserInputError
from assistant.native_quiet import native_stderr_silenced
from assistant.qc.clips import find_clips
from assistant.qc.index_page import write_index
from assistant.qc.job import ClipOutcome, QcSettings
from assistant.qc.schedule import clear_leftovers, plan, require_dask, run_dask, run_local
from assistant.qc.summary import write_summary


FFMPEG_LOG_FATAL = 8  # av_log level: only errors that stop the decoder


@dataclass(frozen=True)
class QcOptions:
    """What ``qc`` was asked (see ``focus-assistant qc --help``)."""

    paths: tuple[Path, ...]
    out: Path
    workers: int | None = None  # None: the machine's cores
    scheduler: str | None = None  # None: local worker processes; "local" or tcp://HOST:PORT: Dask
    target: str = "largest"
    hfov_deg: float | None = None
    config: Path | None = None


@dataclass(frozen=True)
class QcResult:
    outcomes: tuple[ClipOutcome, ...]
    reused: int
    index: Path

    @property
    def failed(self) -> tuple[ClipOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status != "ok")


def run_qc(options: QcOptions, stream: TextIO | None = None) -> QcResult:
    """Analyse every clip not already done, then write ``summary.json``, ``summary.csv`` and ``index.html``.

    A Ctrl-C keeps what finished: the summary and index list the clips done so far before it propagates.
    """
    stream = stream or sys.stderr
    # FFmpeg's decoder warnings on a damaged clip ("overread", "corrupt frame") would tear through the bar;
    # the clip's row says what is wrong with it. Workers inherit this when they start.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", str(FFMPEG_LOG_FATAL))
    say: Callable[[str], None] = lambda line: print(f"focus-assistant qc: {line}", file=stream, flush=True)
    if options.scheduler is not None:
        require_dask()
    _check_out(options.out)
    clips, skipped = find_clips(list(options.paths), options.out)
    if not clips:
        raise UserInputError(f"no video files under {', '.join(map(str, options.paths))}; give the folders holding "
                             "the takes (.mov, .mp4, .mxf, .avi, .mkv, ...)")
    settings = QcSettings(options.target, options.hfov_deg,
                          options.config.read_text() if options.config else "", __version__)
    if cleared := clear_leftovers(options.out):
        say(f"removed {cleared} half-written clip folder(s) left by a stopped batch")
    batch = plan(clips, options.out, settings)
    workers = max(1, min(options.workers or os.cpu_count() or 1, len(batch.jobs) or 1))
    where = (f"on {workers} worker process(es)" if options.scheduler is None
             else f"with the Dask scheduler {options.scheduler}")
    unreadable = sum(o.status != "ok" for o in batch.done)
    say(f"{len(clips)} clips: {len(batch.done) - unreadable} already done, "
        + (f"{unreadable} unreadable as before (unchanged), " if unreadable else "")
        + f"{len(batch.jobs)} to analyse {where}" + (f"; {len(skipped)} other files skipped" if skipped else ""))
    by_name = {o.name: o for o in batch.done}
    progress = BatchProgress(stream, len(clips), len(batch.done), _declared_frames(batch.jobs))
    results = (run_local(batch.jobs, workers, progress.frames) if options.scheduler is None
               else run_dask(batch.jobs, options.scheduler, workers, say))
    try:
        for outcome in results:
            by_name[outcome.name] = outcome
            if options.scheduler is not None:  # Dask workers report a clip's frames when it is done
                progress.frames(outcome.frames)
            progress.clip_done(outcome)
    except KeyboardInterrupt:
        progress.close()
        by_name.update((o.name, o) for o in plan(clips, options.out, settings).done)  # finished, not yet heard
        say(f"stopped: {len(by_name)} of {len(clips)} clips done; run the same command again to finish the rest")
        raise
    finally:
        progress.close()
        ordered = [by_name[c.name] for c in clips if c.name in by_name]
        write_summary(options.out, ordered, skipped)
        index = write_index(options.out, ordered, skipped)
    result = QcResult(tuple(ordered), len(batch.done), index)
    for bad in result.failed:
        say(f"{bad.path}: {bad.error}")
    say(f"{len(ordered) - len(result.failed)} of {len(clips)} clips analysed"
        f" ({result.reused} reused); open {index}")
    return result


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserInputError(f"--out {out}: is a file; give a folder for the batch's outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".qc-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserInputError(f"--out {out}: cannot write there ({exc.strerror}); give a folder you can write to") from exc


def _declared_frames(jobs) -> int:
    """Frames the clips' headers declare (for the bar's total; 0 when a header will not say)."""
    import cv2

    total = 0
    for job in jobs:
        with native_stderr_silenced():  # FFmpeg's "moov atom not found": the clip's row will say why
            capture = cv2.VideoCapture(str(job.path))
        total += max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)) if capture.isOpened() else 0
        capture.release()
    return total


class BatchProgress:
    """One bar for the batch on a terminal (clips, frames, rate, time left); one line per clip otherwise."""

    WIDTH = 24

    def __init__(self, stream: TextIO, clips: int, reused: int, total_frames: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream, self.clips, self.total_frames = stream, clips, total_frames
        self.tty = stream.isatty()
        self.done_clips = reused
        self.done_frames = 0
        self._clock = clock
        self._started = clock()
        self._last_draw = -1.0
        self._closed = False

    def frames(self, count: int) -> None:
        self.done_frames += count
        self._draw()

    def clip_done(self, outcome: ClipOutcome) -> None:
        self.done_clips += 1
        if not self.tty:
            state = (f"{outcome.events.get('rack', 0)} racks, {outcome.events.get('pull', 0)} pulls, "
                     f"{outcome.soft_s:.1f} s soft" if outcome.status == "ok" else f"error: {outcome.error}")
            print(f"focus-assistant qc: [{self.done_clips}/{self.clips}] {outcome.name}: {state}",
                  file=self.stream, flush=True)
        self._draw(force=True)

    def line(self) -> str:
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = self.done_frames / elapsed
        share = min(1.0, self.done_frames / self.total_frames) if self.total_frames else self.done_clips / self.clips
        left = (self.total_frames - self.done_frames) / rate if rate > 0 and self.total_frames else None
        filled = int(share * self.WIDTH)
        return (f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done_clips}/{self.clips} clips  "
                f"{self.done_frames}/{self.total_frames or '?'} frames  {rate:6.1f} fps  "
                + (f"{left:5.0f} s left" if left is not None else ""))

    def _draw(self, force: bool = False) -> None:
        now = self._clock()
        if self.tty and (force or now - self._last_draw >= 0.2):
            self._last_draw = now
            self.stream.write("\r" + self.line())
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line (once)."""
        if self.tty and not self._closed:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
        self._closed = True
