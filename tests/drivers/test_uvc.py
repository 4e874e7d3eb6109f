"""The UVC webcam driver against fake captures shaped like real firmware quirks.

This machine has no camera, so the capture (and, for the range query, the
ioctl call) are stand-ins; everything else is the real code path.
"""

from __future__ import annotations

import logging
import struct
import sys

import cv2
import numpy as np
import pytest

from assistant import devices
from assistant.drivers import uvc
from assistant.drivers.base import FocusDriver
from assistant.drivers.uvc import (
    V4L2_CID_FOCUS_ABSOLUTE,
    V4L2_CID_FOCUS_AUTO,
    VIDIOC_G_CTRL,
    VIDIOC_QUERYCTRL,
    FocusedCapture,
    UvcFocusDriver,
    focus_controls,
    pack_queryctrl,
    query_control,
    unpack_queryctrl,
)
from assistant.errors import ConfigError, DriverFault

AF, FOCUS = cv2.CAP_PROP_AUTOFOCUS, cv2.CAP_PROP_FOCUS


class FakeCamera:
    """A cv2.VideoCapture stand-in with the quirks real UVC firmware has.

    - autofocus starts on; while it is on, CAP_PROP_FOCUS is ignored;
    - ``firmware_step``: the camera rounds focus to its own step, silently;
    - ``ignores_set``: focus never changes whatever is set (read-back stuck);
    - ``has_focus`` / ``has_autofocus`` False: get() returns -1, set() False;
    - ``sticky_autofocus``: refuses to turn autofocus off;
    - ``resets_on_stream``: the first read() turns autofocus back on and
      returns focus to its default, as some cameras do at stream start.
    A new FakeCamera is a reconnect: it remembers nothing.
    """

    def __init__(self, *, focus=0.0, autofocus=True, lo=0, hi=255, firmware_step=1, ignores_set=False,
                 has_focus=True, has_autofocus=True, sticky_autofocus=False, resets_on_stream=False):
        self.default = focus
        self.focus = focus
        self.autofocus = autofocus
        self.lo, self.hi, self.firmware_step = lo, hi, firmware_step
        self.ignores_set = ignores_set
        self.has_focus, self.has_autofocus = has_focus, has_autofocus
        self.sticky_autofocus = sticky_autofocus
        self.resets_on_stream = resets_on_stream
        self.calls: list[tuple] = []
        self.reads = 0
        self.released = False

    def isOpened(self):
        return not self.released

    def set(self, prop, value):
        self.calls.append(("set", prop, value))
        if prop == AF:
            if not self.has_autofocus:
                return False
            if not self.sticky_autofocus:
                self.autofocus = bool(value)
            return True
        if prop == FOCUS:
            if not self.has_focus:
                return False
            if self.autofocus or self.ignores_set:
                return True  # accepted, and silently ignored
            snapped = self.lo + round((value - self.lo) / self.firmware_step) * self.firmware_step
            self.focus = float(min(self.hi, max(self.lo, snapped)))
            return True
        return False

    def get(self, prop):
        self.calls.append(("get", prop))
        if prop == AF:
            return float(self.autofocus) if self.has_autofocus else -1.0
        if prop == FOCUS:
            return self.focus if self.has_focus else -1.0
        return -1.0

    def read(self):
        self.reads += 1
        if self.reads == 1 and self.resets_on_stream:
            self.autofocus, self.focus = True, self.default
        return True, np.zeros((4, 4, 3), np.uint8)

    def release(self):
        self.released = True

    def sets(self, prop):
        return [value for kind, p, *rest in self.calls if kind == "set" and p == prop for value in rest]


def fake_ioctl(controls, log=None):
    """An ioctl for a V4L2 node with ``controls``: {id: (min, max, step, default, flags, value)}."""

    def ioctl(fd, request, arg):
        assert isinstance(fd, int) and isinstance(arg, bytes)
        if log is not None:
            log.append((request, len(arg)))
        if request == VIDIOC_QUERYCTRL:
            assert len(arg) == 68
            cid = struct.unpack_from("=I", arg)[0]
            assert arg[4:] == bytes(64)  # the request carries the id only
            if cid not in controls:
                raise OSError(22, "Invalid argument")
            lo, hi, step, default, flags, _ = controls[cid]
            name = {V4L2_CID_FOCUS_ABSOLUTE: b"Focus (absolute)", V4L2_CID_FOCUS_AUTO: b"Focus, Automatic Continuous"}[cid]
            return struct.pack("=II32siiiiI2I", cid, 1, name, lo, hi, step, default, flags, 0, 0)
        if request == VIDIOC_G_CTRL:
            assert len(arg) == 8
            cid = struct.unpack("=Ii", arg)[0]
            if cid not in controls or controls[cid][5] is None:
                raise OSError(22, "Invalid argument")
            return struct.pack("=Ii", cid, controls[cid][5])
        raise OSError(25, "Inappropriate ioctl for device")

    return ioctl


C920 = {V4L2_CID_FOCUS_ABSOLUTE: (0, 255, 5, 0, 0, 0), V4L2_CID_FOCUS_AUTO: (0, 1, 1, 1, 0, 1)}
FINE = {V4L2_CID_FOCUS_ABSOLUTE: (0, 1023, 1, 68, 0, 68), V4L2_CID_FOCUS_AUTO: (0, 1, 1, 1, 0, 0)}


@pytest.fixture
def node(tmp_path):
    """A file standing in for /dev/video0: os.open works, the ioctl is faked."""
    path = tmp_path / "video0"
    path.write_bytes(b"")
    return path


# -- struct v4l2_queryctrl and the ioctl numbers ---------------------------------

def test_ioctl_request_numbers_match_the_kernel_headers():
    assert VIDIOC_QUERYCTRL == 0xC0445624
    assert VIDIOC_G_CTRL == 0xC008561B
    assert uvc.QUERYCTRL.size == 68 and uvc.CONTROL.size == 8


def test_queryctrl_packs_the_id_and_unpacks_signed_fields_and_the_name():
    request = pack_queryctrl(V4L2_CID_FOCUS_ABSOLUTE)
    assert len(request) == 68
    assert request[:4] == (0x009A090A).to_bytes(4, sys.byteorder)
    assert request[4:] == bytes(64)
    filled = struct.pack("=II32siiiiI2I", V4L2_CID_FOCUS_ABSOLUTE, 1, b"Focus (absolute)\0junk", -10, 1023, 4, 68, 0x10, 0, 0)
    info = unpack_queryctrl(filled)
    assert (info.id, info.type, info.name) == (V4L2_CID_FOCUS_ABSOLUTE, 1, "Focus (absolute)")
    assert (info.minimum, info.maximum, info.step, info.default, info.flags) == (-10, 1023, 4, 68, 0x10)
    assert not info.disabled
    assert unpack_queryctrl(bytearray(filled)) == info


def test_query_control_through_an_injected_ioctl(node):
    calls = []
    ioctl = fake_ioctl(C920, calls)
    info = query_control(7, V4L2_CID_FOCUS_ABSOLUTE, ioctl)
    assert (info.minimum, info.maximum, info.step, info.default) == (0, 255, 5, 0)
    assert calls == [(0xC0445624, 68)]
    assert query_control(7, 0x009A090B, ioctl) is None                      # no such control: EINVAL
    disabled = {V4L2_CID_FOCUS_ABSOLUTE: (0, 255, 5, 0, 0x0001, 0)}
    assert query_control(7, V4L2_CID_FOCUS_ABSOLUTE, fake_ioctl(disabled)) is None
    assert uvc.get_control(7, V4L2_CID_FOCUS_AUTO, ioctl) == 1
    assert uvc.get_control(7, V4L2_CID_FOCUS_ABSOLUTE, fake_ioctl({})) is None


def test_a_real_ioctl_on_a_file_that_is_not_a_camera_says_nothing(node, tmp_path):
    assert focus_controls(node) is None                      # ENOTTY from the kernel
    assert focus_controls(tmp_path / "video9") is None       # no such node
    assert uvc.device_node(3) == uvc.device_node("3") == uvc.Path("/dev/video3")
    assert uvc.device_node("/dev/v4l/by-id/cam") == uvc.Path("/dev/v4l/by-id/cam")


# -- focus_controls and the devices listing ------------------------------------

def test_focus_controls_describes_range_step_and_autofocus(node):
    assert focus_controls(node, fake_ioctl(C920)) == "focus 0..255 step 5 (autofocus: on)"
    assert focus_controls(node, fake_ioctl(FINE)) == "focus 0..1023 step 1 (autofocus: off)"
    no_auto = {V4L2_CID_FOCUS_ABSOLUTE: (10, 200, 0, 10, 0, 10)}  # a step of 0 is read as 1
    assert focus_controls(node, fake_ioctl(no_auto)) == "focus 10..200 step 1 (no autofocus control)"
    unreadable = {**C920, V4L2_CID_FOCUS_AUTO: (0, 1, 1, 1, 0, None)}
    assert focus_controls(node, fake_ioctl(unreadable)) == "focus 0..255 step 5 (autofocus: unknown)"
    assert focus_controls(node, fake_ioctl({V4L2_CID_FOCUS_AUTO: (0, 1, 1, 1, 0, 1)})) is None
    assert focus_controls(node, fake_ioctl({V4L2_CID_FOCUS_ABSOLUTE: (5, 5, 1, 5, 0, 5)})) is None


def test_devices_appends_the_focus_range_to_each_camera_line(tmp_path, monkeypatch):
    root = tmp_path / "root"
    for name, label in (("video0", "HD Pro Webcam C920"), ("video1", "HD Pro Webcam C920")):
        (root / "dev").mkdir(parents=True, exist_ok=True)
        (root / "dev" / name).write_bytes(b"")
        (root / "sys/class/video4linux" / name).mkdir(parents=True)
        (root / "sys/class/video4linux" / name / "name").write_text(label + "\n")
    monkeypatch.setattr(devices, "Path", lambda text: root / str(text).lstrip("/"))
    # video0 is the camera; video1 is its metadata node, which has no controls
    answers = {"video0": fake_ioctl(C920), "video1": fake_ioctl({})}
    monkeypatch.setattr(devices, "focus_controls", lambda node: focus_controls(node, answers[node.name]))
    assert devices._cameras() == [
        f"  {root}/dev/video0  HD Pro Webcam C920  focus 0..255 step 5 (autofocus: on)",
        f"  {root}/dev/video1  HD Pro Webcam C920",
    ]


def test_devices_still_lists_no_cameras_on_this_machine():
    lines = devices._cameras()
    if not list(devices.Path("/dev").glob("video*")):
        assert lines == ["  none found (no /dev/video* devices)"]
    assert devices.describe_devices().startswith("Cameras:\n")


# -- the driver -------------------------------------------------------------------

def test_autofocus_goes_off_before_any_focus_is_set_and_focus_then_takes(node):
    camera = FakeCamera(autofocus=True, focus=68, hi=1023)
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(FINE))
    assert isinstance(driver, FocusDriver)
    assert driver.range_source == "device" and driver.description == f"UVC focus {node}"
    assert driver.capabilities.units == "uvc"
    assert driver.capabilities.limits == (0.0, 1023.0)
    assert driver.capabilities.resolution == 1.0
    assert driver.capabilities.reports_position is True
    assert camera.autofocus is False
    driver.move_to(300)
    driver.move_to(512.4)
    assert camera.focus == 512.0
    first_focus = next(i for i, c in enumerate(camera.calls) if c[:2] == ("set", FOCUS))
    assert ("set", AF, 0) in camera.calls[:first_focus]
    assert camera.sets(FOCUS) == [300.0, 512.0]
    assert driver.position() == 512.0
    assert driver.warnings == []


def test_values_are_clamped_and_snapped_to_the_device_step(node):
    camera = FakeCamera(firmware_step=5)
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))
    assert driver.capabilities.limits == (0.0, 255.0) and driver.capabilities.resolution == 5.0
    for command, expected in ((123, 125.0), (122.4, 120.0), (-40, 0.0), (254, 255.0), (999, 255.0), (2.4, 0.0)):
        driver.move_to(command)
        assert camera.focus == expected, command
    assert camera.sets(FOCUS) == [125.0, 120.0, 0.0, 255.0, 0.0]  # 999 -> 255, already set: not resent
    assert driver.snap(7.5) == 10.0 and driver.snap(252) == 250.0
    assert driver.warnings == []


def test_snapping_a_range_that_is_not_a_whole_number_of_steps_stays_inside():
    driver = UvcFocusDriver(fallback_range=(0, 252, 5))
    assert driver.snap(252) == 250.0 and driver.snap(251) == 250.0 and driver.snap(249) == 250.0


def test_a_camera_that_snaps_silently_to_step_5_when_the_range_is_unknown(node, caplog):
    camera = FakeCamera(firmware_step=5)
    with caplog.at_level(logging.WARNING, logger="assistant.drivers.uvc"):
        driver = UvcFocusDriver(camera, node, fallback_range=(0, 255, 1), ioctl=fake_ioctl({}))
        assert driver.range_source == "fallback"
        assert driver.capabilities.limits == (0.0, 255.0) and driver.capabilities.resolution == 1.0
        driver.move_to(11)    # firmware: 10, one step away: fine
        assert len(driver.warnings) == 1 and "0..255 step 1" in driver.warnings[0]
        driver.move_to(13)    # firmware: 15, two steps away: the firmware did not take 13
        driver.move_to(12)    # firmware: 10
        driver.move_to(18)    # firmware: 20
    assert camera.focus == 20.0
    assert driver.position() == 20.0      # the camera's own value, not the command
    assert driver.ignored_count == 3
    assert len(driver.warnings) == 2       # fallback range, then ignored: each once
    assert "ignored focus 13 (reads back 15)" in driver.warnings[1]
    assert driver.capabilities.reports_position is True  # read-back follows, just coarser
    assert [r.getMessage() for r in caplog.records] == driver.warnings


def test_a_camera_that_ignores_set_entirely_stops_reporting_position(node):
    camera = FakeCamera(focus=40.0, autofocus=False, ignores_set=True)
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))
    assert driver.capabilities.reports_position is True    # cannot know yet
    driver.move_to(100)
    assert "ignored focus 100 (reads back 40)" in driver.warnings[0]
    driver.move_to(200)
    assert camera.focus == 40.0
    assert driver.ignored_count == 2
    assert driver.capabilities.reports_position is False
    assert any("never follows" in w for w in driver.warnings)
    assert driver.position() == 200.0      # an echo of the command now
    driver.move_to(150)
    assert len(driver.warnings) == 2       # no flood


def test_a_camera_that_keeps_autofocus_on_is_warned_about(node):
    camera = FakeCamera(autofocus=True, sticky_autofocus=True, focus=30.0)
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))
    assert camera.autofocus is True
    assert "kept continuous autofocus on" in driver.warnings[0]
    assert "focus_automatic_continuous=0" in driver.warnings[0]
    driver.move_to(100)
    driver.move_to(200)
    assert driver.capabilities.reports_position is False


def test_get_returning_minus_one_means_no_read_back_and_no_autofocus(node):
    camera = FakeCamera(has_focus=True, has_autofocus=False, autofocus=False)
    camera.get = lambda prop: -1.0  # this firmware answers nothing
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))
    assert driver.capabilities.reports_position is False
    assert len(driver.warnings) == 1 and "does not report its focus" in driver.warnings[0]
    driver.move_to(61)
    assert camera.focus == 60.0
    assert driver.position() == 60.0       # the last command, snapped
    assert driver.ignored_count == 0


def test_a_camera_without_a_focus_motor_refuses_and_says_so(node):
    camera = FakeCamera(has_focus=False, has_autofocus=False)
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl({}))
    driver.move_to(50)
    assert any("refused focus 50" in w for w in driver.warnings)
    assert driver.capabilities.reports_position is False
    assert all("\n" not in w for w in driver.warnings)


def test_apply_restores_autofocus_off_and_the_focus_after_a_reconnect(node):
    first = FakeCamera()
    driver = UvcFocusDriver(first, node, ioctl=fake_ioctl(C920))
    driver.move_to(80)
    assert (first.autofocus, first.focus) == (False, 80.0)
    first.release()                                    # the cable drops out ...
    driver.move_to(90)                                 # ... the engine keeps commanding: remembered
    assert first.sets(FOCUS) == [80.0]
    second = FakeCamera(autofocus=True, focus=0.0)    # a reconnect: the camera forgot everything
    assert driver.apply(second) is second
    assert (second.autofocus, second.focus) == (False, 90.0)
    driver.move_to(90)                                 # already applied to this capture: not resent
    assert second.sets(FOCUS) == [90.0]
    driver.move_to(95)
    assert (second.focus, first.focus) == (95.0, 80.0)
    assert driver.warnings == []


def test_a_driver_made_before_the_camera_opens_applies_its_focus_on_attach(node):
    driver = UvcFocusDriver(device=node, ioctl=fake_ioctl(C920))
    assert driver.capabilities.reports_position is False and driver.position() is None
    driver.move_to(42)                                  # snapped to 40, remembered
    assert driver.position() == 40.0
    camera = FakeCamera()
    driver.apply(camera)
    assert (camera.autofocus, camera.focus) == (False, 40.0)
    assert driver.capabilities.reports_position is True


def test_wrap_factory_reapplies_after_the_stream_starts_and_on_every_reopen(node):
    opened = []

    def factory():
        opened.append(FakeCamera(autofocus=True, focus=0.0, resets_on_stream=True))
        return opened[-1]

    driver = UvcFocusDriver(device=node, ioctl=fake_ioctl(C920))
    driver.move_to(120)
    make = driver.wrap_factory(factory)
    capture = make()
    assert isinstance(capture, FocusedCapture) and capture.isOpened()
    assert (opened[0].autofocus, opened[0].focus) == (False, 120.0)
    ok, _ = capture.read()                               # stream starts: firmware resets its controls
    assert ok and (opened[0].autofocus, opened[0].focus) == (False, 120.0)
    capture.read()
    assert opened[0].sets(FOCUS) == [120.0, 120.0]       # once on open, once after the first frame
    capture.release()
    assert opened[0].released
    again = make()                                       # the grabber reopens after a dropout
    again.read()
    assert (opened[1].autofocus, opened[1].focus) == (False, 120.0)
    driver.move_to(200)
    assert (opened[1].focus, opened[0].focus) == (200.0, 120.0)


def test_stop_is_a_hold_and_close_leaves_the_capture_to_its_owner(node):
    camera = FakeCamera()
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))
    driver.move_to(100)
    calls = len(camera.calls)
    driver.stop()
    assert len(camera.calls) == calls and camera.focus == 100.0
    driver.close()
    assert not camera.released
    assert driver.apply(FakeCamera()).autofocus is True  # closed: no longer drives anything
    with pytest.raises(DriverFault, match="closed"):
        driver.move_to(10)


def test_an_opencv_error_from_the_camera_is_a_driver_fault(node):
    camera = FakeCamera()
    driver = UvcFocusDriver(camera, node, ioctl=fake_ioctl(C920))

    def broken(prop, value):
        raise cv2.error("VIDIOC_S_CTRL: No such device")

    camera.set = broken
    with pytest.raises(DriverFault, match="still connected"):
        driver.move_to(50)


def test_non_finite_commands_are_refused():
    driver = UvcFocusDriver()
    with pytest.raises(ValueError, match="finite"):
        driver.move_to(float("inf"))


# -- the fallback range -----------------------------------------------------------

def test_without_a_device_node_the_fallback_range_is_used_and_said(caplog):
    with caplog.at_level(logging.WARNING, logger="assistant.drivers.uvc"):
        driver = UvcFocusDriver(FakeCamera())
    assert driver.range_source == "fallback"
    assert driver.capabilities.limits == (0.0, 250.0) and driver.capabilities.resolution == 5.0
    assert driver.warnings == [
        ("UVC focus: no camera device node was given; using the configured range 0..250 step 5 "
         "(check it with 'v4l2-ctl -d /dev/videoN -l')"),
    ]
    assert caplog.records[0].levelno == logging.WARNING


def test_a_node_that_does_not_answer_falls_back_to_the_configured_range(node):
    driver = UvcFocusDriver(device=node, fallback_range=(0, 40, 1))   # the real ioctl: ENOTTY
    assert driver.range_source == "fallback"
    assert driver.capabilities.limits == (0.0, 40.0) and driver.step == 1.0
    assert f"{node} did not report its focus range" in driver.warnings[0]
    assert f"v4l2-ctl -d {node} -l" in driver.warnings[0]
    degenerate = {V4L2_CID_FOCUS_ABSOLUTE: (0, 0, 1, 0, 0, 0)}
    assert UvcFocusDriver(device=node, ioctl=fake_ioctl(degenerate)).range_source == "fallback"


def test_the_device_range_wins_over_the_fallback(node):
    driver = UvcFocusDriver(device=node, fallback_range=(0, 40, 1), ioctl=fake_ioctl(FINE))
    assert driver.capabilities.limits == (0.0, 1023.0) and driver.warnings == []


@pytest.mark.parametrize("fallback", [(0, 250), (250, 0, 5), (0, 250, 0), (0, 10, 20), ("a", 1, 1), (0, float("inf"), 1)])
def test_a_bad_fallback_range_is_a_config_error(fallback):
    with pytest.raises(ConfigError, match=r"e\.g\. \(0, 250, 5\)"):
        UvcFocusDriver(fallback_range=fallback)


def test_opencv_normalized_ranges_are_warned_about(monkeypatch):
    monkeypatch.setenv("OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED", "1")
    driver = UvcFocusDriver()
    assert any("OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED" in w for w in driver.warnings)
