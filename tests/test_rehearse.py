"""Rehearsal on the virtual rig: cue sheets are checked, drive mode racks exactly as written,
manual takes by scripted operators are scored and ranked, and the markers land where editors expect."""

from __future__ import annotations

import io
import json
from pathlib import Path

import opentimelineio as otio
import pytest

from assistant import paths
from assistant.errors import ConfigError
from assistant.live import LiveOptions
from assistant.rehearse.command import rehearse
from assistant.rehearse.cuesheet import load_cue_sheet

CUES = paths.CONFIG_DIR / "cues" / "two_hander.toml"
STAGE = paths.SCENES_DIR / "rehearse_stage.toml"


def operator_scene(folder: Path, name: str, keys: list[tuple[float, float, str]]) -> Path:
    """The stage with a scripted operator's focus pulls (the rig's focus script is the operator's hand)."""
    script = "".join(f'\n[[focus]]\nt = {t}\ndistance_m = {d}\nease = "{e}"\n' for t, d, e in keys)
    path = folder / f"{name}.toml"
    path.write_text(STAGE.read_text().replace('name = "rehearse_stage"', f'name = "{name}"') + script)
    return path


# The sheet: rack A (2 m) -> B (4 m) at 3.0 s over 1.0 s (s-curve); back to A 1.5 s after landing, over 1.5 s (ease-out).
OPERATORS = {
    "correct": [(0, 2.0, "linear"), (3.0, 2.0, "linear"), (4.0, 4.0, "s-curve"), (5.5, 4.0, "linear"),
                (7.0, 2.0, "ease-out")],
    "early": [(0, 2.0, "linear"), (2.4, 2.0, "linear"), (3.4, 4.0, "s-curve"), (4.9, 4.0, "linear"),
              (6.4, 2.0, "ease-out")],
    "late": [(0, 2.0, "linear"), (3.6, 2.0, "linear"), (4.6, 4.0, "s-curve"), (6.1, 4.0, "linear"),
             (7.6, 2.0, "ease-out")],
    "overshoot": [(0, 2.0, "linear"), (3.0, 2.0, "linear"), (3.8, 7.0, "s-curve"), (4.4, 4.0, "s-curve"),
                  (5.5, 4.0, "linear"), (6.7, 1.6, "ease-out"), (7.3, 2.0, "s-curve")],
}


@pytest.fixture(scope="module")
def manual_session(tmp_path_factory):
    folder = tmp_path_factory.mktemp("manual")
    session = folder / "session.json"
    takes, printed = {}, ""
    for name, keys in OPERATORS.items():
        out = io.StringIO()
        options = LiveOptions(source="sim", scene=operator_scene(folder, name, keys), headless=True, no_audio=True,
                              cues=CUES)
        takes[name] = rehearse(options, session, folder, out)
        printed = out.getvalue()
    return takes, session, folder, printed


def test_scores_rank_the_scripted_operators(manual_session):
    takes, *_ = manual_session
    scores = {name: take.score for name, take in takes.items()}
    assert scores["correct"] >= 95
    assert scores["correct"] > max(scores["early"], scores["late"], scores["overshoot"]) + 30
    for name, take in takes.items():
        first, second = take.scores
        assert first.right_subject and second.right_subject, name  # everyone ends on the right subject
        assert take.no_pull_cues == () and None not in (first.score, second.score), name  # every operator pulled
    early, late, over, good = (takes[n].scores[0] for n in ("early", "late", "overshoot", "correct"))
    assert early.start_delay_s == pytest.approx(-0.6, abs=0.07)
    assert late.start_delay_s == pytest.approx(0.6, abs=0.07)
    assert abs(good.start_delay_s) < 0.05 and abs(good.landing_error_frames) <= 1
    assert late.landing_error_frames == pytest.approx(18, abs=2)
    assert over.overshoot_dpt > 0.08 and good.overshoot_dpt < 0.02  # 7 m is 0.11 dpt past B
    assert over.smoothness_rms > 5 * good.smoothness_rms


def test_session_file_and_table_compare_the_takes(manual_session):
    takes, session, folder, printed = manual_session
    stored = json.loads(session.read_text())["takes"]
    assert [t["take"] for t in stored] == [1, 2, 3, 4]
    assert [t["score"] for t in stored] == [round(takes[n].score, 1) for n in OPERATORS]
    assert stored[0]["cues"][0]["cue"] == "to B" and "start_delay_s" in stored[0]["cues"][0]
    assert stored[0]["cues"][0]["no_pull_seen"] is False
    assert "(4 takes)" in printed and "no pull seen" not in printed
    table = printed.split("takes):\n")[1]
    assert "<- best" in table.splitlines()[2]  # take 1, the correct operator, is marked best
    for number in range(1, 5):
        assert (folder / f"take-{number}.png").stat().st_size > 10_000


def test_drive_mode_racks_exactly_as_written(tmp_path: Path):
    markers = tmp_path / "take.edl"
    events = tmp_path / "events.jsonl"
    out = io.StringIO()
    options = LiveOptions(source="sim", scene=STAGE, headless=True, no_audio=True, mode="drive", cues=CUES,
                          markers=markers, events=events, cue_track=tmp_path / "cues.wav")
    take = rehearse(options, tmp_path / "session.json", tmp_path, out)
    assert [f.t0 for f in take.fired] == [3.0, 5.5]
    for score in take.scores:
        assert abs(score.landing_error_frames) <= 1, score  # every rack lands within one frame of schedule
        assert abs(score.start_delay_s) < 0.05 and score.right_subject and score.score >= 95
    rows = {line[:22].strip(): line for line in out.getvalue().splitlines() if line.startswith(("to B", "back to A"))}
    for score in take.scores:  # the table reports each rack's landing frames
        assert rows[score.cue].split()[-6] == f"{score.landing_error_frames:+d}"
    # Timeline markers: the cues and the driven racks at their frames, readable by OTIO's CMX 3600 adapter.
    timeline = otio.adapters.read_from_file(str(markers), "cmx_3600", rate=30)
    found = {m.name: m.marked_range.start_time.value for clip in timeline.find_clips() for m in clip.markers}
    cue_frames = sorted(frame for name, frame in found.items() if name.startswith("cue"))
    assert cue_frames == [90, 165]  # 3.0 s and 5.5 s at 30 fps
    driven = [json.loads(line) for line in events.read_text().splitlines()]
    racks = [e for e in driven if e["type"] == "rack" and e["origin"] == "driven"]
    assert len(racks) == 2
    for rack in racks:
        assert any(name.startswith("rack") and frame == rack["frame_start"] for name, frame in found.items())


def test_a_key_cue_waits_for_go_then_counts_in(tmp_path: Path):
    sheet = tmp_path / "go.toml"
    sheet.write_text('name = "go"\nbeat_s = 0.25\n[marks]\nB = { side = "right" }\n'
                     '[[cues]]\nkey = true\nto = "B"\nduration_s = 0.5\ncountdown_beats = 2\n')
    from assistant.live import build_pipeline
    from assistant.commands import CueGo
    from assistant.rehearse.runner import RehearsalSink
    from assistant.sink import Sink

    pipeline = build_pipeline(LiveOptions(source="sim", scene=STAGE, headless=True, no_audio=True, mode="drive",
                                          cues=sheet, cue_track=tmp_path / "cues.wav", max_frames=150))
    runner = next(s for s in pipeline.sinks if isinstance(s, RehearsalSink))
    go_at = []

    class Operator(Sink):  # presses Enter at 2.0 s
        def consume(self, result):
            if abs(result.frame.t - 2.0) < 1e-6:
                go_at.append(result.frame.t)
                return CueGo()
            return None

    pipeline.sinks.insert(0, Operator())
    pipeline.run()
    take = runner.take()
    assert go_at == [2.0] and len(take.fired) == 1
    assert take.fired[0].t0 == pytest.approx(2.0 + 2 * 0.25)  # two beats of count-in after GO
    assert take.scores[0].right_subject and abs(take.scores[0].landing_error_frames) <= 1


@pytest.mark.parametrize("body,message", [
    ('[[cues]]\nto = "B"\nat = 1.0\n', r"cues\[0\]: to: no mark named 'B'"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nname = "x"\nto = "B"\n', r"cues\[0\] \(x\): give exactly one trigger"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\nat = 1.0\nkey = true\n', "got at, key"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\nafter = 1.0\n', "the first cue has no previous cue"),
    ('[marks]\nB = { subject = "B", distance_m = 2.0 }\n[[cues]]\nto = "B"\nat = 1.0\n', "marks.B: give exactly one"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\nat = 1.0\ncurve = "wobble"\n', r"cues\[0\]\.curve"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\ntimecode = "00:00:01:45"\n', "timecode"),
    ('[marks]\nB = { subject = "B" }\n[[cues]]\nto = "B"\nat = 1.0\nduration_s = 0\n', r"cues\[0\]\.duration_s"),
    ('[marks]\nB = { subject = "B" }\n', "cues: missing"),
])
def test_bad_cue_sheets_name_the_cue_and_the_field(tmp_path, body, message):
    path = tmp_path / "sheet.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as caught:
        load_cue_sheet(path)
    assert str(path) in str(caught.value)


def test_the_example_sheet_loads():
    sheet = load_cue_sheet(CUES)
    assert [c.to for c in sheet.cues] == ["B", "A"] and sheet.marks["wall"].distance_m == 8.0


def test_without_a_lens_readout_the_target_sharpness_carries_the_timing():
    """A camera with no focus readout: start, sharp and the right subject come from who is in focus."""
    from assistant.rehearse.score import FiredCue, Sample, score_cue
    from assistant.types import Subject

    def frame(i: int, a_sharp: bool, b_sharp: bool) -> Sample:
        return Sample(i / 30, i, None, (Subject(1, (0, 0, 9, 9), "A", 2.0, in_focus=a_sharp),
                                        Subject(2, (50, 0, 9, 9), "B", 4.0, in_focus=b_sharp)))

    # A sharp until frame 95, nobody sharp while focus travels, B sharp from frame 118 (3.93 s) on.
    samples = [frame(i, i < 95, i >= 118) for i in range(0, 180)]
    cue = FiredCue(0, "to B", 3.0, 1.0, "s-curve", None, 0.25, 2, 30.0)
    score = score_cue(cue, samples, (1.5, 6.0), 0.043)
    assert score.time_to_sharp_s == pytest.approx(118 / 30 - 3.0)
    assert score.start_delay_s == pytest.approx(95 / 30 - (3.0 + 1.0 * 0.2), abs=0.05)  # s-curve reaches 10 % at 0.2
    assert score.right_subject and score.overshoot_dpt is None and score.smoothness_rms is None
    late = score_cue(cue, [frame(i, i < 130, i >= 150) for i in range(0, 180)], (1.5, 6.0), 0.043)
    assert late.score < score.score and late.time_to_sharp_s == pytest.approx(2.0)


class Director:
    """Records what the runner schedules (the real director's verb, without the rest)."""

    def __init__(self) -> None:
        self.scheduled: list[tuple[float, str]] = []

    def schedule_rack(self, request, at_t: float) -> None:
        self.scheduled.append((round(at_t, 3), request.describe()))


class Sounder:
    def __init__(self) -> None:
        self.sounded: list[tuple[float, str]] = []

    def sound(self, name: str, t: float) -> None:
        self.sounded.append((round(t, 3), name))


def frames(runner, until: float, fps: float = 30.0, go_at: float | None = None):
    from types import SimpleNamespace

    from assistant.commands import CueGo

    for i in range(int(until * fps)):
        t = i / fps
        result = SimpleNamespace(frame=SimpleNamespace(t=t, index=i), focus_m=2.0, subjects=())
        runner.consume(result)
        if go_at is not None and abs(t - go_at) < 1e-9:
            runner.on_command(CueGo(), result)


def test_each_cue_is_armed_once_and_timed_cues_do_not_wait_for_a_key_cue(tmp_path):
    from assistant.rehearse.runner import RehearsalSink

    sheet = tmp_path / "s.toml"
    sheet.write_text('beat_s = 0.5\n[marks]\nA = { subject = "A" }\nB = { subject = "B" }\n'
                     '[[cues]]\nkey = true\nto = "B"\ncountdown_beats = 2\n'
                     '[[cues]]\nafter = 0.5\nto = "A"\ncountdown_beats = 0\n'
                     '[[cues]]\nat = 5.0\nto = "A"\ncountdown_beats = 3\n'
                     '[[cues]]\nat = 2.0\nto = "B"\ncountdown_beats = 1\n')
    director, sounder = Director(), Sounder()
    runner = RehearsalSink(load_cue_sheet(sheet), director, "drive", 30.0, sounder)
    assert sorted(director.scheduled) == [(2.0, "B"), (5.0, "A")]  # armed up front, not behind the key cue
    frames(runner, 12.0, go_at=8.0)
    # GO at 8.0: the key cue counts in two beats and fires at 9.0; the after-cue 0.5 s after it lands (10.5).
    assert sorted(director.scheduled) == [(2.0, "B"), (5.0, "A"), (9.0, "B"), (10.5, "A")]
    beats = [t for t, name in sounder.sounded if name == "count_beat"]
    assert beats == sorted(set(beats)) == [1.5, 3.5, 4.0, 4.5, 8.0, 8.5]  # each once
    assert [f.t0 for f in runner.take().fired] == [2.0, 5.0, 9.0, 10.5]


@pytest.mark.parametrize("make,message", [
    (lambda d: d.mkdir() or d, "is a folder"),
    (lambda d: (d.write_text('{"takes": 5}'), d)[1], "not a rehearsal session file"),
    (lambda d: (d.write_text('{"takes": [{"take": 1}]}'), d)[1], "not a rehearsal session file"),
])
def test_a_bad_session_path_is_refused_before_the_take(tmp_path, make, message):
    from assistant.errors import UserInputError

    session = make(tmp_path / "session.json")
    with pytest.raises(UserInputError, match=message):
        rehearse(LiveOptions(source="sim", scene=STAGE, headless=True, no_audio=True, cues=CUES), session,
                 tmp_path, io.StringIO())


def test_a_take_in_which_nobody_pulls_is_not_scored(tmp_path: Path):
    """Headless manual mode on the plain stage: nobody presses , or . so focus never moves; no cue gets a score."""
    session = tmp_path / "session.json"
    out = io.StringIO()
    take = rehearse(LiveOptions(source="sim", scene=STAGE, headless=True, no_audio=True, cues=CUES), session,
                    tmp_path, out)
    assert take.score is None and take.no_pull_cues == ("to B", "back to A")
    for score in take.scores:  # no made-up timings (the old take said sharp -1.00s, land -75 for "back to A")
        assert score.no_pull_seen and score.score is None
        assert score.start_delay_s is None and score.time_to_sharp_s is None and score.landing_error_frames is None
    printed = out.getvalue()
    assert "not scored: no pull seen in any cue" in printed and "nobody pulled focus in 2 cues" in printed
    assert "(1 take)" in printed and "1 takes" not in printed
    stored = json.loads(session.read_text())["takes"]
    assert stored[0]["score"] is None and [c["no_pull_seen"] for c in stored[0]["cues"]] == [True, True]
    assert all(c["score"] is None and "start_delay_s" in c for c in stored[0]["cues"])  # old keys kept
    assert (tmp_path / "take-1.png").stat().st_size > 10_000
    # A second, cut-short take: one cue never fires, and every count reads right.
    out = io.StringIO()
    rehearse(LiveOptions(source="sim", scene=STAGE, headless=True, no_audio=True, cues=CUES, max_frames=100),
             session, tmp_path, out)
    printed = out.getvalue()
    assert "note: 1 cue never fired" in printed and "(2 takes)" in printed
    assert "nobody pulled focus in 1 cue;" in printed


def test_no_pull_seen_from_the_lens_focus_alone():
    """Focus that stays within readout noise over the cue's window is no pull; any real move is scored."""
    from assistant.rehearse.score import FiredCue, Sample, score_cue

    cue = FiredCue(0, "to B", 3.0, 1.0, "s-curve", 0.5, 0.25, None, 30.0)
    still = [Sample(i / 30, i, 0.5 + (0.005 if i % 2 else 0.0), ()) for i in range(45, 180)]
    held = score_cue(cue, still, (1.5, 6.0), 0.043)
    assert held.no_pull_seen and held.score is None and held.to_json()["no_pull_seen"] is True
    moved = [Sample(s.t, s.frame, 0.5 if s.t < 3.0 else 0.25, ()) for s in still]
    pulled = score_cue(cue, moved, (1.5, 6.0), 0.043)
    assert not pulled.no_pull_seen and pulled.score is not None


def test_the_takes_table_skips_cues_with_no_pull_seen():
    """A cue nobody pulled is shown as such and left out, not ranked as a bad pull; old session files still read."""
    from assistant.rehearse.session import takes_table

    def cue(name: str, score: float | None, no_pull: bool | None = None) -> dict:
        return {"cue": name, "score": score} | ({} if no_pull is None else {"no_pull_seen": no_pull})

    takes = [
        {"take": 1, "mode": "manual", "score": 60.0, "cues": [cue("to B", 50.0), cue("back to A", 70.0)]},  # old file
        {"take": 2, "mode": "manual", "score": 90.0, "cues": [cue("to B", None, True), cue("back to A", 90.0, False)]},
        {"take": 3, "mode": "manual", "score": None, "cues": [cue("to B", None, True), cue("back to A", None, True)]},
    ]
    rows = takes_table(takes).splitlines()
    assert rows[2].split()[2:] == ["50", "70", "60.0"]
    assert rows[3].split()[2:] == ["no", "pull", "seen", "90", "90.0", "<-", "best"]
    assert rows[4].split()[2:] == ["no", "pull", "seen", "no", "pull", "seen", "--"]
    assert "averages the cues that were pulled" in rows[5]
