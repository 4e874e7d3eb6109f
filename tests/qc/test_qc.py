"""``focus-assistant qc`` over a generated shooting day: outputs, bad files, resuming, kills and Dask."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.qc.batch import QcOptions, run_qc
from assistant.qc.clips import find_clips, fingerprint
from assistant.qc.diagnose import why_unreadable

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
from qc_day import make_day  # noqa: E402  (examples/ is not a package)

GOOD = 10


@pytest.fixture(scope="session")
def day(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("day")
    make_day(folder)
    return folder


def qc(*args: str | Path, timeout: float = 300) -> tuple[int, str, float]:
    """The real command in a new process: exit code, stderr and wall time."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "assistant", "qc", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stderr, time.monotonic() - started


def summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def some_clips(day: Path, tmp_path: Path, count: int) -> tuple[Path, Path]:
    """A folder holding the first ``count`` good clips of the day (hard links), and an output folder beside it."""
    folder = tmp_path / "clips"
    folder.mkdir()
    for clip in sorted((day / "A001").glob("C*.mp4"))[:count]:
        os.link(clip, folder / clip.name)
    return folder, tmp_path / "qc"


def start_qc(folder: Path, out: Path, workers: int) -> subprocess.Popen:
    """The real command started in a new process, its stderr piped, to be stopped or watched mid-batch."""
    return subprocess.Popen([sys.executable, "-m", "assistant", "qc", str(folder), "--out", str(out),
                             "--workers", str(workers)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def test_a_day_is_analysed_bad_files_are_listed_and_a_second_run_reuses_the_good_clips(day, tmp_path):
    out = tmp_path / "qc"
    code, err, first_s = qc(day, "--out", out)
    assert code == 2, err  # two files could not be read
    assert "Traceback" not in err
    rows = {Path(r["path"]).name: r for r in summary(out)["clips"]}
    assert len(rows) == GOOD + 2
    good = {name: r for name, r in rows.items() if r["status"] == "ok"}
    assert len(good) == GOOD
    assert rows["C9998_cut.mp4"]["status"] == "error" and "truncated" in rows["C9998_cut.mp4"]["error"]
    assert rows["C9999.mov"]["status"] == "error" and "not a video" in rows["C9999.mov"]["error"]
    assert "C9998_cut.mp4: truncated" in err and "C9999.mov: not a video" in err
    assert [s["path"].endswith("A001.xml") for s in summary(out)["skipped"]] == [True]
    for row in good.values():
        folder = out / row["folder"]
        for name in ("events.jsonl", "tracks.jsonl", "markers.edl", "filmstrip.jpg", "result.json"):
            assert (folder / name).is_file(), (folder, name)
        tracks = (folder / "tracks.jsonl").read_text().splitlines()
        assert len(tracks) == row["frames"] == round(row["duration_s"] * row["fps"])
        assert (folder / "report.png").is_file() == (row["subjects"] > 0 or sum(row["events"].values()) > 0)
        assert set(row["events"]) == {"rack", "pull", "soft"}
        assert row["soft_s"] == pytest.approx(sum(b - a for a, b in row["soft_sections"]), abs=0.01)
    assert sum(sum(r["events"].values()) for r in good.values()) > 0  # the day has racks and pulls to find
    csv_lines = (out / "summary.csv").read_text().splitlines()
    assert len(csv_lines) == GOOD + 3 and csv_lines[0].startswith("path,status,error")
    page = (out / "index.html").read_text()
    assert page.count("<tr data-soft=") + page.count('<tr class="error"') == GOOD + 2
    assert "http://" not in page and "https://" not in page  # no CDN: plain files
    assert not list(out.glob(".*partial*"))

    stamps = {name: (out / r["folder"] / "result.json").stat().st_mtime_ns for name, r in good.items()}
    code, err, second_s = qc(day, "--out", out)
    assert code == 2
    assert f"{GOOD + 2} clips: {GOOD} already done, 2 unreadable as before (unchanged), 0 to analyse" in err
    assert "C9998_cut.mp4: truncated" in err  # still listed
    assert {name: (out / r["folder"] / "result.json").stat().st_mtime_ns for name, r in good.items()} == stamps
    again = {Path(r["path"]).name: r for r in summary(out)["clips"]}
    assert {n: {k: v for k, v in r.items() if k != "wall_s"} for n, r in again.items()} == \
           {n: {k: v for k, v in r.items() if k != "wall_s"} for n, r in rows.items()}
    assert second_s < 0.10 * first_s, (second_s, first_s)


def test_a_clip_gives_the_same_events_as_analyze(day, tmp_path):
    clip = next((day / "A001").glob("C*.mp4"))
    out = tmp_path / "qc"
    result = run_qc(QcOptions((clip,), out, workers=1))
    assert [o.status for o in result.outcomes] == ["ok"]
    events = tmp_path / "analyze.jsonl"
    assert main(["analyze", str(clip), "--events", str(events)]) == 0
    assert (out / result.outcomes[0].name / "events.jsonl").read_text() == events.read_text()


def test_a_batch_killed_mid_clip_redoes_that_clip_and_no_other(day, tmp_path):
    folder, out = some_clips(day, tmp_path, 3)
    proc = start_qc(folder, out, workers=1)
    last = sorted(folder.glob("*.mp4"))[-1].name
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until the third clip is half analysed
        partial = list(out.glob(f".{last}.partial-*/tracks.jsonl"))
        if partial and len(partial[0].read_text().splitlines()) >= 20:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the third clip never started")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not (out / last).exists()  # nothing that looks done
    done = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert len(done) == 2
    stamps = {name: (out / name / "result.json").stat().st_mtime_ns for name in done}

    code, err, _ = qc(folder, "--out", out, "--workers", "1")
    assert code == 0, err
    assert "3 clips: 2 already done, 1 to analyse" in err, err
    assert "removed 1 half-written clip folder" in err
    assert {name: (out / name / "result.json").stat().st_mtime_ns for name in done} == stamps
    assert json.loads((out / last / "result.json").read_text())["status"] == "ok"
    assert not list(out.glob(".*partial*"))


def worker_reading(batch_pid: int, folder: Path) -> tuple[int, str] | None:
    """(process id, clip name) of a worker process of the batch that has one of ``folder``'s clips open."""
    import psutil

    for child in psutil.Process(batch_pid).children(recursive=True):
        try:
            for opened in child.open_files():
                if Path(opened.path).parent == folder and opened.path.endswith(".mp4"):
                    return child.pid, Path(opened.path).name
        except psutil.Error:  # it ended while we looked
            continue
    return None


def test_a_worker_that_dies_mid_clip_fails_that_clip_and_the_batch_goes_on(day, tmp_path):
    folder, out = some_clips(day, tmp_path, 4)
    proc = start_qc(folder, out, workers=2)
    deadline = time.monotonic() + 120
    while (found := worker_reading(proc.pid, folder)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if found is None:
        proc.kill()
        pytest.fail("no worker ever opened a clip")
    victim, clip = found
    os.kill(victim, signal.SIGKILL)  # as a decoder's segfault or the out-of-memory killer would
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    rows = {Path(r["path"]).name: r for r in summary(out)["clips"]}
    assert sorted(n for n, r in rows.items() if r["status"] == "error") == [clip]
    assert "worker process died" in rows[clip]["error"] and f"{clip}: the analysis crashed" in err
    assert sum(r["status"] == "ok" for r in rows.values()) == 3  # the replacement worker did the rest

    code, err, _ = qc(folder, "--out", out, "--workers", "2")
    assert code == 0, err
    assert "4 clips: 3 already done, 1 to analyse" in err, err
    assert json.loads((out / rows[clip]["folder"] / "result.json").read_text())["status"] == "ok"


def test_ctrl_c_keeps_the_clips_finished_and_says_so(day, tmp_path):
    out = tmp_path / "qc"
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "qc", str(day / "A001"), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, as a terminal's Ctrl-C reaches it
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any((p / "result.json").exists() for p in out.glob("C*")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    rows = summary(out)["clips"]
    assert 1 <= len(rows) < 5 and all(r["status"] == "ok" for r in rows)
    assert (out / "index.html").is_file()


def test_dask_local_cluster_gives_the_same_summary_as_local_workers(day, tmp_path):
    pytest.importorskip("distributed", reason="the cluster extra is part of the test extra: run make setup")
    clips = tuple(sorted((day / "B001").glob("C3*.mp4"))[:3])
    run_qc(QcOptions(clips, tmp_path / "local", workers=2))
    dask = run_qc(QcOptions(clips, tmp_path / "dask", workers=2, scheduler="local"))

    def rows(out: Path) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "wall_s"} for r in summary(out)["clips"]]

    assert [o.status for o in dask.outcomes] == ["ok"] * 3
    assert rows(tmp_path / "dask") == rows(tmp_path / "local")


@pytest.mark.parametrize("args,message", [
    (["nowhere", "--out", "{out}"], "nowhere: no such file or folder"),
    (["{empty}", "--out", "{out}"], "no video files under"),
    (["{clip}", "--out", "{clip}"], "is a file; give a folder"),
    (["{clip}", "--out", "{out}", "--scheduler", "udp://x"], "give 'local' or a Dask scheduler address"),
    (["{clip}", "--out", "{out}", "--workers", "0"], "--workers"),
])
def test_bad_input_is_one_line_and_exit_code_2(day, tmp_path, args, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    clip = next((day / "A001").glob("C*.mp4"))
    code, err, _ = qc(*[a.format(empty=empty, clip=clip, out=tmp_path / "out") for a in args], timeout=60)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 or "usage:" in err


def test_missing_dask_is_explained(day, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # what an install without the extra sees
    clip = next((day / "A001").glob("C*.mp4"))
    assert main(["qc", str(clip), "--out", str(tmp_path / "o"), "--scheduler", "local"]) == 2
    assert "pip install 'focus-assistant[cluster]'" in capsys.readouterr().err


def test_clip_names_stay_apart_and_fingerprints_see_changes(tmp_path):
    for reel in ("A001", "B001"):
        (tmp_path / reel).mkdir()
        (tmp_path / reel / "C001.mov").write_bytes(b"\0" * 100)
    (tmp_path / "B001" / "C002.MXF").write_bytes(b"\1" * 100)
    (tmp_path / "B001" / ".hidden.mov").write_bytes(b"")
    clips, skipped = find_clips([tmp_path], tmp_path / "out")
    assert [c.name for c in clips] == ["A001__C001.mov", "B001__C001.mov", "C002.MXF"]
    assert skipped == []
    path = tmp_path / "B001" / "C002.MXF"
    before = fingerprint(path)
    path.write_bytes(b"\1" * 99 + b"\2")
    assert fingerprint(path) != before
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 << 20))
    first = fingerprint(big)
    with big.open("r+b") as f:
        f.truncate(19 << 20)
    assert fingerprint(big) != first


def test_why_a_file_is_unreadable(day, tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "text.mov"
    text.write_text("hello\n" * 100)
    noise = tmp_path / "noise.mkv"
    noise.write_bytes(bytes(range(256)) * 16)
    cut = day / "B001" / "C9998_cut.mp4"
    assert why_unreadable(empty).startswith("empty file")
    assert why_unreadable(text).startswith("not a video: the file holds text")
    assert why_unreadable(noise).startswith("not a video format FFmpeg can read")
    assert why_unreadable(cut).startswith("truncated MP4/MOV: it ends inside its 'mdat' box")


def test_a_clip_that_decodes_fewer_frames_than_it_declares_is_truncated_and_ffmpeg_stays_quiet(tmp_path):
    import cv2
    import numpy as np

    whole = tmp_path / "whole.avi"
    writer = cv2.VideoWriter(str(whole), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    for i in range(90):
        writer.write(np.full((240, 320, 3), i * 2, np.uint8))
    writer.release()
    cut = tmp_path / "day" / "cut.avi"  # the AVI header says 90 frames; the index and the last 40 % are gone
    cut.parent.mkdir()
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    code, err, _ = qc(cut.parent, "--out", tmp_path / "out", timeout=120)
    assert code == 2
    (row,) = summary(tmp_path / "out")["clips"]
    decoded = re.match(r"truncated: decoded (\d+) of the 90 frames its header declares", row["error"])
    assert row["status"] == "error" and decoded and int(decoded[1]) == row["frames"] < 60
    assert "overread" not in err and "mjpeg @" not in err  # FFmpeg's own chatter does not reach the terminal
