"""Camera opening: stable names, MJPG before resolution, the real format read back."""

from __future__ import annotations

from pathlib import Path

import cv2

from assistant.capture.camera import describe_format, request_format, stable_node
from assistant.config import SourceConfig


def test_a_camera_is_reopened_by_its_by_id_name(tmp_path: Path):
    node = tmp_path / "video2"
    node.write_text("")
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-Acme_Cam_123-video-index1").symlink_to(node)
    (by_id / "usb-Acme_Cam_123-video-index0").symlink_to(node)
    assert stable_node(str(node), by_id) == str(by_id / "usb-Acme_Cam_123-video-index0")
    other = tmp_path / "video4"
    other.write_text("")
    assert stable_node(str(other), by_id) == str(other)  # no stable name: the node itself
    assert stable_node("7", tmp_path / "missing") == "7"  # no /dev/video7 here: open by index


class UvcLike:
    """Records the order of set() calls; gives 1280x720 MJPG whatever is asked, like many webcams."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.values = {cv2.CAP_PROP_FRAME_WIDTH: 640.0, cv2.CAP_PROP_FRAME_HEIGHT: 480.0, cv2.CAP_PROP_FPS: 30.0,
                       cv2.CAP_PROP_FOURCC: float(cv2.VideoWriter_fourcc(*"YUYV"))}

    def set(self, prop, value):
        self.calls.append(prop)
        if prop == cv2.CAP_PROP_FOURCC:
            self.values[prop] = float(value)
        elif prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT):  # the closest mode it has
            self.values[cv2.CAP_PROP_FRAME_WIDTH], self.values[cv2.CAP_PROP_FRAME_HEIGHT] = 1280.0, 720.0
        return True

    def get(self, prop):
        return self.values.get(prop, 0.0)


def test_mjpg_is_asked_for_before_the_size_and_the_real_format_is_reported():
    camera = UvcLike()
    delivered = request_format(camera, SourceConfig(width=1920, height=1080, fps=30.0))
    assert camera.calls[0] == cv2.CAP_PROP_FOURCC
    assert camera.calls.index(cv2.CAP_PROP_FOURCC) < camera.calls.index(cv2.CAP_PROP_FRAME_WIDTH)
    assert delivered == "1280x720 MJPG 30 fps (asked for 1920x1080; the camera chose this)"
    assert describe_format(camera) == "1280x720 MJPG 30 fps"
