"""Command line: ``focus-assistant`` / ``python -m assistant``.

User mistakes (bad paths, bad config, unreadable video) end with one line on
stderr and exit code 2; internal failures with exit code 1.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from assistant import __version__
from assistant.drivers.forms import DRIVER_FORMS
from assistant.errors import AssistantError, SourceNotFound, UserInputError
from assistant.targeting import LABELS, TARGET_RULES

PROG = "focus-assistant"
TOKEN_ENV = "FOCUS_ASSISTANT_TOKEN"
"""The web monitor's operator token when --token is not given."""

# What each command can open, said after "no such file" (only the command knows: see SourceNotFound).
LIVE_SOURCES = "'sim', a camera index like 0, a device path, a video file, a URL or module:factory"
"""``live`` and ``rehearse``: everything the source opener knows."""
CALIBRATE_SOURCES = "'sim', a camera index like 0, a device path, a URL or module:factory"
"""``calibrate`` moves the lens while it watches, so a recording is no use to it."""
ANALYZE_SOURCES = "a recorded video file (.mp4, .mov, .mkv, ...)"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake in one line with exit code 2.

    Abbreviations are off: ``--headles`` is a typo to report, not ``--headless``
    to guess (and a guess breaks as soon as another option shares the prefix).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Real-time camera focus monitoring and focus-pull assistant.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    live = commands.add_parser("live", help="watch a source live: sharpness overlay, logs, recording",
                               description="Watch a source live with the focus overlay. With no display, or "
                                           "--headless, prints a status line and writes the requested files.")
    _run_options(live)
    live.add_argument("--mode", choices=("suggest", "drive"), default="suggest",
                      help="suggest: a focus guide says which way to turn (default); drive: the assistant "
                           "moves the lens itself (needs a driver: the rig's lens with --source sim, or --driver)")
    live.add_argument("--cues", type=Path, metavar="FILE",
                      help="cue sheet (config/cues/): its racks fire on cue, counted in with beats")
    live.add_argument("--markers", type=Path, metavar="OUT.edl",
                      help="timeline markers for editors: .edl (CMX 3600) or .otio (needs the otio extra)")
    live.add_argument("--rack", action="append", default=[], type=_rack_request, metavar="LABEL@SECONDS",
                      help="rack to subject LABEL at a media time, e.g. --rack B@3.0 (repeatable); in the "
                           "window the keys a-d rack at once")
    _shared_options(live)
    live.set_defaults(run=_run_live, accepts=LIVE_SOURCES)

    rehearse = commands.add_parser(
        "rehearse", help="rehearse rack cues: count-ins, racks on cue, scores per take",
        description="Rehearse a cue sheet. Each cue is counted in with beats; in drive mode the assistant racks "
                    "exactly as written, in manual mode it watches your rack (on the rig: the , . keys or a "
                    "scripted scene) and scores it. Takes accumulate in the session file and are compared.")
    rehearse.add_argument("--cues", type=Path, metavar="FILE", required=True, help="cue sheet (config/cues/*.toml)")
    _run_options(rehearse, default_scene="rehearse_stage.toml")
    rehearse.add_argument("--mode", choices=("manual", "drive"), default="manual",
                          help="manual: you pull, it scores (default); drive: it racks as written")
    rehearse.add_argument("--session", type=Path, default=Path("out/rehearsal.json"), metavar="OUT.json",
                          help="session file; each take is added to it (default out/rehearsal.json)")
    rehearse.add_argument("--report-dir", type=Path, default=Path("out"), metavar="DIR",
                          help="where take-N.png goes (default out/)")
    rehearse.add_argument("--markers", type=Path, metavar="OUT.edl", help="timeline markers: .edl or .otio")
    _shared_options(rehearse)
    rehearse.set_defaults(run=_run_rehearse, accepts=LIVE_SOURCES)

    analyze = commands.add_parser("analyze", help="label the focus pulls and racks in a recorded clip",
                                  description="Offline focus monitoring of a recorded clip, as fast as the machine "
                                              "allows: every rack, tracking pull and soft focus, labelled.")
    analyze.add_argument("clip", metavar="CLIP", help="video file to analyse")
    analyze.add_argument("--events", type=Path, metavar="OUT.jsonl", required=True,
                         help="write labelled focus events (JSON Lines)")
    analyze.add_argument("--tracks", type=Path, metavar="OUT.jsonl", help="write per-frame subjects (JSON Lines)")
    analyze.add_argument("--report", type=Path, metavar="OUT.png",
                         help="plot each subject's sharpness over time with the events shaded")
    analyze.add_argument("--markers", type=Path, metavar="OUT.edl",
                         help="timeline markers for editors: .edl (CMX 3600) or .otio (needs the otio extra)")
    analyze.add_argument("--cue-track", type=Path, metavar="OUT.wav",
                         help="write the cues at their media times, to lay under the clip")
    _shared_options(analyze)
    analyze.set_defaults(run=_run_analyze, accepts=ANALYZE_SOURCES)

    qc = commands.add_parser(
        "qc", help="focus QC of a day's takes: every clip under the folders, in parallel, with an index page",
        description="Analyse every video file under the paths as 'analyze' does, in parallel (or on a Dask "
                    "cluster), into OUT/<clip>/ (events, tracks, report, EDL markers, filmstrip) with "
                    "OUT/summary.json, summary.csv and index.html. Clips already done with the same content and "
                    "settings are skipped, so a stopped batch resumes. Exit 2 if any clip could not be read.")
    qc.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="folders (searched recursively) or clips")
    qc.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder for the outputs")
    qc.add_argument("--workers", type=_positive_int, metavar="N",
                    help="clips analysed at once on this machine (default: the number of cores)")
    qc.add_argument("--scheduler", metavar="ADDR", type=_scheduler,
                    help="run on Dask: 'local' starts a LocalCluster here, tcp://HOST:PORT uses a running cluster "
                         "whose workers see the clips and --out on shared storage (needs the cluster extra)")
    qc.add_argument("--config", type=Path, metavar="FILE", help="config file (default config/default.toml)")
    qc.add_argument("--hfov", type=_hfov, metavar="DEG",
                    help="cameras' horizontal field of view in degrees, for distances (default camera.hfov_deg)")
    qc.add_argument("--target", default="largest", choices=TARGET_RULES,
                    help="whose soft focus counts (default: the largest face)")
    qc.set_defaults(run=_run_qc, accepts=ANALYZE_SOURCES)

    calibrate = commands.add_parser(
        "calibrate", help="measure a lens map: sweep focus over a target at known distances",
        description="Sweep the focus driver across its range while a detailed target is held at each distance, "
                    "find where it is sharpest, and save the lens file (--lens FILE for live). On the virtual rig "
                    "the rig places its own chart.")
    calibrate.add_argument("--source", default="sim", metavar="SRC", help=f"{CALIBRATE_SOURCES} (default sim)")
    calibrate.add_argument("--scene", type=Path, metavar="FILE",
                           help="rig scene with a layer named 'chart' (default config/scenes/calibrate_chart.toml)")
    calibrate.add_argument("--driver", metavar="DRV", help=f"{DRIVER_FORMS} (default: the rig's lens)")
    calibrate.add_argument("--distances", required=True, type=_distances, metavar="M,M,...",
                           help="target distances in metres, at least two, e.g. 0.5,1,3")
    calibrate.add_argument("--out", required=True, type=Path, metavar="LENS.toml", help="lens file to write")
    calibrate.add_argument("--name", default="lens", help="lens name stored in the file")
    calibrate.add_argument("--soft-limits", type=_soft_limits, metavar="MIN,MAX",
                           help="native limits the assistant never passes (default: the driver's hard stops)")
    calibrate.add_argument("--mark", action="append", default=[], type=_mark, metavar="NAME=METRES",
                           help="a named focus mark, e.g. --mark A=1.2 (repeatable)")
    calibrate.add_argument("--yes", action="store_true", help="do not ask before each distance (target already placed)")
    calibrate.add_argument("--config", type=Path, metavar="FILE", help="settings file (see config/default.toml)")
    calibrate.set_defaults(run=_run_calibrate, accepts=CALIBRATE_SOURCES)

    devices = commands.add_parser("devices", help="list cameras, focus drivers and audio outputs",
                                  description="List video capture devices, focus drivers it can find (serial ports, "
                                              "Blackmagic cameras over Bluetooth LE) and audio outputs.")
    devices.set_defaults(run=_run_devices)
    return parser


def _run_options(parser: argparse.ArgumentParser, default_scene: str | None = None) -> None:
    """Source, outputs and driver: the options ``live`` and ``rehearse`` share."""
    parser.add_argument("--source", default="sim", metavar="SRC",
                        help="sim (virtual rig, default), a camera index like 0, a device path, a video file, "
                             "a URL, or module:factory for a plugin source")
    parser.add_argument("--scene", type=Path, metavar="FILE",
                        help=f"virtual rig scene file (default {default_scene or 'from config'})")
    parser.add_argument("--headless", action="store_true", help="no window, even when a display exists")
    parser.add_argument("--record", type=Path, metavar="OUT.mp4",
                        help="write the annotated video (what you see: overlay burnt in; not for analyze)")
    parser.add_argument("--record-clean", type=Path, metavar="OUT.mp4",
                        help="write the camera's own picture, without the overlay (for analyze later)")
    parser.add_argument("--events", type=Path, metavar="OUT.jsonl", help="write labelled focus events (JSON Lines)")
    parser.add_argument("--tracks", type=Path, metavar="OUT.jsonl", help="write per-frame focus and subjects (JSON Lines)")
    parser.add_argument("--max-frames", type=_positive_int, metavar="N", help="stop after N frames")
    parser.add_argument("--driver", metavar="DRV",
                        help=f"focus motor: {DRIVER_FORMS} (default: the rig's lens on --source sim)")
    parser.add_argument("--lens", type=Path, metavar="FILE",
                        help="lens file mapping distance to the driver's native units (config/lenses/)")
    parser.add_argument("--no-audio", action="store_true", help="no sound cues (they still go to --cue-track)")
    parser.add_argument("--cue-track", type=Path, metavar="OUT.wav",
                        help="write every cue at its media time, lined up with --record")
    web = parser.add_argument_group("web monitor", "the live view, its state and the operator's commands in a "
                                                   "browser on the set's network (see README, Web monitor)")
    web.add_argument("--serve", type=_serve_address, metavar="[HOST:]PORT",
                     help="serve the web monitor on PORT (host 127.0.0.1 unless given; 0.0.0.0 for every network)")
    web.add_argument("--token", metavar="TOKEN",
                     help=f"operator token: may watch and command (default ${TOKEN_ENV}, else a random one, printed)")
    web.add_argument("--viewer-token", metavar="TOKEN",
                     help="viewer token: may only watch (default: a random one, printed)")
    web.add_argument("--tls-cert", type=Path, metavar="CERT.pem", help="serve HTTPS with this certificate (with --tls-key)")
    web.add_argument("--tls-key", type=Path, metavar="KEY.pem", help="the certificate's private key (with --tls-cert)")


def _web_options(args: argparse.Namespace) -> dict[str, Any]:
    """The web monitor's LiveOptions fields; UserInputError for options that need --serve or each other."""
    token = args.token if args.token is not None else (os.environ.get(TOKEN_ENV) or None)
    if args.serve is None:
        given = [name for name, value in (("--token", args.token), ("--viewer-token", args.viewer_token),
                                          ("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)) if value]
        if given:
            verb = "is a web monitor option" if len(given) == 1 else "are web monitor options"
            raise UserInputError(f"{' and '.join(given)} {verb}: add --serve [HOST:]PORT to serve the monitor")
        return {}
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UserInputError("--tls-cert and --tls-key go together: give both (PEM files), or neither for plain HTTP")
    return {"serve": args.serve, "token": token, "viewer_token": args.viewer_token, "tls_cert": args.tls_cert,
            "tls_key": args.tls_key}


def _serve_address(text: str) -> str:
    from assistant.web.address import parse_address

    try:
        parse_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _shared_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="settings file (see config/default.toml)")
    parser.add_argument("--hfov", type=_hfov, metavar="DEG",
                        help="camera horizontal field of view in degrees, for distances (default: the rig's own, "
                             "else camera.hfov_deg)")
    parser.add_argument("--target", default="largest",
                        choices=TARGET_RULES,
                        help="who should be sharp (default: the largest face)")
    parser.add_argument("--subject", action="append", default=[], type=_subject_rule, metavar="LABEL=RULE",
                        help="which subject gets label A-D: left, right, largest, auto or a track ID, "
                             "e.g. --subject A=left --subject B=right (default: in order of appearance)")


def main(argv: Sequence[str] | None = None) -> int:
    # OpenCV's own warnings ("can't capture by name") would duplicate our one-line errors.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    # A stalled V4L2 camera otherwise blocks each read for 10 s before the capture thread can reconnect.
    os.environ.setdefault("OPENCV_VIDEOIO_V4L_SELECT_TIMEOUT", "2")
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.run(args) or 0)
    except SourceNotFound as exc:
        print(f"{PROG}: {exc.hinted(getattr(args, 'accepts', LIVE_SOURCES))}", file=sys.stderr)
        return exc.exit_code
    except UserInputError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except AssistantError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM behaves like Ctrl-C: the pipeline stops and closes every output.

    A second SIGTERM while closing is ignored, so it cannot cut the shutdown short
    (motor stop, recording trailer, log flush).
    """
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _hfov(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected degrees, got {text!r}") from None
    if not 1.0 <= value < 179.0:
        raise argparse.ArgumentTypeError(f"a horizontal field of view is between 1 and 179 degrees, got {value}")
    return value


def _subject_rule(text: str) -> tuple[str, str]:
    label, sep, rule = text.partition("=")
    label, rule = label.strip().upper(), rule.strip().lower()
    if not sep or label not in LABELS or not (rule in ("left", "right", "largest", "auto") or rule.isdigit()):
        raise argparse.ArgumentTypeError(
            f"expected LABEL=RULE with LABEL one of A-D and RULE left, right, largest, auto or an ID, got {text!r}")
    return label, rule


def _rack_request(text: str) -> tuple[str, float]:
    label, sep, when = text.partition("@")
    label = label.strip().upper()
    try:
        at_t = float(when)
    except ValueError:
        at_t = -1.0
    if not sep or label not in LABELS or at_t < 0:
        raise argparse.ArgumentTypeError(f"expected LABEL@SECONDS like B@3.0, got {text!r}")
    return label, at_t


def _run_live(args: argparse.Namespace) -> int:
    from assistant.live import LiveOptions, run_live

    options = LiveOptions(
        source=args.source, scene=args.scene, headless=args.headless, record=args.record,
        record_clean=_clean_recording(args),
        events=args.events, tracks=args.tracks, max_frames=args.max_frames, config=args.config,
        hfov_deg=args.hfov, subject_rules=tuple(args.subject), mode=args.mode, target=args.target,
        racks=tuple(args.rack), no_audio=args.no_audio, cue_track=args.cue_track,
        driver=args.driver, lens=args.lens, cues=args.cues, markers=args.markers, **_web_options(args),
    )
    summary = run_live(options, announce=lambda text: print(f"{PROG}: {text}", file=sys.stderr))
    print(f"{PROG}: {summary.frames} frames, {summary.media_s:.2f} s of media in {summary.wall_s:.2f} s "
          f"({summary.fps:.1f} fps); stopped by {summary.stopped_by}", file=sys.stderr)
    return 0


def _run_rehearse(args: argparse.Namespace) -> int:
    from assistant.live import LiveOptions
    from assistant.paths import SCENES_DIR
    from assistant.rehearse.command import rehearse

    scene = args.scene or (SCENES_DIR / "rehearse_stage.toml" if args.source == "sim" else None)
    options = LiveOptions(
        source=args.source, scene=scene, headless=args.headless, record=args.record, events=args.events,
        record_clean=_clean_recording(args),
        tracks=args.tracks, max_frames=args.max_frames, config=args.config, hfov_deg=args.hfov,
        subject_rules=tuple(args.subject), mode="drive" if args.mode == "drive" else "suggest", target=args.target,
        no_audio=args.no_audio, cue_track=args.cue_track, driver=args.driver, lens=args.lens, cues=args.cues,
        markers=args.markers, **_web_options(args),
    )
    rehearse(options, args.session, args.report_dir, sys.stdout)
    return 0


def _clean_recording(args: argparse.Namespace) -> Path | None:
    """``--record-clean``, refused when it names the same file as ``--record`` (one would overwrite the other)."""
    clean = args.record_clean
    if clean is not None and args.record is not None and clean.resolve() == args.record.resolve():
        raise UserInputError(f"{clean}: --record and --record-clean name the same file; give each its own")
    return clean


def _run_analyze(args: argparse.Namespace) -> int:
    from assistant.live import LiveOptions, run_live
    from assistant.report.recording_mark import is_annotated

    clip = Path(args.clip)
    if args.clip == "sim" or "://" in args.clip or args.clip.isdigit() or clip.is_char_device():
        raise UserInputError(f"{args.clip}: analyze reads a recorded clip; use 'live' for cameras, streams and the rig")
    if not clip.exists():  # said here, before the source opener would try it as a module:factory plugin
        raise SourceNotFound(f"{args.clip}: no such file")
    if is_annotated(clip):
        print(f"{PROG}: warning: {args.clip} is one of this tool's --record files, with the overlay burnt into "
              "the picture; the boxes and status bar will be read as part of the scene. Record with "
              "--record-clean for analysis", file=sys.stderr)
    options = LiveOptions(
        source=args.clip, events=args.events, tracks=args.tracks, report=args.report, config=args.config,
        hfov_deg=args.hfov, subject_rules=tuple(args.subject), analyze=True, headless=True, target=args.target,
        cue_track=args.cue_track, markers=args.markers,
    )
    summary = run_live(options)
    print(f"{PROG}: analysed {summary.frames} frames ({summary.media_s:.2f} s) in {summary.wall_s:.2f} s "
          f"({summary.fps:.1f} fps); events in {args.events}", file=sys.stderr)
    return 0


def _scheduler(text: str) -> str:
    if text == "local" or (text.startswith(("tcp://", "tls://")) and len(text) > len("tcp://")):
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: give 'local' or a Dask scheduler address such as tcp://10.0.0.2:8786")


def _run_qc(args: argparse.Namespace) -> int:
    from assistant.qc.batch import QcOptions, run_qc

    if args.config is not None and not args.config.is_file():
        raise UserInputError(f"--config {args.config}: no such file")
    result = run_qc(QcOptions(tuple(args.paths), args.out, args.workers, args.scheduler, args.target, args.hfov,
                              args.config))
    return 2 if result.failed else 0


def _distances(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected distances in metres separated by commas, e.g. 0.5,1,3")
    if len(values) < 2 or any(not (0.01 <= v < math.inf) for v in values) or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"{text!r}: expected at least two different distances >= 0.01 m, e.g. 0.5,1,3")
    return values


def _soft_limits(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected MIN,MAX in the driver's units, e.g. 20,3980")
    if not lo < hi:
        raise argparse.ArgumentTypeError(f"{text!r}: MIN must be below MAX")
    return lo, hi


def _mark(text: str) -> tuple[str, float]:
    name, _, metres = text.partition("=")
    try:
        value = float(metres)
    except ValueError:
        value = math.nan
    if not name.strip() or not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=METRES, e.g. A=1.2")
    return name, value


def _run_calibrate(args: argparse.Namespace) -> int:
    from assistant.calibrate import CalibrationPlan, calibrate, check_writable
    from assistant.capture.sources import open_source
    from assistant.config import load_config
    from assistant.drivers.open import camera_driver, open_native
    from assistant.paths import SCENES_DIR
    from assistant.report.files import prepared

    config = load_config(args.config)
    prepared(args.out, (".toml",), "lens file")
    check_writable(args.out)  # an unwritable --out fails now, before the camera opens, not after the sweep
    scene = args.scene or (SCENES_DIR / "calibrate_chart.toml" if args.source == "sim" else None)
    webcam_focus = camera_driver(args.driver, args.source)
    source = open_source(args.source, config, scene, webcam_focus.wrap_factory if webcam_focus else None)  # type: ignore[attr-defined]
    driver = None
    try:
        driver, units = open_native(args.driver, config.driver.timeout_s, source, webcam_focus, args.soft_limits)
        plan = CalibrationPlan(args.distances, args.out, args.name, args.soft_limits, tuple(args.mark), not args.yes)
        calibrate(plan, driver, units, source)
    finally:
        if driver is not None:
            driver.close()
        source.close()
    return 0


def _run_devices(args: argparse.Namespace) -> int:
    from assistant.devices import describe_devices

    print(describe_devices())
    return 0
