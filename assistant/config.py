"""Application settings: ``config/default.toml`` loaded into frozen dataclasses.

The dataclass defaults *are* the defaults; ``config/default.toml`` spells them
out for users to copy (a test keeps the two equal). A user file passed with
``--config`` only needs the keys it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from assistant import paths
from assistant.audio.settings import AudioConfig
from assistant.capture.settings import CameraConfig, SourceConfig
from assistant.focus.settings import ClassifierConfig, DriveConfig, SuggestConfig
from assistant.schema import limits, load_toml
from assistant.vision.settings import SearchConfig, TrackerConfig, WitnessConfig
from assistant.web.settings import WebConfig


@dataclass(frozen=True)
class SimConfig:
    """The virtual camera rig used by ``--source sim``."""

    scene: str = "scenes/two_people.toml"


@dataclass(frozen=True)
class SharpnessConfig:
    """Per-region sharpness (variance of the Laplacian) and focus peaking."""

    grid_cols: int = field(default=16, metadata=limits(lo=1, hi=128))
    grid_rows: int = field(default=9, metadata=limits(lo=1, hi=128))
    exposure_floor: float = field(default=8.0, metadata=limits(lo=1.0, hi=255.0))
    analysis_width: int = field(default=960, metadata=limits(lo=64, hi=8192))
    peaking_share: float = field(default=0.04, metadata=limits(lo=0.001, hi=0.5))


@dataclass(frozen=True)
class OverlayConfig:
    """What the live view draws on top of the picture."""

    heatmap: bool = True
    peaking: bool = False
    peaking_color: tuple[int, int, int] = (80, 220, 80)  # green, the overlay's colour for sharp (ui/palette.py)
    status: bool = True
    focus_bar: bool = True
    magnifier: bool = False


@dataclass(frozen=True)
class DriverConfig:
    """Focus drivers (``--driver``): the watchdog every driver runs under."""

    timeout_s: float = field(default=0.5, metadata=limits(lo=0.01, hi=30.0))


@dataclass(frozen=True)
class OutputConfig:
    """Where headless runs put their files when no path is given."""

    status_every_s: float = field(default=1.0, metadata=limits(lo=0.1, hi=3600.0))


@dataclass(frozen=True)
class Config:
    """Everything the assistant can be configured with."""

    source: SourceConfig = SourceConfig()
    camera: CameraConfig = CameraConfig()
    sim: SimConfig = SimConfig()
    faces: SearchConfig = SearchConfig()
    tracker: TrackerConfig = TrackerConfig()
    people: WitnessConfig = WitnessConfig()
    classify: ClassifierConfig = ClassifierConfig()
    suggest: SuggestConfig = SuggestConfig()
    drive: DriveConfig = DriveConfig()
    driver: DriverConfig = DriverConfig()
    audio: AudioConfig = AudioConfig()
    sharpness: SharpnessConfig = SharpnessConfig()
    overlay: OverlayConfig = OverlayConfig()
    output: OutputConfig = OutputConfig()
    web: WebConfig = WebConfig()


def load_config(path: Path | None = None) -> Config:
    """Load ``path`` (or the built-in defaults when None) into a :class:`Config`.

    Paths inside the file are made absolute against the file's own folder, so
    a config works wherever the command is run from.
    """
    config = Config() if path is None else load_toml(Config, Path(path))
    # A file that does not name a scene keeps the built-in one, found beside the built-in config.
    names_scene = path is not None and config.sim.scene != SimConfig().scene
    origin = Path(path).resolve() if names_scene else paths.DEFAULT_CONFIG
    scene = paths.resolve(config.sim.scene, origin)
    return replace(config, sim=replace(config.sim, scene=str(scene)))
