"""Vision settings (``[faces]``, ``[tracker]``, ``[people]`` in the config): a leaf, so the config loads no detector."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.schema import check_limits, limits


@dataclass(frozen=True)
class SearchConfig:
    """How detection is spread over frames (``[faces]`` in the config)."""

    enabled: bool = True
    search_every: int = field(default=1, metadata=limits(lo=1, hi=30))
    analyze_search_every: int = field(default=2, metadata=limits(lo=1, hi=30))
    discover_every: int = field(default=8, metadata=limits(lo=1, hi=300))
    crop_scale: float = field(default=4.0, metadata=limits(lo=1.5, hi=12.0))
    min_crop_px: int = field(default=96, metadata=limits(lo=32, hi=4096))
    tile_overlap: float = field(default=0.2, metadata=limits(lo=0.0, hi=0.5))
    min_score: float = field(default=0.5, metadata=limits(lo=0.05, hi=0.99))


@dataclass(frozen=True)
class TrackerConfig:
    """How tracks are confirmed, gated and held (``[tracker]`` in the config)."""

    hold_s: float = field(default=1.5, metadata=limits(lo=0.0, hi=60.0))
    confirm_hits: int = field(default=2, metadata=limits(lo=1, hi=30))
    confirm_window_s: float = field(default=1.0, metadata=limits(lo=0.01, hi=10.0))
    position_gate: float = field(default=0.9, metadata=limits(lo=0.1, hi=10.0))
    gate_growth_per_s: float = field(default=2.0, metadata=limits(lo=0.0, hi=20.0))
    size_gate: float = field(default=1.6, metadata=limits(lo=1.05, hi=5.0))
    alpha: float = field(default=0.7, metadata=limits(lo=0.05, hi=1.0))
    beta: float = field(default=0.3, metadata=limits(lo=0.0, hi=1.0))


@dataclass(frozen=True)
class WitnessConfig:
    """How faces are checked against the person mask (``[people]`` in the config)."""

    enabled: bool = True
    min_coverage: float = field(default=0.5, metadata=limits(lo=0.05, hi=1.0))
    reject_after: int = field(default=2, metadata=limits(lo=1, hi=30))
    min_body_below: float = field(default=0.5, metadata=limits(lo=0.0, hi=3.0))
    body_check_max_blur_px: float = field(default=3.0, metadata=limits(lo=0.0, hi=100.0))
    body_every: int = field(default=3, metadata=limits(lo=1, hi=60))
    empty_every: int = field(default=5, metadata=limits(lo=1, hi=300))

    def __post_init__(self) -> None:
        check_limits(self)

