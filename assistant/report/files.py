"""Output files: make their folder, or say in one line why it cannot be made."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import OutputError


def prepared(path: Path, suffixes: tuple[str, ...] = (), what: str = "file") -> Path:
    """``path`` with its folder created; checks the suffix when ``suffixes`` are given."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file path for the {what}")
    if suffixes and path.suffix.lower() not in suffixes:
        raise OutputError(f"{path}: unsupported {what} format; use one of {', '.join(sorted(suffixes))}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the folder ({exc.strerror}); choose a writable path") from exc
    return path
