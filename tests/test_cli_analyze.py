"""`focus-assistant analyze` on a real video file written by OpenCV."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import cv2
import pytest

from assistant import paths
from assistant.sim.source import SimSource
from assistant.sinks import ProgressBar


@pytest.fixture(scope="module")
def racks_clip(tmp_path_factory):
    """The labelled racks clip rendered by the rig and encoded to mp4 (real decode in analyze)."""
    path = tmp_path_factory.mktemp("clips") / "racks.mp4"
    source = SimSource.from_file(paths.SCENES_DIR / "label_racks.toml")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), source.fps, (1280, 720))
    while (frame := source.read()) is not None:
        writer.write(frame.image)
    writer.release()
    return path


def run(*args):
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=300)


def test_analyze_labels_the_racks_in_a_clip_and_writes_every_output(racks_clip, tmp_path):
    events, tracks, report = tmp_path / "e.jsonl", tmp_path / "t.jsonl", tmp_path / "report.png"
    result = run("analyze", str(racks_clip), "--events", str(events), "--tracks", str(tracks),
                 "--report", str(report), "--hfov", "40")
    assert result.returncode == 0, result.stderr
    labelled = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["type"] for e in labelled] == ["rack", "rack", "rack"]
    assert [round(e["start"]) for e in labelled] == [2, 5, 8]
    assert all(e["origin"] == "observed" for e in labelled)
    assert labelled[0]["distance_from_m"] == pytest.approx(1.5, rel=0.15)
    assert labelled[0]["distance_to_m"] == pytest.approx(4.0, rel=0.15)
    assert len(tracks.read_text().splitlines()) == 330
    picture = cv2.imread(str(report))
    assert picture is not None and picture.shape[1] >= 1000
    assert "analysed 330 frames" in result.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.mp4", "--events", "e.jsonl"], "missing.mp4: no such file"),
        (["sim", "--events", "e.jsonl"], "analyze reads a recorded clip"),
        (["notes.txt", "--events", "e.jsonl"], "cannot open as a video"),
        (["clip.mp4"], "the following arguments are required: --events"),
    ],
)
def test_analyze_mistakes_are_one_line_and_exit_code_2(tmp_path, args, message):
    (tmp_path / "notes.txt").write_text("not a video")
    result = subprocess.run([sys.executable, "-m", "assistant", "analyze", *args], capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def test_the_cue_track_sounds_each_labelled_rack_at_its_start_and_end(racks_clip, tmp_path):
    from tests.audio.test_track import onsets, read_wav
    from tests.audio.test_synth import dominant

    events, cues = tmp_path / "e.jsonl", tmp_path / "cues.wav"
    result = run("analyze", str(racks_clip), "--events", str(events), "--cue-track", str(cues))
    assert result.returncode == 0, result.stderr
    racks = [json.loads(line) for line in events.read_text().splitlines()]
    samples = read_wav(cues)
    assert len(racks) == 3
    # at the racks' own media times, not on the later frame the classifier decided them
    assert onsets(samples) == pytest.approx([t for r in racks for t in (r["start"], r["end"])], abs=0.002)
    for rack in racks:
        for t, pitch in ((rack["start"], 523.25), (rack["end"], 1046.5)):  # rack_start, rack_landed
            start = round(t * 48000)
            assert dominant(samples[start:start + 2000]) == pytest.approx(pitch, rel=0.03)
    assert len(samples) >= 10.9 * 48000  # the track spans the clip, so it lines up with the video


def test_a_report_that_is_not_a_png_is_refused_before_any_work(racks_clip, tmp_path):
    result = run("analyze", str(racks_clip), "--events", str(tmp_path / "e.jsonl"), "--report", str(tmp_path / "r.jpg"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"focus-assistant: {tmp_path / 'r.jpg'}: unsupported report format; use one of .png"]


def test_progress_bar_shows_share_speed_and_time_left():
    clock = iter([0.0, 1.0, 2.0, 2.0, 2.0])
    stream = io.StringIO()
    bar = ProgressBar(stream, total=100, tty=True, clock=lambda: next(clock))
    bar.frames = 50
    assert bar.line(1.0) == "[###############...............]  50.0%  50/100 frames    50.0 fps    1.0 s left"
    silent = io.StringIO()
    piped = ProgressBar(silent, total=100, tty=False)
    piped.close()
    assert silent.getvalue() == ""


@pytest.mark.parametrize("suffix", [".edl", ".otio"])
def test_analyze_markers_land_on_the_event_frames(racks_clip, tmp_path, suffix):
    import opentimelineio as otio

    events, markers = tmp_path / "e.jsonl", tmp_path / f"markers{suffix}"
    result = run("analyze", str(racks_clip), "--events", str(events), "--markers", str(markers), "--hfov", "40")
    assert result.returncode == 0, result.stderr
    labelled = [json.loads(line) for line in events.read_text().splitlines()]
    if suffix == ".edl":
        timeline = otio.adapters.read_from_file(str(markers), "cmx_3600", rate=30)
    else:
        timeline = otio.adapters.read_from_file(str(markers))
    found = [m for clip in timeline.find_clips() for m in clip.markers]
    assert [round(m.marked_range.start_time.to_frames()) for m in found] == [e["frame_start"] for e in labelled]
    for marker, event in zip(found, labelled):
        who = f"#{event['from']}->#{event['to']}" if event["from"] is not None else f"#{event['to']}"
        if event["from"] is None and event["to"] is None:
            who = "plane"
        assert marker.name == f"rack {who} {event['end'] - event['start']:.2f}s (observed)"
        if suffix == ".otio":  # OTIO keeps each event's length; the EDL's LOC line cannot
            assert marker.marked_range.duration.to_frames() == round((event["end"] - event["start"]) * 30)
