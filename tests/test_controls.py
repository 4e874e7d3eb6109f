"""Operator commands change the view, the target, the marks and the driving, as the keys promise."""

from __future__ import annotations

import pytest

from assistant.controls import OperatorControls
from assistant.drivers.guard import DuckDriver, GuardedDriver, SafetyLimits
from assistant.focus.director import NUDGE_DPT, FocusDirector
from assistant.sim.lens import SimLens
from assistant.types import Subject
from assistant.ui.keys import command_for_key
from assistant.ui.overlay import OverlayStyle

SUBJECTS = (Subject(1, (100, 100, 80, 100), "A", 2.0), Subject(2, (400, 120, 60, 80), "B", 4.0),
            Subject(5, (120, 120, 30, 40), "", 2.1))


class Labels:
    def __init__(self) -> None:
        self.assigned: list[tuple[str, int]] = []

    def assign_label(self, label: str, subject_id: int) -> None:
        self.assigned.append((label, subject_id))


def rig_driver() -> tuple[GuardedDriver, SimLens, list[float]]:
    lens = SimLens(2.0, 0.3, 100.0, 4.0)
    clock = [0.0]
    return GuardedDriver(DuckDriver(lens, "rig lens"), None, SafetyLimits(lens.limits, 4.0), lambda: clock[0]), lens, clock


def controls(mode: str = "suggest") -> tuple[OperatorControls, FocusDirector, Labels, GuardedDriver, SimLens]:
    driver, lens, clock = rig_driver()
    clock[0] = 1.0  # a second after the guard opened: the slew limit allows 4 dpt of travel
    director = FocusDirector(mode, driver=driver, limits_dpt=driver.limits)
    labels = Labels()
    return OperatorControls(OverlayStyle(), director, labels), director, labels, driver, lens


@pytest.mark.parametrize("key,command", [
    (ord("3"), "select:3"), (9, "select_next"), (ord("B"), "mark:B"), (ord("c"), "rack:C"),
    (ord("e"), "toggle_mode"), (32, "emergency_stop"), (ord(","), "nudge:nearer"), (ord("."), "nudge:farther"),
    (ord("p"), "toggle_peaking"), (ord("z"), "toggle_magnifier"), (ord("m"), "toggle_mute"), (ord("h"), "toggle_help"),
    (ord("q"), "quit"), (27, "quit"), (255, None), (ord("0"), None),
])
def test_keys_map_to_commands(key, command):
    assert command_for_key(key) == command


def test_every_key_names_a_command_whose_text_round_trips():
    from assistant.commands import parse_command

    keys = [k for k in range(256) if command_for_key(k) is not None]
    assert len(keys) > 20
    for key in keys:
        text = command_for_key(key)
        assert str(parse_command(text)) == text, text


def test_command_text_parses_in_one_place():
    from assistant.commands import Mark, Nudge, Quit, Rack, Select, SelectAt, ToggleView, UnknownCommand, parse_command

    assert parse_command("rack:B") == Rack("B") and parse_command("mark:C") == Mark("C")
    assert parse_command("select:3") == Select(3) and parse_command("select_at:640,360") == SelectAt(640, 360)
    assert parse_command("toggle_magnifier") == ToggleView("magnifier") and parse_command("quit") == Quit()
    assert parse_command("nudge:nearer") == Nudge("nearer")
    with pytest.raises(UnknownCommand, match="unknown command 'bogus'"):
        parse_command("bogus")
    for malformed in ("select:x", "select_at:1"):
        with pytest.raises(ValueError):
            parse_command(malformed)


def test_command_values_and_their_text_do_the_same():
    from assistant.commands import Rack, Select, ToggleView

    by_text, by_value = controls()[0], controls()[0]
    for text, value in (("toggle_magnifier", ToggleView("magnifier")), ("select:2", Select(2)), ("rack:B", Rack("B"))):
        assert by_text.apply(text, SUBJECTS) == by_value.apply(value, SUBJECTS)
    assert by_text.style == by_value.style and by_text.director.target_id == by_value.director.target_id == 2
    assert not by_text.apply("quit", SUBJECTS) and by_text.last_refusal == "unknown command 'quit'"


def test_on_screen_help_names_every_fixed_key():
    from assistant.ui.keys import HELP_LINES, SIMPLE_KEYS

    names = {9: "Tab", 13: "Enter", 32: "Space", 27: "Esc"}
    help_text = " ".join(HELP_LINES)
    for code in SIMPLE_KEYS:
        assert f"{names.get(code, chr(code))} " in help_text + " ", names.get(code, chr(code))


def test_malformed_commands_are_refused_not_fatal():
    ops, director, *_ = controls()
    for bad in ("select:x", "select_at:1", "nudge:up", "rack:E", "mark:Z"):
        assert not ops.apply(bad, SUBJECTS), bad
        assert ops.last_refusal.startswith(bad.split(":")[0])


def test_nudge_without_a_moving_driver_is_refused():
    ops, director, _, driver, _ = controls("drive")
    ops.apply("emergency_stop", SUBJECTS)
    assert not ops.apply("nudge:nearer", SUBJECTS) and "stopped" in ops.last_refusal


def test_view_toggles_and_mute_flip_state():
    ops, *_ = controls()
    assert ops.apply("toggle_magnifier", SUBJECTS) and ops.style.magnifier
    assert ops.apply("toggle_heatmap", SUBJECTS) and not ops.style.heatmap
    assert ops.apply("toggle_mute", SUBJECTS) and ops.muted
    assert ops.apply("toggle_mute", SUBJECTS) and not ops.muted


def test_select_by_number_click_and_tab():
    ops, director, *_ = controls()
    assert ops.apply("select:2", SUBJECTS) and director.target_id == 2
    assert not ops.apply("select:7", SUBJECTS) and director.target_id == 2  # no #7 on screen
    # A click inside both #1 and the small #5 in front of it picks the smaller box.
    assert ops.apply("select_at:130,140", SUBJECTS) and director.target_id == 5
    assert not ops.apply("select_at:5,5", SUBJECTS) and "no subject" in ops.last_refusal
    assert ops.apply("select_next", SUBJECTS) and director.target_id == 1  # wraps around after #5
    assert ops.apply("select_next", SUBJECTS) and director.target_id == 2


def test_selected_target_survives_the_largest_face_rule():
    ops, director, *_ = controls()
    director.step(0.0, 0, SUBJECTS, 0.5)
    assert director.target_id == 1  # largest
    ops.apply("select:2", SUBJECTS)
    director.step(0.1, 1, SUBJECTS, 0.5)
    assert director.target_id == 2
    guidance, _ = director.step(0.2, 2, SUBJECTS[:1], 0.5)  # #2 gone: lost, never a jump to #1
    assert guidance.direction == "lost" and director.target_id == 2


def test_mark_assigns_the_selected_subject():
    ops, _, labels, *_ = controls()
    assert not ops.apply("mark:C", SUBJECTS)  # nothing selected yet
    ops.apply("select:5", SUBJECTS)
    assert ops.apply("mark:C", SUBJECTS) and labels.assigned == [("C", 5)]


def test_toggle_mode_engages_drive_and_logs_mode_events():
    ops, director, _, driver, _ = controls()
    assert ops.apply("toggle_mode", SUBJECTS) and director.mode == "drive"
    _, events = director.step(0.0, 0, SUBJECTS, driver.position())
    assert [(e.type, e.origin) for e in events] == [("mode", "operator")] and "drive" in events[0].detail
    assert ops.apply("toggle_mode", SUBJECTS) and director.mode == "suggest"


def test_emergency_stop_stops_the_motor_until_reengaged():
    ops, director, _, driver, lens = controls("drive")
    lens.advance(0.0)
    ops.apply("emergency_stop", SUBJECTS)
    assert director.mode == "suggest" and driver.stopped
    before = lens.position()
    driver.move_to(before + 1.0)  # ignored while stopped
    lens.advance(1.0)
    assert lens.position() == pytest.approx(before)
    _, events = director.step(0.0, 0, SUBJECTS, lens.position())
    assert events[0].type == "mode" and "emergency stop" in events[0].detail
    assert ops.apply("toggle_mode", SUBJECTS) and director.mode == "drive" and not driver.stopped


def test_nudge_pauses_drive_and_moves_the_lens_by_hand():
    ops, director, _, driver, lens = controls("drive")
    start = lens.position()
    ops.apply("nudge:nearer", SUBJECTS)
    assert director.paused
    guidance, _ = director.step(0.0, 0, SUBJECTS, lens.position())
    assert guidance.direction == "paused" and "re-engages" in guidance.text()
    lens.advance(1.0)
    assert lens.position() == pytest.approx(start + NUDGE_DPT)
    ops.apply("toggle_mode", SUBJECTS)  # e: re-engage, not switch off
    assert director.mode == "drive" and not director.paused


def test_commands_needing_a_director_are_refused_in_analyze():
    ops = OperatorControls(OverlayStyle())
    assert not ops.apply("rack:A", SUBJECTS) and "analyze" in ops.last_refusal
    assert ops.apply("toggle_peaking", SUBJECTS)


def test_an_interrupted_rack_is_never_logged_as_landed():
    ops, director, _, driver, lens = controls("drive")
    clock_t = 0.0
    director.step(clock_t, 0, SUBJECTS, lens.position())
    ops.apply("rack:B", SUBJECTS)
    events = []
    for frame in range(1, 10):  # a third of the way into the rack...
        lens.advance(1 / 30)
        _, more = director.step(frame / 30, frame, SUBJECTS, lens.position())
        events += more
    ops.apply("emergency_stop", SUBJECTS)  # ...stopped, then drive re-engaged
    ops.apply("toggle_mode", SUBJECTS)
    for frame in range(10, 60):
        lens.advance(1 / 30)
        _, more = director.step(frame / 30, frame, SUBJECTS, lens.position())
        events += more
    assert not [e for e in events if e.type == "rack" and e.origin == "driven"]
    assert [e.detail.split(" ")[0] for e in events if e.type == "mode"] == ["emergency", "drive"]


def test_the_parser_takes_designs_words_for_stop_go_and_a_signed_nudge():
    """DESIGN.md names the web monitor's commands stop, go and nudge:+0.05; they are the keys' commands."""
    from assistant.commands import CueGo, EmergencyStop, Nudge, parse_command

    assert parse_command("stop") == EmergencyStop() and parse_command("go") == CueGo()
    assert parse_command("nudge:+0.05") == Nudge("farther") == parse_command("nudge:farther")
    assert parse_command("nudge:-0.2") == Nudge("nearer")
    for bad in ("nudge:+x", "nudge:-0", "nudge:+inf"):
        with pytest.raises(ValueError, match="signed step"):
            parse_command(bad)
