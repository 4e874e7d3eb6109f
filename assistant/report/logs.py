"""JSON Lines writers for the events and tracks files (formats in DESIGN.md).

Each line is written whole and flushed at once, so another program can tail
the file live and a crash never leaves more than the last line incomplete.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import TracebackType
from typing import Any

from assistant.errors import OutputError
from assistant.report.files import prepared
from assistant.types import Subject


class JsonLinesWriter:
    """Appends one JSON object per line, flushed line by line."""

    def __init__(self, path: Path) -> None:
        self.path = prepared(path)
        try:
            self._file = open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot write ({exc.strerror}); choose a writable path") from exc
        self.lines = 0

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record, allow_nan=False, separators=(", ", ": ")) + "\n")
        self._file.flush()
        self.lines += 1

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> "JsonLinesWriter":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def track_record(frame_index: int, t: float, focus_m: float | None, subjects: tuple[Subject, ...]) -> dict[str, Any]:
    """A tracks-file line: the frame, its time, the focus distance and every subject."""
    focus = None if focus_m is None or not math.isfinite(focus_m) else round(focus_m, 3)
    return {"frame": frame_index, "t": round(t, 4), "focus_m": focus, "subjects": [s.to_json() for s in subjects]}
