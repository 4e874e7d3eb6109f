"""A plugin motor defined in a test module drives the virtual rig in ``live --mode drive``,
under the guard, and its failure drops the run to suggest mode with the alarm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import paths
from assistant.audio.cues import CueSink
from assistant.cli import main
from assistant.drivers.lensmap import load_lens
from assistant.live import LiveOptions, build_pipeline
from assistant.sink import Sink
from tests.drivers import plugin_motor

LENS = Path(__file__).parent / "data" / "stepper-lens.toml"
SCENE = paths.SCENES_DIR / "drive_walk.toml"


def test_plugin_motor_drives_the_rig_through_the_lens_map(tmp_path: Path):
    plugin_motor.MOTORS.clear()
    tracks = tmp_path / "tracks.jsonl"
    code = main(["live", "--source", "sim", "--scene", str(SCENE), "--mode", "drive", "--target", "B",
                 "--driver", "tests.drivers.plugin_motor:make_motor", "--lens", str(LENS),
                 "--headless", "--no-audio", "--max-frames", "180", "--tracks", str(tracks)])
    assert code == 0
    motor = plugin_motor.MOTORS[-1]
    assert motor.closed  # the run closed the driver
    steps = [value for _, value in motor.commands]
    assert len(steps) > 100
    assert all(20 <= s <= 3980 for s in steps)  # the lens file's soft limits
    # The rig renders the motor's position: focus follows B walking from 4.5 m to 1.5 m.
    lens, lens_map = load_lens(LENS)
    rows = [json.loads(line) for line in tracks.read_text().splitlines()]
    followed = 0
    judged = 0
    for row in rows[60:]:  # after lock-on
        b = next((s for s in row["subjects"] if s["label"] == "B" and s["distance_m"]), None)
        if b is None or row["focus_m"] is None:
            continue
        judged += 1
        followed += abs(1 / row["focus_m"] - 1 / b["distance_m"]) < 0.1  # within 0.1 dpt of the estimate
    assert judged > 80 and followed / judged > 0.9
    last_focus = rows[-1]["focus_m"]
    assert last_focus == pytest.approx(1.5, rel=0.15)  # B ended at 1.5 m
    assert lens_map.to_native(1 / last_focus) == pytest.approx(steps[-1], abs=120)


def test_a_failing_plugin_drops_to_suggest_mode_with_the_alarm(tmp_path: Path):
    plugin_motor.MOTORS.clear()
    options = LiveOptions(source="sim", scene=SCENE, headless=True, mode="drive", target="B", no_audio=True,
                          driver="tests.drivers.plugin_motor:make_failing_motor", lens=LENS,
                          max_frames=60, events=tmp_path / "events.jsonl", cue_track=tmp_path / "cues.wav")
    pipeline = build_pipeline(options)
    seen = []

    class Watch(Sink):
        def consume(self, result):
            seen.append(result)

    pipeline.add_sink(Watch())
    pipeline.run()
    motor = plugin_motor.MOTORS[-1]
    assert len(motor.commands) == 20  # the 21st command raised; nothing was sent after it
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    faults = [e for e in events if e["type"] == "fault"]
    assert len(faults) == 1 and "stopped answering" in faults[0]["detail"]
    fault_frame = faults[0]["frame_start"]
    # The same frame that tripped the watchdog is already in suggest mode, on screen and in sound.
    tripped = seen[fault_frame]
    assert all(r.status.mode == "drive" for r in seen[:fault_frame])
    assert tripped.status.mode == "suggest" and "DRIVER FAULT" in tripped.status.driver
    assert any("fault: plugin" in line for line in seen[fault_frame + 1].status.ticker)  # the ticker, next frame
    assert all(r.status.mode == "suggest" for r in seen[fault_frame:])
    cues = next(s for s in pipeline.sinks if isinstance(s, CueSink))
    alarms = [t for t, name in cues.sounded if name == "driver_fault"]
    assert alarms == [pytest.approx(faults[0]["start"], abs=1e-3)]  # one alarm, at the fault's media time
    assert motor.closed
