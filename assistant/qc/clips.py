"""The clips under the paths a ``qc`` batch was given, where each one's outputs go, and its fingerprint."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import UserInputError

VIDEO_EXTENSIONS = frozenset({".mov", ".mp4", ".m4v", ".mxf", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".ts",
                              ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".ogv", ".dv", ".y4m"})
"""Files found in folders with these endings are clips; others are listed as skipped, never opened."""

SAMPLE_BYTES = 1 << 20
SAMPLES = 8
"""The fingerprint reads the file's size and eight 1 MiB pieces spread over it, so a terabyte card hashes in
seconds: a changed take (re-exported, truncated, re-recorded) changes its size or the sampled bytes."""


@dataclass(frozen=True)
class Clip:
    """One file to analyse and the folder name its outputs get under ``--out``."""

    path: Path
    name: str


@dataclass(frozen=True)
class Skipped:
    """A file under a folder that is not a video by its name: listed in the summary, not analysed."""

    path: Path
    reason: str


def find_clips(paths: list[Path], out_dir: Path) -> tuple[list[Clip], list[Skipped]]:
    """Every clip under ``paths`` (folders recursively, in name order; files as given), and the skipped files.

    Files named on the command line are always tried, whatever their ending; hidden files and anything under
    ``out_dir`` are left out. Raises :class:`UserInputError` for a path that does not exist.
    """
    out_resolved = out_dir.resolve()
    found: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            raise UserInputError(f"{path}: no such file or folder; give the folders or clips of the day's takes")
        if path.is_file():
            found.append(path)
            continue
        for file in _walk(path):
            if file.resolve().is_relative_to(out_resolved):
                continue
            if file.suffix.lower() in VIDEO_EXTENSIONS:
                found.append(file)
            else:
                skipped.append(Skipped(file, f"not a video file by its name ({file.suffix or 'no extension'})"))
    unique = list(dict.fromkeys(p.resolve() for p in found))
    return [Clip(path, name) for path, name in zip(unique, _folder_names(unique))], skipped


def _walk(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
    return files


def _folder_names(paths: list[Path]) -> list[str]:
    """A readable, unique output folder per clip: its name, with as many parent folders as tell it apart."""
    names: list[str] = []
    depth = {p: 1 for p in paths}
    while True:
        names = [_safe("__".join(p.parts[-depth[p]:])) for p in paths]
        clashes = {n for n in names if names.count(n) > 1}
        if not clashes:
            return names
        grew = False
        for p, n in zip(paths, names):
            if n in clashes and depth[p] < len(p.parts):
                depth[p] += 1
                grew = True
        if not grew:  # same name all the way up (cannot happen for distinct resolved paths)
            return [f"{n}-{i}" for i, n in enumerate(names)]


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "clip"


def fingerprint(path: Path) -> str:
    """A hash of the clip's size and sampled content (see :data:`SAMPLE_BYTES`)."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=16)
    with path.open("rb") as f:
        if size <= SAMPLE_BYTES * SAMPLES:
            digest.update(f.read())
        else:
            for i in range(SAMPLES):
                f.seek((size - SAMPLE_BYTES) * i // (SAMPLES - 1))
                digest.update(f.read(SAMPLE_BYTES))
    return digest.hexdigest()
