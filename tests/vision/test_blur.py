"""The blur width on real photographs: texture-independent, directional, monotonic in defocus."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from assistant.sim.blur import disk_kernel
from assistant.vision.blur import MAX_SIGMA_PX, BlurMeter, edge_blur_sigma

DIAMETERS = [0, 2, 4, 6, 8]


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def disk(image: np.ndarray, diameter: float) -> np.ndarray:
    if diameter < 1:
        return image
    return cv2.filter2D(image, -1, disk_kernel(diameter), borderType=cv2.BORDER_REFLECT)


def line(image: np.ndarray, length: int) -> np.ndarray:
    """Motion blur: a horizontal line kernel (the subject crossed the frame during the exposure)."""
    kernel = np.full((1, length), 1.0 / length, np.float32)
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT)


@pytest.mark.parametrize("name", ["astronaut", "hopper"])
def test_blur_width_grows_with_the_defocus_disk(name, request):
    face = grey(request.getfixturevalue(name))[100:400, 100:400]
    widths = [edge_blur_sigma(disk(face, d)) for d in DIAMETERS]
    assert all(a < b for a, b in zip(widths, widths[1:])), widths
    # a disk of D px is a Gaussian of about D / 4: by 8 px the photograph's own softness no longer dominates
    assert widths[-1] - widths[0] > 1.0, widths


def test_two_photographs_with_different_texture_read_alike_at_the_same_blur(astronaut, hopper):
    """Sharpness (variance of the Laplacian) differs several times between them; the width barely."""
    a, b = grey(astronaut)[150:350, 150:350], grey(hopper)[150:350, 150:350]
    for d in (4, 8):
        wa, wb = edge_blur_sigma(disk(a, d)), edge_blur_sigma(disk(b, d))
        assert abs(wa - wb) < 0.35 * max(wa, wb), (d, wa, wb)


def test_motion_blur_along_one_direction_does_not_read_as_defocus(astronaut):
    face = grey(astronaut)[100:400, 100:400]
    sharp = edge_blur_sigma(face)
    # 12 px per frame at a 180 degree shutter: a 6 px streak, read as much less blur than a 4 px disk
    moving = edge_blur_sigma(line(face, 6))
    defocused = edge_blur_sigma(disk(face, 4))
    assert moving < sharp + 0.2 < defocused - 0.2
    # and diagonally too: a 6 px streak at 45 degrees
    diagonal = edge_blur_sigma(cv2.filter2D(face, -1, np.eye(4, dtype=np.float32) / 4))
    assert diagonal < defocused - 0.2


def test_a_flat_region_reads_as_blurred_beyond_measure():
    assert edge_blur_sigma(np.full((40, 40), 128, np.uint8)) == MAX_SIGMA_PX
    assert edge_blur_sigma(np.zeros((5, 40), np.uint8)) == MAX_SIGMA_PX


def test_the_meter_reads_each_box_of_a_frame_and_calls_a_sliver_unmeasurable(astronaut):
    frame = np.ascontiguousarray(np.concatenate([astronaut, disk(astronaut, 8)], axis=1))
    sharp, soft, sliver = BlurMeter().measure(frame, [(100, 100, 300, 300), (612, 100, 300, 300), (10, 10, 2, 50)])
    assert sharp == pytest.approx(edge_blur_sigma(grey(frame[99:401, 99:401])))
    assert soft > sharp + 1.0
    assert sliver == MAX_SIGMA_PX
