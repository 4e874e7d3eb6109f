"""``GET /state``: one frame's result as the JSON the page reads (README, "Web monitor").

Built on the server's thread from the frozen :class:`~assistant.sink.FrameResult`
the sink keeps, once per frame however many browsers ask; the caller's role,
the viewer count and the last events are added per request.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from assistant.sink import FrameResult
from assistant.types import NoSignal, Subject

EVENTS_KEPT = 10


def frame_state(result: FrameResult | None) -> dict[str, Any]:
    """Everything about the frame (no events, viewers or role); before the first frame ``frame`` is -1."""
    if result is None:
        return {"t": 0.0, "frame": -1, "mode": "monitor", "target": None, "focus_m": None, "guidance": None,
                "subjects": [], "frame_size": [0, 0], "driver": {"text": "", "fault": False}, "ticker": [],
                "fps": None}
    guidance = result.guidance
    target = None
    if guidance is not None and guidance.target_id is not None:
        subject = next((s for s in result.subjects if s.id == guidance.target_id), None)
        label = subject.label if subject is not None and subject.label else guidance.target_label
        target = {"id": guidance.target_id, "label": label}
    status = result.status
    return {
        "t": round(result.frame.t, 4),
        "frame": result.frame.index,
        "mode": result.mode or "monitor",
        "target": target,
        "focus_m": _number(result.focus_m),
        "guidance": None if guidance is None else {
            "direction": guidance.direction, "delta_m": _number(guidance.delta_m),
            "delta_dpt": _number(guidance.delta_dpt), "text": guidance.text()},
        "subjects": [subject_state(s) for s in result.subjects],
        "frame_size": [result.frame.width, result.frame.height],
        "driver": {"text": status.driver, "fault": bool(result.driver is not None and result.driver.fault)},
        "ticker": list(status.ticker),
        "fps": _number(result.fps, 2),
    }


def subject_state(subject: Subject) -> dict[str, Any]:
    return {"id": subject.id, "label": subject.label, "box": [int(v) for v in subject.box],
            "distance_m": _number(subject.distance_m), "in_focus": subject.in_focus,
            "focus_score": _number(subject.focus_score), "coasting": subject.coasting}


def full_state(frame: dict[str, Any], events: Sequence[dict], viewers: int, role: str,
               no_signal: NoSignal | None = None) -> dict[str, Any]:
    """``frame`` (from :func:`frame_state`) with the last events, the viewer count and the caller's role;
    ``no_signal`` (an addition to the contract): null, or how long the feed has been gone."""
    return {**frame, "events": list(events)[-EVENTS_KEPT:], "viewers": viewers, "role": role,
            "no_signal": None if no_signal is None else {"silent_s": round(no_signal.silent_s, 2),
                                                          "reconnects": no_signal.reconnects}}


def _number(value: float | None, digits: int = 3) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)
