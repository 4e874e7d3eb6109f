"""The five failures found on independent clips, rebuilt on the rig (tests/focus/scenes/) and run end to end.

1. a rack between distant planes: the outgoing subject leaves focus long
   before the incoming one sharpens (and is first detected only then);
2. a slow tracking pull, seen from another subject changing slowly;
3. a subject crossing the frame with motion blur while focus follows it;
4. a subject that is never sharp never reads in focus;
5. ``analyze --cue-track`` puts cues at each rack's own start and end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.live import LiveOptions, build_pipeline
from assistant.sink import Sink
from assistant.sim.evaluate import score_labels
from assistant.sim.scene import load_scene
from assistant.sim.source import SimSource
from tests.audio.test_track import RATE, read_wav

SCENES = Path(__file__).parent / "scenes"


class Collect(Sink):
    """Every event and every frame's subjects, with the rig's truth for that frame."""

    def __init__(self, source: SimSource) -> None:
        self.source = source
        self.events: list = []
        self.frames: list = []

    def consume(self, result):
        self.frames.append((result.frame.t, result.subjects, self.source.truth))

    def on_event(self, event):
        self.events.append(event)


def analyse(name: str) -> Collect:
    pipeline = build_pipeline(LiveOptions(source="sim", scene=SCENES / f"{name}.toml", analyze=True), with_sinks=False)
    sink = Collect(pipeline.source)
    pipeline.add_sink(sink)
    pipeline.run()
    return sink


def test_case_1_a_rack_between_distant_planes_is_one_rack_from_a_to_b():
    run = analyse("rack_apart")
    truth = load_scene(SCENES / "rack_apart.toml").truth
    assert [e.type for e in run.events] == ["rack"]
    rack = run.events[0]
    # The s-curve rack starts at 2.0 s, but A's blur stays under a pixel (ratio ~0.5, flat within noise) until
    # 2.2 s: the picture cannot show the start earlier. Measured 2.1-2.2 s, depending on that noise.
    assert abs(rack.start - truth[0].start) <= 0.25 and abs(rack.end - truth[0].end) <= 0.3
    assert rack.distance_from_m == pytest.approx(1.4, rel=0.15)
    assert rack.distance_to_m == pytest.approx(3.2, rel=0.15)
    assert rack.target_box[0] > 640  # B, on the right


def test_case_2_a_slow_tracking_pull_is_labelled():
    run = analyse("slow_pull")
    truth = load_scene(SCENES / "slow_pull.toml").truth
    assert [e.type for e in run.events] == ["pull"]
    assert score_labels(run.events, truth).f1 == 1.0
    pull = run.events[0]
    assert abs(pull.start - 2.0) <= 0.2
    assert pull.from_id == pull.to_id and pull.distance_to_m < pull.distance_from_m


def test_case_3_a_subject_crossing_with_motion_blur_is_a_pull_not_a_rack():
    run = analyse("crossing_pull")
    assert [e.type for e in run.events] == ["pull"]
    assert abs(run.events[0].start - 1.5) <= 0.2
    # she stays in focus while she crosses, although she is streaked by several pixels
    crossing = [s for t, subjects, _ in run.frames if 2.0 <= t <= 4.0 for s in subjects
                if s.box[0] < 900 and not s.coasting and s.in_focus is not None]
    assert crossing and np.mean([s.in_focus for s in crossing]) >= 0.95


def test_case_4_a_subject_never_sharp_never_reads_in_focus():
    run = analyse("never_sharp")
    b_flags, a_flags = [], []
    for _, subjects, truth in run.frames:
        for s in subjects:
            if s.in_focus is None:
                continue
            (flags := b_flags if s.box[0] > 640 else a_flags).append((s.in_focus, s.focus_score))
    assert len(b_flags) > 60 and len(a_flags) > 60
    assert not any(flag for flag, _ in b_flags)
    assert max(score for _, score in b_flags) < 0.5
    assert np.mean([flag for flag, _ in a_flags]) >= 0.95
    assert run.events == []


def test_case_5_analyze_cues_sound_at_each_racks_start_and_end_and_nowhere_else(tmp_path):
    scene = SCENES / "two_racks.toml"
    clip = tmp_path / "two_racks.mp4"
    source = SimSource.from_file(scene)
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, (1280, 720))
    while (frame := source.read()) is not None:
        writer.write(frame.image)
    writer.release()
    events, cues = tmp_path / "e.jsonl", tmp_path / "cues.wav"
    result = subprocess.run([sys.executable, "-m", "assistant", "analyze", str(clip), "--events", str(events),
                             "--cue-track", str(cues), "--hfov", str(source.hfov_deg)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    labelled = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["type"] for e in labelled] == ["rack", "rack"]
    samples = read_wav(cues)
    window = RATE // 50  # 20 ms
    loud = [i * window / RATE for i in range(len(samples) // window)
            if np.sqrt(np.mean(samples[i * window:(i + 1) * window] ** 2)) > 0.01]
    moments = [t for rack in load_scene(scene).truth for t in (rack.start, rack.end)]
    assert loud, "the cue track is silent"
    for moment in moments:  # energy within 0.3 s of each truth rack's start and end ...
        assert any(abs(t - moment) <= 0.3 for t in loud), (moment, loud)
    for t in loud:  # ... and nowhere else (a cue lasts under 0.3 s)
        assert any(-0.3 <= t - moment <= 0.6 for moment in moments), (t, moments)


def test_live_announces_each_rack_while_under_way_and_again_when_it_lands(tmp_path):
    """Live (not analyze): rack_start as soon as the rack is recognised, rack_landed when it is labelled."""
    cues = tmp_path / "cues.wav"
    pipeline = build_pipeline(LiveOptions(source="sim", scene=SCENES / "two_racks.toml", headless=True,
                                          no_audio=True, cue_track=cues), with_sinks=True)
    pipeline.pacer = None  # as fast as the machine allows: media time is what the cues are placed by
    pipeline.run()
    sounder = next(s for s in pipeline.sinks if hasattr(s, "sounded"))
    racks = [(t, name) for t, name in sounder.sounded if name.startswith("rack")]
    assert [name for _, name in racks] == ["rack_start", "rack_landed"] * 2
    for (started, _), truth in zip(racks[::2], load_scene(SCENES / "two_racks.toml").truth):
        assert truth.start < started <= truth.end + 0.5  # recognised while the rack is still under way
