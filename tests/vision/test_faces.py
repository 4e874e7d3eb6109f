"""The real MediaPipe face detector on shipped photographs and on rig frames."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import ModelMissing
from assistant.sim.assets import AssetLibrary
from assistant.sim.renderer import Renderer
from assistant.sim.scene import LayerSpec, Scene
from assistant.vision.faces import MediaPipeFaceDetector
from models.extract_models import check as check_models


def test_shipped_models_match_their_checksums():
    assert check_models() == []


@pytest.mark.parametrize("asset", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize("model", ["short", "full"])
def test_finds_the_face_in_a_shipped_photograph(detectors, asset, model):
    library = AssetLibrary()
    info = library.infos[asset]
    image = np.clip(library.get(asset).rgba[..., :3] / np.maximum(library.get(asset).rgba[..., 3:], 1e-3), 0, 255)
    image = image.astype(np.uint8)
    h, w = image.shape[:2]
    found = detectors[model].detect(image, (0, 0, w, h))
    assert len(found) == 1
    face = found[0]
    fx, fy, fw, fh = info.face_box
    cx, cy = face.centre
    assert fx <= cx <= fx + fw and fy <= cy <= fy + fh
    assert face.box[2] == pytest.approx(fw, rel=0.2)
    assert face.score > 0.7 and len(face.keypoints) == 6
    (rx, ry), (lx, ly) = face.keypoints[:2]
    assert rx < lx  # the subject's right eye is on the picture's left
    assert face.eye_distance_px == pytest.approx(0.063 / info.metres_per_pixel, rel=0.1)


def small_face_frame(distance_m: float) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    scene = Scene(name="far", noise_sigma=1.0, layers=(
        LayerSpec(name="wall", asset="gravel", distance_m=9.0, fill=True),
        LayerSpec(name="p", asset="astronaut", distance_m=distance_m, x=0.62, y=0.4),
    ))
    image, truth = Renderer(scene).render(0.0, 1.0 / distance_m)
    return image, next(t.face_box for t in truth if t.face_box)


def test_a_face_under_60_px_is_found_in_a_crop_but_not_by_the_short_model_on_the_whole_frame(detectors):
    image, face = small_face_frame(5.0)  # about 48 px wide in 1280x720 at 40 degrees
    assert face[2] < 60
    assert detectors["short"].detect(image, (0, 0, 1280, 720)) == ()
    x, y, w, h = face
    crop = (x + w // 2 - 2 * w, y + h // 2 - 2 * w, 4 * w, 4 * w)
    found = detectors["short"].detect(image, crop)
    assert len(found) == 1
    cx, cy = found[0].centre
    assert x <= cx <= x + w and y <= cy <= y + h  # mapped back to frame coordinates


def test_detections_come_back_in_frame_coordinates_for_any_region(detectors):
    image, face = small_face_frame(2.0)
    whole = detectors["full"].detect(image, (0, 0, 1280, 720))
    tile = detectors["full"].detect(image, (400, 0, 880, 500))
    assert len(whole) == 1 and len(tile) == 1
    assert np.allclose(whole[0].centre, tile[0].centre, atol=0.1 * face[2])


def test_missing_model_says_how_to_restore_it(tmp_path):
    with pytest.raises(ModelMissing, match="extract_models.py"):
        MediaPipeFaceDetector("short", models_dir=tmp_path)
