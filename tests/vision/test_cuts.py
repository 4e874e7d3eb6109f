"""Shot cuts on real video files: every join between rig clips is found, and nothing else.

The clips come from the rig's generator, so between them they pan, shake,
breathe, step exposure, flicker, rack focus, blur with motion, go noisy and
blocky, and have people walk through; the files go through an mp4v encoder and
back, as footage does.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from assistant.sim.assets import AssetLibrary
from assistant.sim.generate import generate
from assistant.sim.source import SimSource
from assistant.vision.cuts import CutConfig, CutDetector

FPS = 25.0
JOINED_SEEDS = (47, 5, 24, 95, 9, 12)
"""Six shots: the first join keeps the same person at the same size on a brick wall, only moved
across the picture (the hardest here); the rest also hold a pan, a rack, jitter, exposure steps, flicker."""
QUIET_SEEDS = (15, 23, 54, 4, 72, 79)
"""Whole clips without a join: three of kind "nothing", three of kind "rack"."""


@pytest.fixture(scope="module")
def assets() -> AssetLibrary:
    return AssetLibrary()


def render(seed: int, assets: AssetLibrary) -> list[np.ndarray]:
    source = SimSource(generate(seed, assets).scene, assets)
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame.image)
    return frames


def write_video(path: Path, shots: list[list[np.ndarray]]) -> list[int]:
    """Write the shots one after another; returns the index of each shot's first frame after the first."""
    h, w = shots[0][0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (w, h))
    assert writer.isOpened()
    joins, count = [], 0
    for shot in shots:
        if count:
            joins.append(count)
        for image in shot:
            writer.write(image)
        count += len(shot)
    writer.release()
    return joins


def read_video(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def detect(frames: list[np.ndarray]) -> tuple[list[int], list[float], list[float]]:
    """(flagged frame indices, each frame's score, the recent level each was weighed against)."""
    detector = CutDetector()
    flagged, scores, recent = [], [], []
    for i, image in enumerate(frames):
        if detector.update(image, i / FPS):
            flagged.append(i)
        scores.append(detector.last.score if detector.last else 0.0)
        recent.append(detector.last.recent if detector.last else 0.0)
    return flagged, scores, recent


def test_every_join_is_found_within_a_frame_and_nothing_else(tmp_path, assets):
    path = tmp_path / "joined.mp4"
    joins = write_video(path, [render(seed, assets) for seed in JOINED_SEEDS])
    frames = read_video(path)
    flagged, scores, recent = detect(frames)

    near_joins = {i for j in joins for i in (j, j + 1)}
    assert [i for i in flagged if i not in near_joins] == [], "a cut flagged inside a shot"
    for j in joins:
        assert sum(i in flagged for i in (j, j + 1)) == 1, f"join at frame {j} not flagged exactly once"

    cut_scores = [max(scores[j], scores[j + 1]) for j in joins]
    inside = [s for i, s in enumerate(scores) if i not in near_joins]
    spikes = [s for i, s in enumerate(scores) if i not in near_joins and s >= CutConfig().spike_ratio * recent[i]]
    print(f"\ncut margin: smallest join score {min(cut_scores):.3f}; largest score inside a shot {max(inside):.3f}"
          f" ({min(cut_scores) / max(inside):.2f}x); largest inside that was also a spike {max(spikes):.3f}"
          f" ({min(cut_scores) / max(spikes):.2f}x); threshold {CutConfig().min_score}")
    assert min(cut_scores) > max(inside)


@pytest.mark.parametrize("seed", QUIET_SEEDS)
def test_whole_clips_without_a_join_have_no_cut(tmp_path, assets, seed):
    assert generate(seed, assets).kind in ("nothing", "rack")
    path = tmp_path / f"clip{seed}.mp4"
    write_video(path, [render(seed, assets)])
    flagged, scores, _ = detect(read_video(path))
    print(f"\nseed {seed}: largest score {max(scores):.3f}")
    assert flagged == []


# ---------------------------------------------------------------- small cases on the test photos

def test_a_cut_between_photos_is_flagged_once_and_the_first_frame_never(astronaut, hopper):
    a = cv2.resize(astronaut, (640, 360))
    b = cv2.resize(hopper, (640, 360))
    detector = CutDetector()
    flags = [detector.update(image, i / FPS) for i, image in enumerate([a] * 5 + [b] * 5)]
    assert flags == [False] * 5 + [True] + [False] * 4


def test_exposure_steps_pans_and_noise_on_one_photo_are_not_cuts(astronaut):
    big = cv2.resize(astronaut, (960, 720))
    rng = np.random.default_rng(1)
    detector = CutDetector()
    for i in range(60):
        x = 4 * i  # a pan of 100 px/s across the photo
        view = big[100:460, x:x + 640].astype(np.float32)
        gain = (1.0, 0.5, 1.6)[(i // 20) % 3]  # two hard exposure steps, with clipping
        image = np.clip(view * gain + rng.normal(0.0, 4.0, view.shape), 0, 255).astype(np.uint8)
        assert not detector.update(image, i / FPS), i


def test_grey_frames_work_and_a_cut_through_black_is_flagged_when_the_picture_comes_back(hopper, astronaut):
    """Black has no structure and no layout to compare: the new shot starts where there is a picture again."""
    a = cv2.cvtColor(cv2.resize(hopper, (320, 240)), cv2.COLOR_BGR2GRAY)
    b = cv2.cvtColor(cv2.resize(astronaut, (320, 240)), cv2.COLOR_BGR2GRAY)
    detector = CutDetector()
    frames = [a] * 3 + [np.zeros_like(a)] * 3 + [b] * 3
    flags = [detector.update(image, i / FPS) for i, image in enumerate(frames)]
    assert flags == [False] * 6 + [True] + [False] * 2


def test_time_must_not_run_backwards_and_bad_configs_are_rejected(hopper):
    detector = CutDetector()
    detector.update(hopper, 1.0)
    with pytest.raises(ValueError, match="time order"):
        detector.update(hopper, 0.5)
    with pytest.raises(ValueError, match="cell_px"):
        CutConfig(thumb_width=64, cell_px=5)
    with pytest.raises(ValueError, match="spike_ratio"):
        CutConfig(spike_ratio=0.5)


def test_a_person_turning_away_at_once_is_no_cut():
    # Issue 15's drive benchmark: the rig turns a person away within one frame; a near face (~160 px) painted
    # over scored above 0.6, a spike, and ended every track. It changes a block or two of the thumbnail; a
    # cut changes most of them.
    from dataclasses import replace

    from assistant.sim.scene import load_scene

    scene = load_scene(Path(__file__).parents[1] / "focus" / "scenes" / "turn_away.toml")
    near = replace(scene, layers=tuple(replace(layer, distance_m=1.6) if layer.name == "A" else layer
                                       for layer in scene.layers))

    def flagged(config: CutConfig) -> list[float]:
        source, detector, found = SimSource(near), CutDetector(config), []
        while (frame := source.read()) is not None:
            if detector.update(frame.image, frame.t):
                found.append(round(frame.t, 2))
        return found

    assert flagged(CutConfig(min_block_share=0.0)) == [1.5, 3.5]  # the spike alone takes both for cuts
    assert flagged(CutConfig()) == []
