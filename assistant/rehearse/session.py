"""A rehearsal session on disk (JSON) and the console tables that compare its takes."""

from __future__ import annotations

import json
import time
from pathlib import Path

from assistant.errors import OutputError, UserInputError
from assistant.rehearse.runner import Take


NO_PULL = "no pull seen"
"""What a cue in which the lens focus never moved shows instead of a score."""


def counted(n: int, noun: str) -> str:
    """``1 take``, ``2 takes``: a count with its noun in the right number."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def take_verdict(take: Take) -> str:
    """The take's score, or why it has none; cues with no pull seen are named, not counted as bad pulls."""
    if take.score is None:
        return f"not scored: {NO_PULL} in any cue" if take.no_pull_cues else "not scored: no cue fired"
    verdict = f"score {take.score:.0f}/100"
    if take.no_pull_cues:
        verdict += f" ({NO_PULL} in {', '.join(repr(c) for c in take.no_pull_cues)}: left out)"
    return verdict


def take_record(take: Take, source: str) -> dict:
    """One take as stored in the session file.

    ``score`` is the mean of the cues that were pulled (null when none was);
    a cue with ``"no_pull_seen": true`` has ``"score": null``.
    """
    return {
        "sheet": take.sheet, "mode": take.mode, "source": source,
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "score": None if take.score is None else round(take.score, 1),
        "cues": [score.to_json() for score in take.scores],
    }


def read_session(path: Path) -> list[dict]:
    """The takes already in the session at ``path`` (none when it does not exist yet); checked, one-line errors."""
    if not path.exists():
        return []
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give --session a .json file path")
    try:
        takes = json.loads(path.read_text())["takes"]
        if not isinstance(takes, list) or not all(isinstance(t, dict) and "score" in t and "cues" in t for t in takes):
            raise ValueError("'takes' is not a list of scored takes")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserInputError(f"{path}: not a rehearsal session file ({exc}); give a new path or delete it") from exc
    return takes


def append_take(path: Path, record: dict) -> list[dict]:
    """Add ``record`` to the session at ``path`` (made if missing); returns every take in it."""
    takes = read_session(path)
    takes.append({"take": len(takes) + 1, **record})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"takes": takes}, indent=1) + "\n")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the session ({exc.strerror}); check the folder") from exc
    return takes


def cue_table(take: Take) -> str:
    """This take, cue by cue."""
    head = f"{'cue':<22} {'start':>8} {'sharp':>7} {'land':>6} {'over':>6} {'buzz':>4} {'curve':>6} {'right':>5} {'score':>5}"
    lines = [head, "-" * len(head)]
    for s in take.scores:
        if s.no_pull_seen or s.score is None:
            lines.append(f"{s.cue[:22]:<22} {NO_PULL}: the lens focus did not move during this cue (not scored)")
            continue
        lines.append(f"{s.cue[:22]:<22} {_signed(s.start_delay_s, 's'):>8} {_plain(s.time_to_sharp_s, 's'):>7} "
                     f"{_frames(s.landing_error_frames):>6} {_plain(s.overshoot_dpt, ''):>6} {s.buzz:>4} "
                     f"{_plain(s.smoothness_rms, ''):>6} {'yes' if s.right_subject else 'NO':>5} {s.score:5.0f}")
    lines.append("start: delay against the cue (- early); sharp: cue to target sharp; land: frames late (+) or early (-) "
                 "against the planned end; over: overshoot in dioptres; curve: RMS distance from the planned ease (0-1)")
    return "\n".join(lines)


def takes_table(takes: list[dict]) -> str:
    """Every take in the session side by side, with each cue's score."""
    names = [c["cue"] for c in takes[-1]["cues"]] if takes else []
    head = f"{'take':>4} {'mode':<7} " + " ".join(f"{n[:12]:>12}" for n in names) + f" {'score':>6}"
    lines = [head, "-" * len(head)]
    best = max((t["score"] for t in takes if t["score"] is not None), default=None)
    for t in takes:
        cells = {c["cue"]: _cell(c) for c in t["cues"]}
        row = f"{t['take']:>4} {t['mode']:<7} " + " ".join(f"{cells.get(n, 'nan'):>12}" for n in names)
        total = "--" if t["score"] is None else f"{t['score']:.1f}"
        is_best = best is not None and t["score"] == best and len(takes) > 1
        lines.append(row + f" {total:>6}" + ("  <- best" if is_best else ""))
    if any(c.get("no_pull_seen") for t in takes for c in t["cues"]):
        lines.append(f"{NO_PULL}: focus did not move in that cue; a take's score averages the cues that were pulled")
    return "\n".join(lines)


def _cell(cue: dict) -> str:
    """A cue's score in the takes table (``no_pull_seen`` is missing in sessions written before it existed)."""
    if cue.get("no_pull_seen") or cue["score"] is None:
        return NO_PULL
    return f"{cue['score']:.0f}"


def _signed(value: float | None, unit: str) -> str:
    return "--" if value is None else f"{value:+.2f}{unit}"


def _plain(value: float | None, unit: str) -> str:
    return "--" if value is None else f"{value:.2f}{unit}"


def _frames(value: int | None) -> str:
    return "--" if value is None else f"{value:+d}"
