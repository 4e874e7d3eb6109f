"""Focus settings (``[classify]``, ``[suggest]``, ``[drive]``): a leaf, so the config loads no focus logic."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.schema import check_limits, limits

LOST_ACTIONS = ("search", "hold", "safe")


@dataclass(frozen=True)
class PlaneConfig:
    """Thresholds of the plane labeller (``[classify]`` in the config)."""

    rate_on: float = field(default=0.8, metadata=limits(lo=0.05, hi=50.0))
    rate_off: float = field(default=0.3, metadata=limits(lo=0.01, hi=50.0))
    min_change: float = field(default=2.0, metadata=limits(lo=1.1, hi=100.0))
    group_gap_s: float = field(default=0.35, metadata=limits(lo=0.0, hi=10.0))
    min_plane_tiles: int = field(default=2, metadata=limits(lo=1, hi=1000))


@dataclass(frozen=True)
class SubjectEventConfig:
    """Thresholds of the subject labeller (``[classify.subjects]`` in the config)."""

    soft_ratio: float = field(default=1.5, metadata=limits(lo=1.0, hi=20.0))
    pair_s: float = field(default=2.5, metadata=limits(lo=0.1, hi=10.0))
    land_wait_s: float = field(default=0.7, metadata=limits(lo=0.1, hi=5.0))
    pull_min_change: float = field(default=0.12, metadata=limits(lo=0.01, hi=5.0))
    pull_sharp_share: float = field(default=0.8, metadata=limits(lo=0.1, hi=1.0))
    shift_ratio: float = field(default=0.6, metadata=limits(lo=0.05, hi=20.0))
    background_shift: float = field(default=1.35, metadata=limits(lo=1.01, hi=100.0))
    background_agreement: float = field(default=0.65, metadata=limits(lo=0.5, hi=1.0))
    necessity_ratio: float = field(default=1.5, metadata=limits(lo=1.0, hi=100.0))
    walk_rate_on: float = field(default=0.05, metadata=limits(lo=0.005, hi=5.0))
    walk_rate_off: float = field(default=0.025, metadata=limits(lo=0.001, hi=5.0))


@dataclass(frozen=True)
class JudgeConfig:
    """Thresholds of the in-focus judgement (``[judge]`` in the config)."""

    acceptable_sigma_px: float = field(default=0.55, metadata=limits(lo=0.05, hi=10.0))
    max_own_blur: float = field(default=0.006, metadata=limits(lo=0.0, hi=0.1))
    own_blur_percentile: float = field(default=5.0, metadata=limits(lo=0.0, hi=50.0))
    hysteresis: float = field(default=0.15, metadata=limits(lo=0.0, hi=1.0))


@dataclass(frozen=True)
class ClassifierConfig:
    """``[classify]`` in the config: the plane labeller's keys, ``[classify.subjects]`` and ``[classify.judge]``."""

    planes: PlaneConfig = PlaneConfig()
    subjects: SubjectEventConfig = SubjectEventConfig()
    judge: JudgeConfig = JudgeConfig()


@dataclass(frozen=True)
class SuggestConfig:
    """How the focus guide judges 'in focus' (``[suggest]`` in the config)."""

    tolerance_dpt: float = field(default=0.04, metadata=limits(lo=0.001, hi=1.0))
    confirm_frames: int = field(default=3, metadata=limits(lo=1, hi=60))
    rack_duration_s: float = field(default=1.0, metadata=limits(lo=0.05, hi=30.0))
    rack_curve: str = field(default="s-curve", metadata=limits(choices=("linear", "s-curve", "ease-in", "ease-out")))
    follow_racks: bool = True
    """A rack the operator is seen to make picks its destination as the target: they chose that subject."""


@dataclass(frozen=True)
class DriveConfig:
    """How drive mode follows a subject (``[drive]`` in the config).

    The default dead zone, 0.02 dpt, is half the depth of field on each side of
    focus for the rig's camera (34.2 mm at f/2 with a 0.025 mm circle of
    confusion: ``N c / f^2`` = 0.043 dpt), so a held focus that has drifted to
    the edge of the dead zone still has the subject sharp; use
    :func:`dof_half_width_dpt` to scale it for another lens.
    """

    deadband_dpt: float = field(default=0.02, metadata=limits(lo=0.0, hi=1.0))
    persistence_frames: int = field(default=2, metadata=limits(lo=1, hi=30))
    max_slew_dpt_s: float = field(default=5.0, metadata=limits(lo=0.0, lo_open=True, hi=1000.0))
    settle_frames: int = field(default=3, metadata=limits(lo=0, hi=120))
    lead_s: float = field(default=0.033, metadata=limits(lo=0.0, hi=1.0))
    # The subject distance filter's (assistant.vision.ranging), kept under [drive] where users set them.
    accel_sigma_m_s2: float = field(default=4.0, metadata=limits(lo=0.0, lo_open=True, hi=100.0))
    jump_gate_sigmas: float = field(default=4.0, metadata=limits(lo=1.0, hi=100.0))
    lost_hold_s: float = field(default=1.0, metadata=limits(lo=0.0, hi=60.0))
    lost_action: str = field(default="search", metadata=limits(choices=LOST_ACTIONS))
    safe_distance_m: float = field(default=3.0, metadata=limits(lo=0.05))
    probe_sigma_dpt: float = field(default=0.04, metadata=limits(lo=0.0, lo_open=True, hi=10.0))
    probe_step_dpt: float = field(default=0.05, metadata=limits(lo=0.0, lo_open=True, hi=1.0))
    probe_dwell_frames: int = field(default=1, metadata=limits(lo=0, hi=30))
    probe_rounds: int = field(default=3, metadata=limits(lo=0, hi=10))
    search_speed_dpt_s: float = field(default=4.0, metadata=limits(lo=0.0, lo_open=True, hi=1000.0))

    def __post_init__(self) -> None:
        check_limits(self)

