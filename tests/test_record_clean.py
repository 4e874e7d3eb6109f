"""`--record` (what the operator saw) beside `--record-clean` (the camera's picture), and the mark that
lets `analyze` tell them apart (issue 16)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.report.recording_mark import ANNOTATED_COMMENT, is_annotated, mark_annotated


def frames(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    pictures = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        pictures.append(image)
    capture.release()
    return pictures


@pytest.fixture(scope="module")
def recordings(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("rec")
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--source", "sim", "--headless", "--no-audio",
                          "--max-frames", "40", "--record", "seen.mp4", "--record-clean", "clean.mp4"],
                         cwd=folder, capture_output=True, text=True, timeout=300)
    return folder / "seen.mp4", folder / "clean.mp4", run


def test_both_recordings_are_written_and_only_the_annotated_one_is_marked(recordings):
    seen, clean, run = recordings
    assert run.returncode == 0, run.stderr
    annotated, camera = frames(seen), frames(clean)
    assert len(annotated) == len(camera) == 40
    assert is_annotated(seen) and not is_annotated(clean)
    # The clean file has no overlay: its top band is as bright as the scene, the annotated one's is darkened.
    top_seen, top_clean = annotated[20][:40].mean(), camera[20][:40].mean()
    assert top_seen < 0.8 * top_clean
    # Away from the overlay the two pictures agree (same frame, same encoder).
    middle = (slice(300, 420), slice(560, 720))
    assert np.abs(annotated[20][middle].astype(int) - camera[20][middle].astype(int)).mean() < 25


def test_the_mark_is_a_quicktime_comment_that_leaves_the_video_playable(tmp_path, recordings):
    _, clean, _ = recordings
    copy = tmp_path / "copy.mp4"
    shutil.copy(clean, copy)
    assert mark_annotated(copy) and is_annotated(copy)
    body = copy.read_bytes()
    assert b"udta" in body and b"\xa9cmt" in body and ANNOTATED_COMMENT.encode() in body
    assert len(frames(copy)) == len(frames(clean))
    assert np.array_equal(frames(copy)[10], frames(clean)[10])


def test_files_the_mark_cannot_go_into_are_left_alone(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_bytes(b"not a video at all")
    assert not mark_annotated(text) and text.read_bytes() == b"not a video at all"
    assert not is_annotated(text) and not is_annotated(tmp_path / "missing.mp4")
    avi = tmp_path / "clip.avi"
    avi.write_bytes(b"RIFF")
    assert not mark_annotated(avi)


def analyze(clip: Path, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "analyze", str(clip), "--events", "e.jsonl"],
                          cwd=folder, capture_output=True, text=True, timeout=300)


def test_analyze_warns_about_its_own_annotated_recordings_only(tmp_path, recordings):
    seen, clean, _ = recordings
    warned = analyze(seen, tmp_path)
    assert warned.returncode == 0, warned.stderr
    warning = [line for line in warned.stderr.splitlines() if "warning" in line]
    assert len(warning) == 1 and "--record-clean" in warning[0] and str(seen) in warning[0]
    quiet = analyze(clean, tmp_path)
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_record_and_record_clean_must_be_different_files(tmp_path):
    run = subprocess.run([sys.executable, "-m", "assistant", "live", "--headless", "--no-audio", "--max-frames", "5",
                          "--record", "a.mp4", "--record-clean", "./a.mp4"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "focus-assistant: a.mp4: --record and --record-clean name the same file; give each its own"]
    assert not (tmp_path / "a.mp4").exists()
