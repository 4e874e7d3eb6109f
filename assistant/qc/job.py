"""One clip of a ``qc`` batch: analysed as ``analyze`` does, its outputs written whole or not at all.

Runs in a worker process (local or on a Dask worker), so everything it takes and gives is a small frozen,
picklable value. Outputs go to a hidden ``.<name>.partial-*`` folder beside the final one and are renamed
into place only when complete, with ``result.json`` written last: a batch killed mid-clip leaves no folder
that looks done, and the next run redoes exactly that clip.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from assistant.errors import AssistantError, UnreadableVideo
from assistant.qc.diagnose import why_unreadable
from assistant.qc.soft import SoftTimeline
from assistant.sink import FrameResult, Sink

RESULT_FILE = "result.json"
OUTPUT_FILES = {"events": "events.jsonl", "tracks": "tracks.jsonl", "report": "report.png",
                "markers": "markers.edl", "filmstrip": "filmstrip.jpg"}
FILMSTRIP_FRAMES = 6
FILMSTRIP_HEIGHT = 72
TRUNCATED_SHARE = 0.98
"""A clip that decodes fewer than this share of the frames its container declares is reported truncated."""


@dataclass(frozen=True)
class QcSettings:
    """What changes a clip's result besides its content: part of the key that says a clip is done."""

    target: str = "largest"
    hfov_deg: float | None = None
    config_text: str = ""  # the --config file's contents ("" for the defaults)
    version: str = ""

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class ClipJob:
    """A clip to analyse: where it is, where its folder goes, and the key its finished result carries."""

    path: Path
    name: str
    out_dir: Path
    settings: QcSettings
    key: str  # content fingerprint + settings


@dataclass(frozen=True)
class ClipOutcome:
    """One row of ``summary.json`` (DESIGN.md "Focus QC"), plus where its outputs are."""

    path: str
    name: str
    status: str  # "ok" | "error"
    error: str | None = None
    duration_s: float | None = None
    fps: float | None = None
    frames: int = 0
    subjects: int = 0  # people tracked at some time (0: no face found, so nothing could be judged soft)
    width: int | None = None
    height: int | None = None
    events: dict[str, int] = field(default_factory=dict)
    soft_s: float = 0.0
    soft_sections: tuple[tuple[float, float], ...] = ()
    marks: tuple[tuple[str, float, float], ...] = ()  # (type, start, end) of racks and pulls, for the timeline
    wall_s: float = 0.0
    key: str = ""

    def to_json(self) -> dict:
        row = asdict(self)
        row["soft_sections"] = [list(s) for s in self.soft_sections]
        row["marks"] = [list(m) for m in self.marks]
        return row

    @classmethod
    def from_json(cls, row: dict) -> ClipOutcome:
        known = {k: v for k, v in row.items() if k in cls.__dataclass_fields__}
        known["soft_sections"] = tuple(tuple(s) for s in row.get("soft_sections", ()))
        known["marks"] = tuple(tuple(m) for m in row.get("marks", ()))
        return cls(**known)


def run_clip(job: ClipJob, progress: Callable[[int], None] | None = None) -> ClipOutcome:
    """Analyse ``job``'s clip into ``out_dir/name``; ``progress`` hears how many frames were just read.

    A clip that cannot be read is an ``error`` outcome, never an exception: the batch goes on.
    """
    started = time.monotonic()
    partial = job.out_dir / f".{job.name}.partial-{uuid.uuid4().hex[:8]}"
    partial.mkdir(parents=True)
    try:
        outcome = _analyse(job, partial, progress)
    except UnreadableVideo:  # OpenCV says only "cannot open": say why
        outcome = ClipOutcome(str(job.path), job.name, "error", error=why_unreadable(job.path), key=job.key)
    except AssistantError as exc:  # e.g. no frame rate; the row names the clip already
        reason = str(exc).removeprefix(f"{job.path}: ")
        outcome = ClipOutcome(str(job.path), job.name, "error", error=reason, key=job.key)
    except Exception as exc:  # a bug or a decoder crash on one clip must not stop a day's batch
        outcome = ClipOutcome(str(job.path), job.name, "error", error=f"{type(exc).__name__}: {exc}", key=job.key)
    outcome = _with_wall(outcome, time.monotonic() - started)
    (partial / RESULT_FILE).write_text(json.dumps(outcome.to_json(), indent=1))
    _move_into_place(partial, job.out_dir / job.name)
    return outcome


def _with_wall(outcome: ClipOutcome, wall_s: float) -> ClipOutcome:
    return replace(outcome, wall_s=round(wall_s, 3))


def _analyse(job: ClipJob, folder: Path, progress: Callable[[int], None] | None) -> ClipOutcome:
    from assistant.live import LiveOptions, build_pipeline

    config = None
    if job.settings.config_text:
        config = folder / "config.toml"  # the batch's config, kept with the outputs it made
        config.write_text(job.settings.config_text)
    options = LiveOptions(source=str(job.path), analyze=True, progress=False, headless=True,
                          target=job.settings.target, hfov_deg=job.settings.hfov_deg, config=config,
                          **{k: folder / v for k, v in OUTPUT_FILES.items() if k != "filmstrip"})
    pipeline = build_pipeline(options)
    declared = int(getattr(pipeline.source, "frame_count", 0) or 0)
    watcher = _ClipWatcher(declared, folder / OUTPUT_FILES["filmstrip"], progress)
    timeline = SoftTimeline()
    pipeline.add_sink(watcher)
    pipeline.add_sink(timeline)
    summary = pipeline.run()
    fps = float(pipeline.source.fps)
    soft = timeline.sections()
    counts = {kind: sum(e.type == kind for e in timeline.events) for kind in ("rack", "pull", "soft")}
    marks = tuple((e.type, round(e.start, 3), round(e.end, 3)) for e in timeline.events if e.type in ("rack", "pull"))
    error = None
    if summary.frames == 0:
        error = "no frame could be decoded; check the file plays, or re-encode it"
    elif declared and summary.frames < TRUNCATED_SHARE * declared - 1:
        error = (f"truncated: decoded {summary.frames} of the {declared} frames its header declares "
                 f"({summary.frames / fps:.1f} of {declared / fps:.1f} s); copy it again from the card")
    return ClipOutcome(
        str(job.path), job.name, "error" if error else "ok", error=error,
        duration_s=round(summary.frames / fps, 3), fps=round(fps, 3), frames=summary.frames,
        subjects=len(timeline.subjects()),
        width=watcher.size[0] if watcher.size else None, height=watcher.size[1] if watcher.size else None,
        events=counts, soft_s=round(sum(b - a for a, b in soft), 3), soft_sections=tuple(soft), marks=marks,
        key=job.key)


class _ClipWatcher(Sink):
    """Keeps a filmstrip of evenly spaced frames and reports progress every few frames."""

    REPORT_EVERY = 10

    def __init__(self, declared_frames: int, filmstrip: Path, progress: Callable[[int], None] | None) -> None:
        self.size: tuple[int, int] | None = None
        self._filmstrip = filmstrip
        self._progress = progress
        self._pending = 0
        spacing = max(1, declared_frames // FILMSTRIP_FRAMES) if declared_frames else 30
        self._wanted = {spacing // 2 + i * spacing for i in range(FILMSTRIP_FRAMES)}
        self._thumbs: list[np.ndarray] = []

    def consume(self, result: FrameResult) -> None:
        frame = result.frame
        if self.size is None:
            self.size = (frame.image.shape[1], frame.image.shape[0])
        if frame.index in self._wanted:
            h, w = frame.image.shape[:2]
            width = max(1, round(w * FILMSTRIP_HEIGHT / h))
            self._thumbs.append(cv2.resize(frame.image, (width, FILMSTRIP_HEIGHT), interpolation=cv2.INTER_AREA))
        self._pending += 1
        if self._progress is not None and self._pending >= self.REPORT_EVERY:
            self._progress(self._pending)
            self._pending = 0

    def close(self) -> None:
        if self._progress is not None and self._pending:
            self._progress(self._pending)
            self._pending = 0
        if self._thumbs:
            cv2.imwrite(str(self._filmstrip), np.hstack(self._thumbs), [cv2.IMWRITE_JPEG_QUALITY, 80])


def _move_into_place(partial: Path, final: Path) -> None:
    """Replace ``final`` with ``partial`` (a folder); the old one is removed only after the rename."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(final, old)
    os.replace(partial, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
