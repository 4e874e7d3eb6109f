"""The shared reduced copy of frames wider than 1080p: made once, used by the tile grid and the face search,
and never used for frames up to 1920 wide (their results must not change)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from assistant.types import Frame
from assistant.vision.faces import Detection
from assistant.scale import WORKING_WIDTH, halve, reduced_box, working_factor
from assistant.vision.sharpness import SharpnessMeter
from assistant.vision.subjects import SubjectTracker
from assistant.vision.tracker import Tracker


def textured(width: int, height: int, photo: np.ndarray) -> np.ndarray:
    """A photograph repeated to fill the frame (texture everywhere)."""
    reps = (-(-height // photo.shape[0]), -(-width // photo.shape[1]), 1)
    return np.ascontiguousarray(np.tile(photo, reps)[:height, :width])


def one_step_tiles(image: np.ndarray, meter: SharpnessMeter) -> np.ndarray:
    """The tile grid as it was computed before the shared copy: one area reduction by the meter's factor."""
    k = meter.reduction(image.shape[1])
    h, w = image.shape[:2]
    grey = cv2.cvtColor(cv2.resize(image, (w // k, h // k), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    lap = cv2.Laplacian(grey, cv2.CV_64F)
    rows, cols = meter.grid
    th, tw = grey.shape[0] // rows, grey.shape[1] // cols
    tiles = np.empty(meter.grid)
    for r in range(rows):
        for c in range(cols):
            region = (slice(r * th, (r + 1) * th), slice(c * tw, (c + 1) * tw))
            tiles[r, c] = lap[region].var() / max(grey[region].mean(), meter.exposure_floor) ** 2
    return tiles


@pytest.mark.parametrize("width, factor", [(640, 1), (1280, 1), (1920, 1), (1921, 2), (2560, 2), (3840, 2),
                                           (4096, 4), (7680, 4), (7681, 8)])
def test_working_factor_is_the_smallest_power_of_two_that_fits(width, factor):
    assert working_factor(width) == factor
    assert width / factor <= WORKING_WIDTH


def test_a_frame_makes_each_reduction_once(astronaut):
    frame = Frame(textured(3840, 2160, astronaut), 0.0, 0)
    assert frame.reduced(1) is frame.image
    half = frame.reduced(2)
    assert half is frame.reduced(2)
    assert np.array_equal(half, cv2.resize(frame.image, (1920, 1080), interpolation=cv2.INTER_AREA))
    assert np.array_equal(frame.reduced(4), halve(half))
    with pytest.raises(ValueError):
        frame.reduced(3)


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_tiles_up_to_1080p_are_what_one_reduction_gives(astronaut, width, height):
    frame = Frame(textured(width, height, astronaut), 0.0, 0)
    meter = SharpnessMeter()
    asked: list[int] = []
    tiles = meter.measure(frame.image, reduced=lambda factor: asked.append(factor) or frame.reduced(factor)).tiles
    np.testing.assert_allclose(tiles, one_step_tiles(frame.image, meter), rtol=1e-9)
    assert asked == []  # no shared copy: such frames are measured as before


def test_4k_tiles_come_from_the_shared_half_and_stay_close_to_one_reduction(astronaut):
    frame = Frame(textured(3840, 2160, astronaut), 0.0, 0)
    meter = SharpnessMeter()
    asked: list[int] = []
    shared = meter.measure(frame.image, [(1000, 500, 400, 400)],
                           lambda factor: asked.append(factor) or frame.reduced(factor))
    assert asked == [2]
    own = SharpnessMeter().measure(frame.image, [(1000, 500, 400, 400)])
    np.testing.assert_array_equal(shared.tiles, own.tiles)  # with or without a frame to share from
    assert shared.boxes == own.boxes  # boxes are measured on the full picture either way
    assert shared.laplacian.shape == (540, 960) and shared.tile_size == (240.0, 240.0)
    # Halving twice rounds twice: within a grey level per pixel of the one-step reduction.
    np.testing.assert_allclose(shared.tiles, one_step_tiles(frame.image, meter), rtol=0.03)


@pytest.mark.parametrize("region", [(0, 0, 3840, 2160), (3, 5, 101, 77), (1737, 0, 2103, 1188)])
def test_a_reduced_region_covers_the_region(region):
    x, y, w, h = region
    rx, ry, rw, rh = reduced_box(region, 2)
    assert 2 * rx <= x and 2 * ry <= y and 2 * (rx + rw) >= x + w and 2 * (ry + rh) >= y + h
    assert 2 * (rx + rw) - (x + w) <= 1 and x - 2 * rx <= 1


class RecordingDetector:
    """Finds one face in the middle of whatever it is given, and notes what that was."""

    def __init__(self) -> None:
        self.seen: list[tuple[np.ndarray, tuple]] = []

    def detect(self, image, region):
        self.seen.append((image, region))
        x, y, w, h = region
        return (Detection((x + w / 4, y + h / 4, w / 8, w / 8), 0.9, ((x + w / 4 + 1, y + h / 4 + 1),) * 6),)

    def restart(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("width, height", [(1920, 1080), (3840, 2160)])
def test_faces_are_searched_on_the_working_copy_and_reported_in_frame_pixels(width, height):
    detector = RecordingDetector()
    stage = SubjectTracker({"short": detector, "full": detector}, Tracker(), 60.0)
    observed = []
    track = stage.tracker.update
    stage.tracker.update = lambda observation: observed.append(observation) or track(observation)
    frame = Frame(np.zeros((height, width, 3), np.uint8), 0.0, 0)
    stage.update(frame)
    (image, region), = detector.seen
    factor = working_factor(width)
    searched = stage.last_search.region
    assert image is frame.reduced(factor)  # the frame itself up to 1920 wide
    assert region == reduced_box(searched, factor)
    (face,) = observed[0].detections
    x, y, w, h = searched
    assert face.box == pytest.approx((x + w / 4, y + h / 4, w / 8, w / 8), abs=factor)


def test_a_detection_scales_with_its_keypoints():
    d = Detection((10.0, 20.0, 30.0, 30.0), 0.8, ((12.0, 25.0), (30.0, 25.0)))
    assert d.scaled(1) is d
    big = d.scaled(2)
    assert big.box == (20.0, 40.0, 60.0, 60.0) and big.keypoints == ((24.0, 50.0), (60.0, 50.0))
    assert big.score == 0.8 and big.plausible == d.plausible
