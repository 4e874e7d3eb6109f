"""How frames wider than 1080p are looked at: an overview for whole-picture stages, patches for boxes. Frames up
to 1920 wide are used as they are (their results must not change)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from assistant.types import Frame
from assistant.vision.faces import Detection
from assistant.scale import WORKING_WIDTH, halve, overview_factor, reduced_box, working_factor
from assistant.vision.blur import BlurMeter
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


@pytest.mark.parametrize("width, height, factor", [(1280, 720, 1), (1920, 1080, 1), (3840, 2160, 4),
                                                   (7680, 4320, 8)])
def test_the_overview_is_made_once_and_is_the_frame_itself_up_to_1080p(astronaut, width, height, factor):
    frame = Frame(textured(width, height, astronaut), 0.0, 0)
    picture, made_factor = frame.overview()
    assert made_factor == factor == overview_factor(width)
    assert frame.overview()[0] is picture
    if factor == 1:
        assert picture is frame.image
    else:
        assert picture.shape == (height // factor, width // factor, 3)
        assert np.array_equal(picture, cv2.resize(frame.image, (width // factor, height // factor),
                                                  interpolation=cv2.INTER_LINEAR))


@pytest.mark.parametrize("box", [(0, 0, 3840, 2160), (3, 5, 101, 77), (1737, 0, 2103, 1188), (3801, 2141, 80, 60),
                                 (-40, -10, 100, 50)])
def test_a_patch_holds_exactly_what_the_halved_picture_has_there(astronaut, box):
    image = textured(3840, 2160, astronaut)
    half = halve(image)
    piece, (x, y, w, h) = Frame(image, 0.0, 0).patch(box, 2)
    assert piece.shape == (h, w, 3)
    assert np.array_equal(piece, half[y:y + h, x:x + w])
    bx, by, bw, bh = box  # it covers the box, clipped to the picture
    assert 2 * x <= max(bx, 0) and 2 * y <= max(by, 0)
    assert 2 * (x + w) >= min(bx + bw, 3840) and 2 * (y + h) >= min(by + bh, 2160)


def test_a_patch_outside_the_picture_is_empty_and_a_factor_must_be_a_power_of_two(astronaut):
    frame = Frame(textured(1920, 1080, astronaut), 0.0, 0)
    piece, (_, _, w, h) = frame.patch((5000, 100, 50, 50), 2)
    assert piece.size == 0 and w == h == 0
    with pytest.raises(ValueError):
        frame.patch((0, 0, 10, 10), 3)


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_tiles_up_to_1080p_are_what_one_reduction_gives(astronaut, width, height):
    frame = Frame(textured(width, height, astronaut), 0.0, 0)
    meter = SharpnessMeter()
    tiles = meter.measure(frame.image, overview=frame.overview()).tiles
    np.testing.assert_allclose(tiles, one_step_tiles(frame.image, meter), rtol=1e-9)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    ranks_a, ranks_b = (np.argsort(np.argsort(v.ravel())) for v in (a, b))
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


def test_4k_tiles_come_from_the_overview_and_fall_with_blur_as_one_area_reduction_does(astronaut):
    image = textured(3840, 2160, astronaut)
    meter = SharpnessMeter()
    box = (1000, 500, 400, 400)
    shared = meter.measure(image, [box], Frame(image, 0.0, 0).overview())
    own = SharpnessMeter().measure(image, [box])
    np.testing.assert_array_equal(shared.tiles, own.tiles)  # with or without a frame to share from
    assert shared.boxes == own.boxes  # boxes are measured on the full picture either way
    assert shared.laplacian.shape == (540, 960) and shared.tile_size == (240.0, 240.0)
    # The bilinear 4:1 step keeps some detail an area average removes: sharp tiles read up to about twice as
    # sharp, blurred ones the same, and the tiles keep their order. The labels read changes over time, so what
    # matters is that sharpness falls with blur at least as steeply.
    means, area_means = [], []
    for sigma in (0.0, 1.0, 2.0, 4.0, 8.0):
        blurred = image if sigma == 0 else cv2.GaussianBlur(image, (0, 0), sigma)
        tiles = meter.measure(blurred, overview=Frame(blurred, 0.0, 0).overview()).tiles
        area = one_step_tiles(blurred, meter)
        ratio = tiles / area
        assert rank_correlation(tiles, area) >= 0.95
        assert 1.0 <= ratio.min() and ratio.max() <= 2.2
        means.append(tiles.mean())
        area_means.append(area.mean())
    assert all(b < a for a, b in zip(means, means[1:]))
    assert means[0] / means[-1] >= area_means[0] / area_means[-1]
    assert means[-1] / area_means[-1] < 1.05


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
def test_new_faces_are_searched_on_the_overview_and_reported_in_frame_pixels(width, height):
    detector = RecordingDetector()
    stage = SubjectTracker({"short": detector, "full": detector}, Tracker(), 60.0)
    observed = []
    track = stage.tracker.update
    stage.tracker.update = lambda observation: observed.append(observation) or track(observation)
    frame = Frame(np.zeros((height, width, 3), np.uint8), 0.0, 0)
    stage.update(frame)
    assert stage.last_search.model == "full"
    (image, region), = detector.seen
    overview, factor = frame.overview()
    searched = stage.last_search.region
    assert image is overview  # the frame itself up to 1920 wide
    assert region == reduced_box(searched, factor)
    (face,) = observed[0].detections
    x, y, w, h = searched
    assert face.box == pytest.approx((x + w / 4, y + h / 4, w / 8, w / 8), abs=factor)


def test_a_4k_search_around_a_tracked_face_reads_only_its_crop_at_half_size():
    detector = RecordingDetector()
    stage = SubjectTracker({"short": detector, "full": detector}, Tracker(), 60.0)
    image = np.zeros((2160, 3840, 3), np.uint8)
    image[1000:1400, 2000:2400] = 200  # something to see where the patch came from
    crop = (1700, 900, 1000, 600)
    found = stage._detect("short", Frame(image, 0.0, 0), crop)
    (patch, region), = detector.seen
    assert patch.shape == (300, 500, 3) and region == (0, 0, 500, 300)
    assert patch[50:250, 150:350].min() == 200 and patch[:40].max() == 0  # the crop's content, halved
    (face,) = found  # the recording detector's face at a quarter of the patch, in frame pixels
    assert face.box == pytest.approx((1700 + 2 * 125, 900 + 2 * 75, 2 * 62.5, 2 * 62.5))


def test_4k_blur_widths_are_read_on_halved_patches_and_agree_beyond_a_pixel(astronaut):
    image = textured(3840, 2160, astronaut)
    meter = BlurMeter()
    box = (1000, 500, 400, 400)
    for sigma in (4.0, 8.0):
        blurred = cv2.GaussianBlur(image, (0, 0), sigma)
        full, = meter.measure(blurred, [box])
        halved, = meter.measure_frame(Frame(blurred, 0.0, 0), [box])
        assert halved == pytest.approx(full, rel=0.05)
    # At the sharp end a halved patch cannot see below about one 4K pixel (half a pixel of the patch).
    full, = meter.measure(image, [box])
    halved, = meter.measure_frame(Frame(image, 0.0, 0), [box])
    assert full < 0.8 and 0.8 < halved < 1.4
    small = Frame(cv2.resize(image, (1920, 1080), interpolation=cv2.INTER_AREA), 0.0, 0)
    assert meter.measure_frame(small, [(500, 250, 200, 200)]) == meter.measure(small.image, [(500, 250, 200, 200)])


def test_a_detection_scales_with_its_keypoints():
    d = Detection((10.0, 20.0, 30.0, 30.0), 0.8, ((12.0, 25.0), (30.0, 25.0)))
    assert d.scaled(1) is d
    big = d.scaled(2)
    assert big.box == (20.0, 40.0, 60.0, 60.0) and big.keypoints == ((24.0, 50.0), (60.0, 50.0))
    assert big.score == 0.8 and big.plausible == d.plausible
