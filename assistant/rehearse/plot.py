"""The PNG for one rehearsal take: planned against achieved focus, and the subjects' sharpness."""

from __future__ import annotations

from pathlib import Path

from assistant.easing import ease
from assistant.rehearse.runner import Take
from assistant.rehearse.session import NO_PULL, take_verdict
from assistant.report.files import prepared
from assistant.report.plots import figure, save


def planned_curve(take: Take) -> tuple[list[float], list[float]]:
    """The focus the cue sheet asked for, in dioptres, over the take's frames (held between racks)."""
    times = [s.t for s in take.samples]
    values: list[float] = []
    fired = sorted(take.fired, key=lambda f: f.t0)
    level = next((s.focus_dpt for s in take.samples if s.focus_dpt is not None), None)
    for t in times:
        for cue in fired:
            if cue.start_dpt is None or cue.target_dpt is None or t < cue.t0:
                continue
            p = ease(cue.curve, (t - cue.t0) / cue.duration_s)
            level = cue.start_dpt + (cue.target_dpt - cue.start_dpt) * p
        values.append(float("nan") if level is None else level)
    return times, values


def write_take_report(take: Take, path: Path, title: str) -> None:
    """Planned vs achieved focus (dioptres) above each subject's in-focus score, cue times marked."""
    path = prepared(path, (".png",), "take report")
    fig, (focus_ax, subject_ax) = figure(2)
    focus_ax.plot(*planned_curve(take), color="tab:blue", linestyle="--", linewidth=1.5, label="planned (cue sheet)")
    achieved = [(s.t, s.focus_dpt) for s in take.samples if s.focus_dpt is not None]
    if achieved:
        focus_ax.plot(*zip(*achieved), color="black", linewidth=1.2, label="achieved")
    focus_ax.set_ylabel("focus (dioptres, 1/m)")
    focus_ax.set_title(f"{title}: {take_verdict(take)}")
    series: dict[int, tuple[list[float], list[float], str]] = {}
    for sample in take.samples:
        for subject in sample.subjects:
            if subject.focus_score is None:
                continue
            ts, values, _ = series.setdefault(subject.id, ([], [], subject.label))
            ts.append(sample.t)
            values.append(subject.focus_score)
    for sid, (ts, values, label) in sorted(series.items()):
        subject_ax.plot(ts, values, linewidth=1.2, label=f"{label} #{sid}" if label else f"#{sid}")
    subject_ax.axhline(0.5, color="grey", linestyle=":", linewidth=1.0)  # the limit of acceptable blur
    subject_ax.set_ylabel("in-focus score\n(0.5 = acceptable limit)")
    subject_ax.set_ylim(0, 1.05)
    subject_ax.set_xlabel("media time (s)")
    for cue, score in zip(sorted(take.fired, key=lambda f: f.t0), take.scores):
        for ax in (focus_ax, subject_ax):
            ax.axvspan(cue.t0, cue.t0 + cue.duration_s, color="tab:orange", alpha=0.15)
        said = NO_PULL if score.score is None else f"{score.score:.0f}"
        focus_ax.annotate(f"{cue.name}: {said}", (cue.t0, 1.0), xycoords=("data", "axes fraction"),
                          xytext=(2, -12), textcoords="offset points", fontsize=8, color="tab:orange")
    focus_ax.legend(loc="lower right", fontsize=8)
    if series:
        subject_ax.legend(loc="lower right", fontsize=8)
    save(fig, path, "take report")
