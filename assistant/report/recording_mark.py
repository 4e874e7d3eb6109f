"""A mark inside MP4/MOV files saying "this picture has the overlay burnt in".

``--record`` writes what the operator saw: boxes, heat map and status bar
drawn over the camera's picture. Analysing such a file labels the overlay as
much as the scene, so ``analyze`` warns when it is given one. The mark is a
QuickTime comment (``udta/©cmt``, shown by ``ffprobe`` as ``comment``), added
to the end of the ``moov`` box after OpenCV has closed the file - OpenCV's
writer has no metadata API, and FFmpeg's muxer puts ``moov`` last, so the
comment is appended without moving any sample data.
"""

from __future__ import annotations

import struct
from pathlib import Path

ANNOTATED_COMMENT = "focus-assistant annotated recording: overlay burnt into the picture"
MARKED_SUFFIXES = (".mp4", ".m4v", ".mov")
_HEADER = struct.Struct(">I4s")
_ENGLISH = 0x55C4  # QuickTime packed ISO-639 language code for "eng"


def mark_annotated(path: Path) -> bool:
    """Add the annotated-recording comment to ``path``; False when the file's layout does not allow it.

    Only an MP4/MOV file whose last top-level box is ``moov`` (what OpenCV
    writes) is marked; anything else is left byte for byte as it was.
    """
    if Path(path).suffix.lower() not in MARKED_SUFFIXES:
        return False
    boxes = _top_level_boxes(path)
    if not boxes or boxes[-1][0] != b"moov":
        return False
    _, offset, size, header = boxes[-1]
    if header != _HEADER.size:  # a 64-bit moov size: too big to be OpenCV's; not worth the extra code
        return False
    text = ANNOTATED_COMMENT.encode("utf-8")
    comment = _box(b"\xa9cmt", struct.pack(">HH", len(text), _ENGLISH) + text)
    udta = _box(b"udta", comment)
    with open(path, "r+b") as file:
        file.seek(0, 2)
        file.write(udta)
        file.seek(offset)
        file.write(struct.pack(">I", size + len(udta)))
    return True


def is_annotated(path: Path) -> bool:
    """Whether ``path`` carries the mark (reads only the box headers and the ``moov`` box)."""
    if Path(path).suffix.lower() not in MARKED_SUFFIXES:
        return False
    try:
        moov = next(((offset, size, header) for kind, offset, size, header in _top_level_boxes(path)
                     if kind == b"moov"), None)
        if moov is None:
            return False
        offset, size, header = moov
        with open(path, "rb") as file:
            file.seek(offset + header)
            body = file.read(min(size - header, 64 << 20))
    except OSError:
        return False
    return b"\xa9cmt" in body and ANNOTATED_COMMENT.encode("utf-8") in body


def _box(kind: bytes, payload: bytes) -> bytes:
    return _HEADER.pack(_HEADER.size + len(payload), kind) + payload


def _top_level_boxes(path: Path) -> list[tuple[bytes, int, int, int]]:
    """(type, offset, size, header length) of each top-level box; [] if the file is not box-structured."""
    boxes: list[tuple[bytes, int, int, int]] = []
    try:
        with open(path, "rb") as file:
            file.seek(0, 2)
            end = file.tell()
            offset = 0
            while offset + _HEADER.size <= end:
                file.seek(offset)
                size, kind = _HEADER.unpack(file.read(_HEADER.size))
                header = _HEADER.size
                if size == 1:
                    size, header = struct.unpack(">Q", file.read(8))[0], 16
                elif size == 0:
                    size = end - offset
                if size < header or offset + size > end:
                    return []  # not an MP4 box we can trust
                boxes.append((kind, offset, size, header))
                offset += size
    except OSError:
        return []
    return boxes
