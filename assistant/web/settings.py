"""Web monitor settings (``[web]`` in the config): a leaf, so the config loads no server."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.schema import limits


@dataclass(frozen=True)
class WebConfig:
    """The on-set web monitor (``live --serve``)."""

    jpeg_quality: int = field(default=80, metadata=limits(lo=10, hi=100))
    max_width: int = field(default=1280, metadata=limits(lo=160, hi=7680))
    """Pictures wider than this are scaled down (keeping their shape) before encoding."""
    max_fps: float = field(default=30.0, metadata=limits(lo=1.0, hi=120.0))
    """At most this many pictures a second are encoded for the stream."""
    max_viewers: int = field(default=32, metadata=limits(lo=1, hi=1000))
    """Open picture streams at once; one more is answered 503."""
    stall_timeout_s: float = field(default=2.0, metadata=limits(lo=0.1, hi=60.0))
    """A viewer that takes no picture data for this long is dropped."""
    command_rate_per_s: float = field(default=20.0, metadata=limits(lo=0.1, hi=1000.0))
    """Commands each client address may send a second (a burst of as many); more are answered 429."""
    command_timeout_s: float = field(default=1.0, metadata=limits(lo=0.05, hi=30.0))
    """How long a command waits for the run to take it before 503 (no frames: no signal, or the run ended)."""
    body_limit_bytes: int = field(default=4096, metadata=limits(lo=256, hi=1048576))
    """Larger request bodies are answered 413."""
