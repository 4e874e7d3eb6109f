"""Outages of a live source: when the picture went, when it came back, and what to show meanwhile."""

from __future__ import annotations

from assistant.types import Event, Frame, NoSignal


class OutageLog:
    """Turns :class:`NoSignal` reports into two ``outage`` events: one when the signal goes, one when it is back."""

    def __init__(self) -> None:
        self._lost: NoSignal | None = None
        self._lost_frame = 0
        self._latest: NoSignal | None = None

    def lost(self, report: NoSignal, last_frame: int) -> list[Event]:
        """A report from a silent source; the first of an outage becomes an event."""
        self._latest = report
        if self._lost is not None:
            return []
        self._lost, self._lost_frame = report, last_frame
        reason = f": {report.reason}" if report.reason else ""
        return [Event("outage", report.t, report.t, last_frame, last_frame, "observed",
                      detail=f"no signal from {report.source} for {report.silent_s:.1f} s{reason}")]

    def ended(self) -> list[Event]:
        """The run stops while the source is still gone: close the outage at the last report."""
        if self._lost is None:
            return []
        lost, latest = self._lost, self._latest or self._lost
        self._lost = self._latest = None
        start = max(0.0, lost.t - lost.silent_s)
        return [Event("outage", start, max(latest.t, start), self._lost_frame, self._lost_frame, "observed",
                      detail=f"no signal from {lost.source} until the run stopped, {latest.t - start:.1f} s "
                             f"({latest.reconnects} reconnects)")]

    def restored(self, frame: Frame) -> list[Event]:
        """A frame arrived; if it ends an outage, the event spanning it."""
        if self._lost is None:
            return []
        lost, latest = self._lost, self._latest or self._lost
        self._lost = self._latest = None
        start = max(0.0, lost.t - lost.silent_s)  # the outage began when the last frame came
        return [Event("outage", start, max(frame.t, start), self._lost_frame, max(frame.index, self._lost_frame),
                      "observed", detail=f"signal back from {lost.source} after {frame.t - start:.1f} s "
                                         f"({latest.reconnects} reconnects)")]
