"""The presenter: the status and ticker from each frame's analysis; the overlay drawn only when wanted."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from assistant.sink import DriverState, FrameAnalysis
from assistant.types import Event, Frame, NoSignal, SharpnessMap, Subject
from assistant.ui.overlay import OverlayStyle
from assistant.ui.presenter import OverlayPresenter, driver_words


def analysis(t: float = 1.0, **more) -> FrameAnalysis:
    frame = Frame(np.full((90, 160, 3), 60, np.uint8), t, round(t * 30))
    sharpness = SharpnessMap(np.ones((3, 4)), (), (40.0, 30.0), np.zeros((90, 160), np.int16))
    return FrameAnalysis(frame, sharpness, 2.0, (Subject(1, (10, 10, 30, 40), "A", 2.0),), (), source="sim", **more)


def presenter() -> OverlayPresenter:
    return OverlayPresenter(SimpleNamespace(style=OverlayStyle()), recording=True)


def test_the_picture_is_drawn_only_when_a_sink_wants_it():
    shown = presenter()
    plain = shown.present(analysis(), picture=False, sound=False)
    assert plain.annotated is plain.frame.image
    drawn = shown.present(analysis(), picture=True, sound=False)
    assert drawn.annotated is not drawn.frame.image and np.any(drawn.annotated != drawn.frame.image)
    assert drawn.status.source == "sim" and drawn.status.recording and drawn.status.focus_m == 2.0


def test_the_ticker_keeps_cuts_racks_under_way_warnings_once_events_and_refusals():
    shown = presenter()
    rack = Event("rack", 0.5, 0.9, 15, 27, "observed", from_id=1, to_id=2)
    shown.present(analysis(0.4, cut=True, warnings=("face detector failed",)), False, False)
    shown.present(analysis(0.5, provisional=(rack,), warnings=("face detector failed",)), False, False)
    shown.on_event(rack)
    shown.on_followed_rack(rack)
    shown.on_refused("no subject there to select")
    status = shown.present(analysis(1.0), False, False).status
    assert status.ticker == ("   0.50s  rack #1->#2 under way", "   0.50s  rack #1->#2 (observed, 0.4 s)",
                             "   0.90s  you racked to #2: it is the target now", "! no subject there to select")
    first = shown.present(analysis(1.1, warnings=("face detector failed", "motor slow")), False, False).status
    assert first.ticker[-1] == "! motor slow" and first.ticker.count("! face detector failed") == 0


def test_the_status_bar_words_for_sound_target_and_driver():
    guidance = SimpleNamespace(target_id=1, direction="hold", delta_m=None, text=lambda: "suggest: A sharp")
    status = presenter().present(analysis(guidance=guidance, muted=True, mode="suggest",
                                          driver=DriverState("rig lens")), False, sound=True).status
    assert (status.audio, status.target, status.note, status.mode, status.driver) == (
        False, "A #1", "suggest: A sharp", "suggest", "driver rig lens")
    assert presenter().present(analysis(), False, sound=False).status.audio is None
    assert driver_words(DriverState("osc", stopped=True)) == "driver STOPPED (e re-engages)"
    assert driver_words(DriverState("osc", True, "timeout")) == "DRIVER FAULT: timeout"


def test_no_signal_is_shown_at_the_feed_size():
    report = NoSignal("camera:0", 3.0, 1.5, 2)
    assert presenter().no_signal((160, 90), report).shape == (90, 160, 3)
