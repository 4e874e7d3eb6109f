"""``summary.json`` and ``summary.csv`` for a ``qc`` batch (DESIGN.md "Focus QC of recorded takes")."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from assistant.qc.clips import Skipped
from assistant.qc.job import ClipOutcome

CSV_COLUMNS = ("path", "status", "error", "duration_s", "fps", "frames", "rack", "pull", "soft", "soft_s",
               "soft_sections", "folder")


def write_summary(out_dir: Path, outcomes: list[ClipOutcome], skipped: list[Skipped]) -> None:
    """Both files, each written whole under a temporary name and renamed (a reader never sees half a file)."""
    rows = [_json_row(o) for o in outcomes]
    document = {"clips": rows, "skipped": [{"path": str(s.path), "reason": s.reason} for s in skipped]}
    _write_atomic(out_dir / "summary.json", json.dumps(document, indent=1) + "\n")
    _write_atomic(out_dir / "summary.csv", _csv_text(outcomes))


def _json_row(outcome: ClipOutcome) -> dict:
    row = outcome.to_json()
    row["events"] = {kind: outcome.events.get(kind, 0) for kind in ("rack", "pull", "soft")}
    row["folder"] = outcome.name
    del row["key"]
    return row


def _csv_text(outcomes: list[ClipOutcome]) -> str:
    import io

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for o in outcomes:
        sections = " ".join(f"{a:.2f}-{b:.2f}" for a, b in o.soft_sections)
        writer.writerow([o.path, o.status, o.error or "", o.duration_s if o.duration_s is not None else "",
                         o.fps if o.fps is not None else "", o.frames, o.events.get("rack", 0),
                         o.events.get("pull", 0), o.events.get("soft", 0), o.soft_s, sections, o.name])
    return text.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
