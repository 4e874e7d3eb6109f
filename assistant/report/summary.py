"""``--report OUT.png``: per-subject in-focus score and sharpness over time, the labelled events shaded.

The score is the absolute judgement (``assistant.focus.judge``: 1 sharp, 0.5
at the limit of acceptable blur, a dotted line); the sharpness below it is the
raw normalised Laplacian variance, which also moves with texture and size.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

from assistant.sink import Command, FrameResult, Sink
from assistant.report.files import prepared
from assistant.report.plots import figure, save
from assistant.types import Event

EVENT_COLOURS = {"rack": "tab:orange", "pull": "tab:green", "soft": "tab:red"}


class ReportSink(Sink):
    """Collects sharpness per subject and the events; draws the PNG when the run closes."""

    def __init__(self, path: Path, source_name: str = "") -> None:
        self.path = prepared(path, (".png",), "report")
        self.source_name = source_name
        self.series: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        self.scores: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
        self.labels: dict[int, str] = {}  # subject ID -> its latest label
        self.focus: tuple[list[float], list[float]] = ([], [])
        self.events: list[Event] = []

    def consume(self, result: FrameResult) -> Command | None:
        t = result.frame.t
        for subject in result.subjects:
            if subject.sharpness is None or subject.coasting:
                continue
            if subject.label:
                self.labels[subject.id] = subject.label
            ts, values = self.series[subject.id]
            ts.append(t)
            values.append(subject.sharpness)
            if subject.focus_score is not None:
                score_ts, scores = self.scores[subject.id]
                score_ts.append(t)
                scores.append(subject.focus_score)
        if result.focus_m is not None and math.isfinite(result.focus_m):
            self.focus[0].append(t)
            self.focus[1].append(result.focus_m)
        return None

    def on_event(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        if not self.series and not self.events and not self.focus[0]:
            return  # nothing was analysed (a run that failed to start): no empty report
        rows = 3 if self.focus[0] else 2
        fig, axes = figure(rows)
        score_ax, ax = axes[0], axes[1]
        for sid, (ts, values) in sorted(self.series.items()):
            name = f"{self.labels[sid]} #{sid}" if sid in self.labels else f"#{sid}"
            line, = ax.plot(ts, values, label=name, linewidth=1.2)
            if sid in self.scores:
                score_ax.plot(*self.scores[sid], label=name, linewidth=1.2, color=line.get_color())
        score_ax.axhline(0.5, color="grey", linestyle=":", linewidth=1.0)
        score_ax.set_ylim(0, 1.05)
        score_ax.set_ylabel("in-focus score\n(0.5 = acceptable limit)")
        score_ax.set_title(f"Focus report {self.source_name}".strip())
        ax.set_yscale("log")
        ax.set_ylabel("sharpness (normalised\nLaplacian variance)")
        for event in self.events:
            for row in axes:
                row.axvspan(event.start, max(event.end, event.start + 0.03),
                               color=EVENT_COLOURS[event.type], alpha=0.18)
            who = f"{event.from_id}->{event.to_id}" if event.type == "rack" and event.from_id else ""
            score_ax.annotate(f"{event.type} {who}".strip(), (event.start, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -12), textcoords="offset points", fontsize=8, color=EVENT_COLOURS[event.type])
        if self.series:
            ax.legend(loc="lower right", fontsize=8)
        if rows == 3:
            axes[2].plot(*self.focus, color="black", linewidth=1.2)
            axes[2].set_ylabel("lens focus (m)")
        axes[-1].set_xlabel("time (s)")
        save(fig, self.path)
