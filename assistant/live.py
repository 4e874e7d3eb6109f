"""Build the one pipeline from options and config: ``live`` and ``analyze`` differ only here.

``live`` paces files and the rig to real time and shows a window (or a status
line); ``analyze`` reads a file as fast as it can with a progress bar and can
write a report.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from assistant.audio.cues import CueSink
from assistant.audio.player import SilentPlayer, open_player
from assistant.audio.synth import cue_buffers
from assistant.audio.track import CueTrack
from assistant.capture.sources import PrefetchedSource, VideoFileSource, open_source
from assistant.config import Config, load_config
from assistant.controls import OperatorControls
from assistant.drivers.open import camera_driver, open_driver
from assistant.errors import ConfigError
from assistant.pipeline import Pipeline, RealTimePacer, RunSummary
from assistant.sink import Sink
from assistant.focus.classify import EventClassifier
from assistant.focus.director import FocusDirector
from assistant.optics import RIG_DOF_DPT, dof_from_deadband
from assistant.rehearse.cuesheet import load_cue_sheet
from assistant.rehearse.runner import RehearsalSink
from assistant.report.markers import MarkersSink
from assistant.report.summary import ReportSink
from assistant.sinks import EventsSink, ProgressBar, RecorderSink, StatusPrinter, TracksSink
from assistant.ui.overlay import OverlayStyle
from assistant.ui.presenter import OverlayPresenter
from assistant.ui.window import WindowSink, display_available
from assistant.vision.cuts import CutDetector
from assistant.vision.faces import MODEL_FILES, MediaPipeFaceDetector
from assistant.vision.people import PersonSegmenter
from assistant.vision.ranging import RangeFilter
from assistant.vision.sharpness import SharpnessMeter
from assistant.vision.subjects import SubjectTracker
from assistant.vision.tracker import Tracker
from assistant.vision.witness import PersonWitness


@dataclass(frozen=True)
class LiveOptions:
    """Options of ``live`` and ``analyze`` (see their ``--help``)."""

    source: str = "sim"
    scene: Path | None = None
    headless: bool = False
    record: Path | None = None
    record_clean: Path | None = None  # the camera's own picture, for analyze
    events: Path | None = None
    tracks: Path | None = None
    max_frames: int | None = None
    config: Path | None = None
    hfov_deg: float | None = None
    subject_rules: tuple[tuple[str, str], ...] = ()
    analyze: bool = False  # as fast as possible, progress bar, no window
    progress: bool = True  # analyze's own progress bar (qc draws one bar for the whole batch)
    report: Path | None = None
    mode: str = "suggest"
    target: str = "largest"
    racks: tuple[tuple[str, float], ...] = ()  # (label, media time)
    no_audio: bool = False
    cue_track: Path | None = None
    driver: str | None = None  # --driver SPEC; None: the rig's lens on --source sim
    lens: Path | None = None
    cues: Path | None = None  # a cue sheet: its racks fire on cue, counted in
    markers: Path | None = None  # timeline markers (.edl, .otio)
    serve: str | None = None  # the web monitor's [HOST:]PORT (assistant.web)
    token: str | None = None  # its operator token; None: a random one, printed
    viewer_token: str | None = None  # its watch-only token; None: a random one, printed
    tls_cert: Path | None = None
    tls_key: Path | None = None


def run_live(options: LiveOptions, announce: Callable[[str], None] | None = None) -> RunSummary:
    """Build and run; ``announce`` hears what a camera really delivers (format, size, rate)."""
    pipeline = build_pipeline(options)
    delivered = getattr(pipeline.source, "format", "")
    if announce is not None and delivered:
        announce(f"{pipeline.source.description} delivers {delivered}")
    return pipeline.run()


def build_pipeline(options: LiveOptions, with_sinks: bool = True, draw_overlay: bool | None = None) -> Pipeline:
    """Open the source, outputs and stages for ``options``; on any failure close what was opened."""
    config = load_config(options.config)
    with contextlib.ExitStack() as opened:  # closes everything opened so far if a later step fails
        webcam_focus = camera_driver(options.driver, options.source)  # must see the camera open
        source = open_source(options.source, config, options.scene,
                             webcam_focus.wrap_factory if webcam_focus is not None else None)  # type: ignore[attr-defined]
        opened.callback(source.close)
        hfov_deg = hfov_for(options, config, source)
        # Offline analysis reports what focus did; advising or driving is for live runs.
        driver = None if options.analyze else open_driver(options.driver, options.lens, config.driver.timeout_s,
                                                          source, webcam_focus)
        if driver is not None:
            opened.callback(driver.close)
        director = None if options.analyze else director_from(options, config, driver)
        if options.analyze and isinstance(source, VideoFileSource):
            source = PrefetchedSource(source)
            opened.callback(source.close)
        sinks: list[Sink] = []
        if with_sinks:
            sinks = _sinks(options, config, source.fps, getattr(source, "frame_count", None), opened)
        if options.cues is not None and director is not None:
            sinks.append(_rehearsal(options, director, source, sinks))
        every = config.faces.analyze_search_every if options.analyze else config.faces.search_every
        # analyze picks no target, so it keeps the steady search schedule its labelling was measured on
        subjects = subjects_from(config, hfov_deg, dict(options.subject_rules), every, sweep=not options.analyze)
        if subjects is not None:
            opened.callback(subjects.close)
        opened.pop_all()  # success: the pipeline owns them now
    # The operator's keys: view toggles change what the presenter draws, the rest go to the stages.
    controls = OperatorControls(style_from(config, getattr(source, "dof_dpt", None)), director, subjects)
    return Pipeline(
        source=source,
        meter=meter_from(config),
        sinks=sinks,
        presenter=OverlayPresenter(controls, recording=options.record is not None or options.record_clean is not None),
        controls=controls,
        pacer=None if source.live or options.analyze else RealTimePacer(),
        focus=driver,
        subjects=subjects,
        events=EventClassifier((config.sharpness.grid_rows, config.sharpness.grid_cols), config.classify),
        director=director,
        max_frames=options.max_frames,
        draw_overlay=draw_overlay,
        dof_dpt=getattr(source, "dof_dpt", None),
    )


def director_from(options: LiveOptions, config: Config, driver: object | None) -> FocusDirector:
    """Suggest or drive, with the operator's target and any scheduled racks."""
    try:
        director = FocusDirector(options.mode, options.target, config.suggest, config.drive, driver,  # type: ignore[arg-type]
                                 getattr(driver, "limits", None))
        for label, at_t in options.racks:
            director.schedule_rack(label, at_t)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return director


def hfov_for(options: LiveOptions, config: Config, source: object) -> float:
    """--hfov, else the source's own field of view (the rig knows it), else the config's."""
    if options.hfov_deg is not None:
        return options.hfov_deg
    return float(getattr(source, "hfov_deg", None) or config.camera.hfov_deg)


def subjects_from(config: Config, hfov_deg: float, rules: dict[str, str],
                  search_every: int = 1, sweep: bool = True) -> SubjectTracker | None:
    """The detection + tracking stage, or None when faces are off in the config."""
    if not config.faces.enabled:
        return None
    try:
        tracker = Tracker(config.tracker, rules)
    except ValueError as exc:
        raise ConfigError(f"--subject: {exc}") from exc
    detectors = {name: MediaPipeFaceDetector(name, config.faces.min_score) for name in MODEL_FILES}
    drive = config.drive
    witness = PersonWitness(PersonSegmenter(), config.people, find_people=sweep) if config.people.enabled else None
    return SubjectTracker(detectors, tracker, hfov_deg, config.faces, search_every,
                          partial(RangeFilter, drive.accel_sigma_m_s2, drive.jump_gate_sigmas, drive.persistence_frames),
                          sweep, witness, CutDetector())


def meter_from(config: Config) -> SharpnessMeter:
    s = config.sharpness
    return SharpnessMeter((s.grid_rows, s.grid_cols), s.exposure_floor, s.analysis_width)


def style_from(config: Config, dof_dpt: float | None = None) -> OverlayStyle:
    """The overlay as configured; ``dof_dpt`` from a source that knows its optics (the rig)."""
    o = config.overlay
    return OverlayStyle(o.heatmap, o.peaking, config.sharpness.peaking_share, o.peaking_color, o.status,
                        o.focus_bar, o.magnifier, dof_dpt=dof_dpt or dof_from_deadband(config.drive.deadband_dpt))


def _rehearsal(options: LiveOptions, director: FocusDirector, source: object, sinks: list[Sink]) -> RehearsalSink:
    """Runs the cue sheet: its racks go to the director, its count-ins to the cue sounds."""
    assert options.cues is not None
    sheet = load_cue_sheet(options.cues)
    sounder = next((s for s in sinks if isinstance(s, CueSink)), None)
    markers = next((s for s in sinks if isinstance(s, MarkersSink)), None)
    dof = getattr(source, "dof_dpt", None) or RIG_DOF_DPT
    return RehearsalSink(sheet, director, "drive" if options.mode == "drive" else "manual",
                         getattr(source, "fps", 30.0), sounder, dof, markers)


def _cue_sink(options: LiveOptions, config: Config) -> CueSink | None:
    """Sound for live runs (unless --no-audio or audio.enabled = false) and the --cue-track file.

    ``analyze`` has no sound: its cue track places each cue at the event's own
    media time, holding back ``ANALYZE_HOLD_BACK_S`` of writing for late decisions.
    """
    audio = config.audio
    sound = audio.enabled and not options.no_audio and not options.analyze
    if not sound and options.cue_track is None:
        return None
    buffers = cue_buffers(audio.sample_rate)
    hold_back = ANALYZE_HOLD_BACK_S if options.analyze else 0.0
    track = CueTrack(options.cue_track, buffers, audio.sample_rate, hold_back) if options.cue_track else None
    player = open_player(buffers, audio.sample_rate, audio.device, audio.block_size) if sound else SilentPlayer()
    return CueSink(player, track, audio, place_at_event_time=options.analyze)


ANALYZE_HOLD_BACK_S = 5.0
"""How far behind the frames ``analyze`` writes the cue track: the classifier decides events up to ~1.5 s late."""


def _sinks(options: LiveOptions, config: Config, fps: float, frame_count: int | None,
           opened: contextlib.ExitStack) -> list[Sink]:
    """The requested outputs, each registered with ``opened`` so a later failure closes it."""
    sinks: list[Sink] = []

    def add(sink: Sink) -> None:
        sinks.append(sink)
        opened.callback(sink.close)

    # Files first: if one cannot be created, nothing has opened a window yet.
    if options.record:
        add(RecorderSink(options.record, fps))
    if options.record_clean:
        add(RecorderSink(options.record_clean, fps, clean=True))
    if options.events:
        add(EventsSink(options.events))
    if options.tracks:
        add(TracksSink(options.tracks))
    if options.report:
        add(ReportSink(options.report, source_name=options.source))
    if options.markers:
        add(MarkersSink(options.markers, fps, options.source))
    if options.serve is not None:  # after the files, before sound and the window: a port in use stops it here
        from assistant.web.sink import WebMonitorSink  # aiohttp loads only when serving

        add(WebMonitorSink(options.serve, config.web, options.token, options.viewer_token, options.tls_cert,
                           options.tls_key))
    cues = _cue_sink(options, config)
    if cues is not None:
        add(cues)
    if options.analyze:
        if options.progress:
            add(ProgressBar(sys.stderr, total=frame_count))
    elif options.headless or not display_available():
        add(StatusPrinter(sys.stderr, config.output.status_every_s))
    else:
        add(WindowSink())
    return sinks
