"""Drive mode through VISCA over IP: the real CLI moves an emulated PTZ camera's focus over a lossy UDP link,
and the virtual rig renders what the camera reports, through the lens file."""

from __future__ import annotations

import json
from pathlib import Path

from assistant import paths
from assistant.cli import main
from assistant.sim.scene import load_scene
from tests.drivers.visca_camera import ViscaCamera

SCENE = paths.SCENES_DIR / "drive_walk.toml"  # B walks 4.5 m -> 1.5 m at 1 m/s while A stands at 2.2 m
LENS = Path(__file__).resolve().parents[2] / "config" / "lenses" / "example-visca.toml"
COC_MM_FULL_FRAME = 0.05  # the drive benchmark's limit on a 36 mm wide sensor, scaled to this one
LOCK_ON_S = 1.0


def test_drive_holds_a_walking_subject_in_focus_through_a_camera_losing_two_percent_of_packets(tmp_path: Path):
    tracks = tmp_path / "tracks.jsonl"
    events = tmp_path / "events.jsonl"
    with ViscaCamera(loss=0.02, seed=7, travel_time=0.45) as camera:  # about the rig lens's 6 dpt/s
        code = main(["live", "--source", "sim", "--scene", str(SCENE), "--mode", "drive", "--target", "B",
                     "--driver", f"visca://127.0.0.1:{camera.port}", "--lens", str(LENS),
                     "--headless", "--no-audio", "--tracks", str(tracks), "--events", str(events)])
        heard = camera.received
    assert code == 0
    assert not [e for e in map(json.loads, events.read_text().splitlines()) if e["type"] == "fault"]
    scene = load_scene(SCENE)
    lens = scene.camera.thin_lens()
    limit = COC_MM_FULL_FRAME * scene.camera.sensor_width_mm / 36.0
    walker = next(layer for layer in scene.layers if layer.name == "B")
    rows = [json.loads(line) for line in tracks.read_text().splitlines()]
    judged = [r for r in rows if r["t"] >= LOCK_ON_S]
    inside = sum(r["focus_m"] is not None and lens.coc_mm(r["focus_m"], walker.place(r["t"])[2]) <= limit
                 for r in judged)
    assert len(judged) > 180
    assert inside / len(judged) >= 0.90, f"B inside the depth of field on {inside}/{len(judged)} frames"
    directs = [h for h in heard if h.payload.startswith(bytes.fromhex("81 01 04 48"))]
    assert len(directs) > 50  # focus really went over the wire, as focus direct commands
