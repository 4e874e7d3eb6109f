"""``focus-assistant rehearse``: run one take, score it, add it to the session, report it."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from assistant.live import LiveOptions, build_pipeline
from assistant.rehearse.plot import write_take_report
from assistant.rehearse.runner import RehearsalSink, Take
from assistant.errors import OutputError
from assistant.rehearse.session import (append_take, counted, cue_table, read_session, take_record, take_verdict,
                                        takes_table)
from assistant.report.files import prepared


def rehearse(options: LiveOptions, session: Path, report_dir: Path, out: TextIO) -> Take:
    """One take of ``options.cues``; prints this take's scores and the session's takes side by side."""
    # Everything written after the take is checked before it, so a bad path never costs a take.
    prepared(session, (".json",), "session")
    read_session(session)
    if report_dir.exists() and not report_dir.is_dir():
        raise OutputError(f"{report_dir}: is a file; give --report-dir a folder")
    pipeline = build_pipeline(options)
    runner = next(s for s in pipeline.sinks if isinstance(s, RehearsalSink))
    summary = pipeline.run()
    take = runner.take()
    if len(take.fired) < len(runner.sheet.cues):
        missed = len(runner.sheet.cues) - len(take.fired)
        out.write(f"note: {counted(missed, 'cue')} never fired "
                  f"(the take ended at {summary.media_s:.1f} s, stopped by {summary.stopped_by})\n")
    takes = append_take(session, take_record(take, options.source))
    number = takes[-1]["take"]
    report = report_dir / f"take-{number}.png"
    write_take_report(take, report, f"{take.sheet}, take {number} ({take.mode})")
    out.write(f"take {number} of {take.sheet!r} ({take.mode}): {take_verdict(take)}\n\n")
    out.write(cue_table(take) + "\n\n")
    if take.no_pull_cues and take.mode == "manual":
        out.write(_no_pull_hint(len(take.no_pull_cues), options.headless) + "\n\n")
    out.write(f"session {session} ({counted(len(takes), 'take')}):\n{takes_table(takes)}\n\nreport: {report}\n")
    return take


def _no_pull_hint(cues: int, headless: bool) -> str:
    """What to do when a manual take saw no pull: nobody is at the follow-focus keys without a window."""
    how = "the , . keys in the window" + ("; headless, script the operator with a scene's [[focus]] keys"
                                          if headless else "")
    return f"note: nobody pulled focus in {counted(cues, 'cue')}; in manual mode you pull ({how}) or use --mode drive"
