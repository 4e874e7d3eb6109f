"""``focus-assistant live``: build the pipeline from options and config, then run it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from assistant.capture.sources import open_source
from assistant.config import Config, load_config
from assistant.pipeline import Pipeline, RealTimePacer, RunSummary, Sink
from assistant.sinks import EventsSink, RecorderSink, StatusPrinter, TracksSink
from assistant.ui.overlay import OverlayStyle
from assistant.ui.window import WindowSink, display_available
from assistant.vision.sharpness import SharpnessMeter


@dataclass(frozen=True)
class LiveOptions:
    """The ``live`` command's options (see ``focus-assistant live --help``)."""

    source: str = "sim"
    scene: Path | None = None
    headless: bool = False
    record: Path | None = None
    events: Path | None = None
    tracks: Path | None = None
    max_frames: int | None = None
    config: Path | None = None


def run_live(options: LiveOptions) -> RunSummary:
    config = load_config(options.config)
    source = open_source(options.source, config, options.scene)
    sinks: list[Sink] = []
    try:
        sinks = _sinks(options, config, source.fps)
    except BaseException:
        for sink in sinks:
            sink.close()
        source.close()
        raise
    pipeline = Pipeline(
        source=source,
        meter=meter_from(config),
        sinks=sinks,
        style=style_from(config),
        pacer=None if source.live else RealTimePacer(),
        focus=getattr(source, "lens", None),
        max_frames=options.max_frames,
        recording=options.record is not None,
    )
    return pipeline.run()


def meter_from(config: Config) -> SharpnessMeter:
    s = config.sharpness
    return SharpnessMeter((s.grid_rows, s.grid_cols), s.exposure_floor)


def style_from(config: Config) -> OverlayStyle:
    o = config.overlay
    return OverlayStyle(o.heatmap, o.peaking, config.sharpness.peaking_share, o.peaking_color, o.status)


def _sinks(options: LiveOptions, config: Config, fps: float) -> list[Sink]:
    sinks: list[Sink] = []
    # Files first: if one cannot be created, nothing has opened a window yet.
    if options.record:
        sinks.append(RecorderSink(options.record, fps))
    if options.events:
        sinks.append(EventsSink(options.events))
    if options.tracks:
        sinks.append(TracksSink(options.tracks))
    if options.headless or not display_available():
        sinks.append(StatusPrinter(sys.stderr, config.output.status_every_s))
    else:
        sinks.append(WindowSink())
    return sinks
