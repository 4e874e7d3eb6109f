"""Why a file could not be opened as a video, in words a DIT can act on.

OpenCV only says "cannot open". Looking at the first bytes and, for MP4/MOV, walking the top-level boxes
tells a cut-short copy (the index at the end never arrived) from a file that is not video at all.
"""

from __future__ import annotations

import struct
from pathlib import Path

QUICKTIME_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"udta", b"uuid", b"pnot",
                             b"meta", b"moof", b"mfra", b"sidx", b"styp", b"pdin", b"prft", b"emsg"})
MXF_KEY = bytes.fromhex("060e2b34")
MATROSKA_MAGIC = bytes.fromhex("1a45dfa3")


def why_unreadable(path: Path) -> str:
    """The likely reason ``path`` would not open as a video, with what to do."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError as exc:
        return f"cannot read the file ({exc.strerror}); check the disk and the permissions"
    if size == 0:
        return "empty file (0 bytes); copy it again from the card"
    if head[4:8] in QUICKTIME_BOXES:
        return _quicktime(path, size)
    if head.startswith((MXF_KEY, MATROSKA_MAGIC)) or head[:4] == b"RIFF":
        return ("damaged or truncated video (its container starts correctly but FFmpeg cannot read it); "
                "copy it again from the card")
    if _looks_like_text(head):
        return "not a video: the file holds text; leave it out, or give the video it names"
    return "not a video format FFmpeg can read; check what the file is (e.g. with ffprobe)"


def _quicktime(path: Path, size: int) -> str:
    """An MP4/MOV: where its box structure ends, and whether the index (``moov``) is there."""
    seen: list[bytes] = []
    offset = 0
    with path.open("rb") as f:
        while offset + 8 <= size:
            f.seek(offset)
            header = f.read(16)
            length, kind = struct.unpack(">I4s", header[:8])
            if length == 1 and len(header) >= 16:
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:
                length = size - offset
            if length < 8:
                return f"damaged MP4/MOV: a broken box at byte {offset}; copy it again from the card"
            seen.append(kind)
            if offset + length > size:
                return (f"truncated MP4/MOV: it ends inside its {kind.decode('latin-1')!r} box "
                        f"({size} of {offset + length} bytes)" + _no_index(seen))
            offset += length
    if b"moov" not in seen:
        return "truncated MP4/MOV: its index (the moov box) is missing" + _no_index(seen)
    return "damaged MP4/MOV: its boxes are whole but FFmpeg cannot decode it; check it plays, or re-export it"


def _no_index(seen: list[bytes]) -> str:
    if b"moov" in seen:
        return "; copy it again from the card"
    return ("; the recording or the copy was cut short before the index was written; copy it again, or recover "
            "it with a tool that rebuilds the index")


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    return printable / len(head) > 0.95
