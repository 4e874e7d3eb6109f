"""SMPTE timecode (non-drop) for cue sheets and editors' markers."""

from __future__ import annotations


def timecode_seconds(timecode: str, fps: float) -> float:
    """``HH:MM:SS:FF`` (non-drop) at ``fps`` to seconds."""
    parts = timecode.replace(";", ":").split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{timecode!r} is not HH:MM:SS:FF")
    hours, minutes, seconds, frames = (int(p) for p in parts)
    rate = round(fps)
    if minutes >= 60 or seconds >= 60 or frames >= rate:
        raise ValueError(f"{timecode!r} is out of range at {fps:g} fps")
    # Non-drop timecode counts round(fps) frames per labelled second; the frames play at fps.
    return ((hours * 3600 + minutes * 60 + seconds) * rate + frames) / fps


def seconds_timecode(seconds: float, fps: float) -> str:
    """Seconds to ``HH:MM:SS:FF`` (non-drop) at the nearest whole frame rate."""
    rate = round(fps)
    frames = round(seconds * fps)
    ff = frames % rate
    total = frames // rate
    return f"{total // 3600:02d}:{total // 60 % 60:02d}:{total % 60:02d}:{ff:02d}"
