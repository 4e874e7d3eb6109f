"""A USB webcam's own focus motor, through the ``cv2.VideoCapture`` the app reads.

Native units are the camera's ``focus_absolute`` steps (``units == "uvc"``).
The range and step come from the device node with the V4L2 ioctl
``VIDIOC_QUERYCTRL``; when that is not possible (no node given, not Linux, a
driver that does not answer) a configured fallback range is used and a
warning says so. Commands are clamped to the range and snapped to the step.

Continuous autofocus is switched off before any focus is set (the auto
control is V4L2_CID_FOCUS_AUTO, called ``focus_automatic_continuous`` since
Linux 5.16; the id is the same). After each set the driver reads the value
back and warns when the firmware did not take it (read-back more than one
step away). A camera whose read-back never follows the commands has
``capabilities.reports_position`` turned off and ``position()`` then echoes
the last command.

Warnings go two ways: to the ``assistant.drivers.uvc`` logger (WARNING) and
into :attr:`UvcFocusDriver.warnings`, a list of one-line messages the app can
show. Each kind of problem is reported once per driver.

Wiring: UVC cameras forget their controls when they are reopened and some
re-enable autofocus when streaming starts, so the driver must see every
capture the app opens. Either call :meth:`UvcFocusDriver.apply` with each new
capture, or open captures through :meth:`UvcFocusDriver.wrap_factory`, which
applies on open and once more after the first frame (stream started).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from assistant.drivers.base import Capabilities
from assistant.errors import ConfigError, DriverFault

LOG = logging.getLogger(__name__)

V4L2_CID_FOCUS_ABSOLUTE = 0x009A090A
V4L2_CID_FOCUS_AUTO = 0x009A090C  # "focus_automatic_continuous" on Linux 5.16+
V4L2_CTRL_FLAG_DISABLED = 0x0001

# struct v4l2_queryctrl { u32 id; u32 type; u8 name[32]; s32 minimum, maximum,
# step, default_value; u32 flags; u32 reserved[2]; } -- 68 bytes, no padding.
QUERYCTRL = struct.Struct("=II32siiiiI2I")
# struct v4l2_control { u32 id; s32 value; }
CONTROL = struct.Struct("=Ii")


def _iowr(kind: str, number: int, size: int) -> int:
    """Linux ``_IOWR(kind, number, size)`` (the generic encoding: x86, ARM, RISC-V)."""
    return (3 << 30) | (size << 16) | (ord(kind) << 8) | number


VIDIOC_QUERYCTRL = _iowr("V", 36, QUERYCTRL.size)  # 0xC0445624
VIDIOC_G_CTRL = _iowr("V", 27, CONTROL.size)       # 0xC008561B

# Many Logitech webcams: 0..250 in steps of 5. Only used when the device cannot be asked.
DEFAULT_FALLBACK_RANGE = (0.0, 250.0, 5.0)

Ioctl = Callable[[int, int, bytes], bytes]


def system_ioctl(fd: int, request: int, arg: bytes) -> bytes:
    """``fcntl.ioctl``; an OSError where there is none (not Linux), like any device that cannot answer."""
    try:
        import fcntl
    except ImportError as exc:
        raise OSError(f"no ioctl on this platform ({exc})") from exc
    return fcntl.ioctl(fd, request, arg)


@dataclass(frozen=True)
class ControlInfo:
    """One V4L2 control as ``VIDIOC_QUERYCTRL`` describes it."""

    id: int
    type: int
    name: str
    minimum: int
    maximum: int
    step: int
    default: int
    flags: int

    @property
    def disabled(self) -> bool:
        return bool(self.flags & V4L2_CTRL_FLAG_DISABLED)


def pack_queryctrl(control_id: int) -> bytes:
    """The request buffer for ``VIDIOC_QUERYCTRL``: the id set, everything else zero."""
    return QUERYCTRL.pack(control_id, 0, b"", 0, 0, 0, 0, 0, 0, 0)


def unpack_queryctrl(data: bytes) -> ControlInfo:
    """The control the kernel filled in."""
    cid, ctype, name, lo, hi, step, default, flags, _, _ = QUERYCTRL.unpack(bytes(data))
    return ControlInfo(cid, ctype, name.split(b"\0", 1)[0].decode("utf-8", "replace"), lo, hi, step, default, flags)


def query_control(fd: int, control_id: int, ioctl: Ioctl = system_ioctl) -> ControlInfo | None:
    """The control's description, or None when the device has no such (enabled) control."""
    try:
        info = unpack_queryctrl(ioctl(fd, VIDIOC_QUERYCTRL, pack_queryctrl(control_id)))
    except OSError:
        return None
    return None if info.disabled or info.id != control_id else info


def get_control(fd: int, control_id: int, ioctl: Ioctl = system_ioctl) -> int | None:
    """The control's current value, or None when it cannot be read."""
    try:
        _, value = CONTROL.unpack(bytes(ioctl(fd, VIDIOC_G_CTRL, CONTROL.pack(control_id, 0))))
    except OSError:
        return None
    return value


def device_node(device: int | str | os.PathLike[str]) -> Path:
    """``0`` or ``"0"`` -> ``/dev/video0``; a path stays a path."""
    text = str(device)
    return Path(f"/dev/video{text}") if text.isdigit() else Path(text)


@dataclass(frozen=True)
class FocusRange:
    """The focus control of one device node."""

    minimum: int
    maximum: int
    step: int
    autofocus: bool | None  # None: no auto control, or its value cannot be read
    has_autofocus: bool

    def describe(self) -> str:
        if not self.has_autofocus:
            auto = "no autofocus control"
        else:
            auto = "autofocus: " + {True: "on", False: "off", None: "unknown"}[self.autofocus]
        return f"focus {self.minimum}..{self.maximum} step {self.step} ({auto})"


def read_focus_range(device: int | str | os.PathLike[str], ioctl: Ioctl = system_ioctl) -> FocusRange | None:
    """Ask the device node for its focus range, or None when it has no usable focus control."""
    try:
        fd = os.open(device_node(device), os.O_RDWR | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        focus = query_control(fd, V4L2_CID_FOCUS_ABSOLUTE, ioctl)
        if focus is None or focus.maximum <= focus.minimum:
            return None
        auto = query_control(fd, V4L2_CID_FOCUS_AUTO, ioctl)
        state = get_control(fd, V4L2_CID_FOCUS_AUTO, ioctl) if auto is not None else None
    finally:
        os.close(fd)
    return FocusRange(focus.minimum, focus.maximum, max(1, focus.step),
                      None if state is None else bool(state), auto is not None)


def focus_controls(device_path: int | str | os.PathLike[str], ioctl: Ioctl = system_ioctl) -> str | None:
    """One line for ``devices``, e.g. ``focus 0..255 step 5 (autofocus: on)``; None without a focus control."""
    found = read_focus_range(device_path, ioctl)
    return found.describe() if found else None


class UvcFocusDriver:
    """Moves a webcam's focus through ``capture.set(cv2.CAP_PROP_FOCUS, ...)``.

    ``capture`` is the opened ``cv2.VideoCapture`` (or None, to attach later
    with :meth:`apply`); ``device`` is its node (``0`` or ``/dev/video0``) to
    read the focus range from; ``fallback_range`` is ``(min, max, step)``
    used when the node cannot be asked.
    """

    def __init__(self, capture: Any = None, device: int | str | os.PathLike[str] | None = None, *,
                 fallback_range: tuple[float, float, float] = DEFAULT_FALLBACK_RANGE,
                 ioctl: Ioctl = system_ioctl) -> None:
        self.warnings: list[str] = []
        self._warned: set[str] = set()
        self._lock = threading.Lock()
        self.device = None if device is None else device_node(device)
        queried = read_focus_range(self.device, ioctl) if self.device is not None else None
        if queried is not None:
            lo, hi, step = float(queried.minimum), float(queried.maximum), float(queried.step)
            self.range_source = "device"
        else:
            lo, hi, step = _checked_fallback(fallback_range)
            self.range_source = "fallback"
            where = f"{self.device} did not report its focus range" if self.device else "no camera device node was given"
            self._warn("range", f"UVC focus: {where}; using the configured range {lo:g}..{hi:g} step {step:g} "
                                f"(check it with 'v4l2-ctl -d {self.device or '/dev/videoN'} -l')")
        if os.environ.get("OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED", "").strip().lower() in ("1", "true", "on", "yes"):
            self._warn("normalized", "UVC focus: OPENCV_VIDEOIO_V4L_RANGE_NORMALIZED is set, so OpenCV scales "
                                     "controls to 0..1 and focus steps will be wrong; unset it")
        self.step = step
        self.capabilities = Capabilities(units="uvc", limits=(lo, hi), resolution=step, reports_position=False)
        self._capture: Any = None
        self._target: float | None = None   # last command, snapped
        self._applied: float | None = None  # value set on the current capture
        self._readable = False               # read-back returns a value at all
        self._follows = True                 # ... and it follows the commands (once False, stays False)
        self._opened_at: float | None = None # read-back when the current capture was applied
        self._moved = False                  # read-back changed or matched a command since then
        self._misses = 0                     # commands the current capture did not take
        self.ignored_count = 0               # commands the camera did not take, all captures
        self._closed = False
        if capture is not None:
            self.apply(capture)

    @property
    def description(self) -> str:
        return f"UVC focus {self.device}" if self.device else "UVC focus"

    # -- wiring -----------------------------------------------------------

    def apply(self, capture: Any) -> Any:
        """Make ``capture`` the one to drive: autofocus off, then the last focus again.

        Call it with every capture the app opens (first open, reopen after a
        dropout) and once the stream has started. Returns ``capture``.
        """
        with self._lock:
            if self._closed:
                return capture
            self._capture = capture
            self._applied = None
            self._disable_autofocus(capture)
            self._opened_at = self._read(capture)
            self._readable = self._opened_at is not None
            self._moved = False
            self._misses = 0
            if self._target is not None:
                self._set(capture, self._target)
            self._update_capabilities()
        return capture

    def wrap_factory(self, factory: Callable[[], Any]) -> Callable[[], Any]:
        """A capture factory whose captures are applied on open and after their first frame."""

        def opened() -> Any:
            capture = factory()
            if capture is None:
                return None
            if capture.isOpened():
                self.apply(capture)
            return FocusedCapture(capture, self)

        return opened

    # -- FocusDriver --------------------------------------------------------

    def snap(self, native: float) -> float:
        """``native`` clamped to the range and rounded to the device step."""
        lo, hi = self.capabilities.limits
        steps = round((self.capabilities.clamp(native) - lo) / self.step)
        value = lo + steps * self.step
        return value - self.step if value > hi else value

    def move_to(self, native: float) -> None:
        """Set the focus to ``native`` steps (snapped); remembered for the next :meth:`apply`.

        While the capture is closed (a dropout) the value is only remembered.
        """
        if not math.isfinite(native):
            raise ValueError(f"focus command must be a finite number of UVC steps, got {native}")
        value = self.snap(native)
        with self._lock:
            if self._closed:
                raise DriverFault("UVC focus: the driver is closed; open a new one to drive the camera")
            self._target = value
            if self._capture is not None and value != self._applied and self._call(self._capture.isOpened):
                self._set(self._capture, value)
                self._update_capabilities()

    def position(self) -> float | None:
        """The focus the camera reads back, or the last command when it cannot say."""
        with self._lock:
            if self.capabilities.reports_position and self._capture is not None:
                value = self._read(self._capture)
                if value is not None:
                    return value
            return self._target

    def stop(self) -> None:
        """Nothing to halt: a webcam's focus motor settles on the last value it was given."""

    def close(self) -> None:
        """Forget the capture (the source owns and releases it); autofocus stays off."""
        with self._lock:
            self._closed = True
            self._capture = None

    # -- internals ------------------------------------------------------------

    def _disable_autofocus(self, capture: Any) -> None:
        self._call(capture.set, cv2.CAP_PROP_AUTOFOCUS, 0)
        state = self._call(capture.get, cv2.CAP_PROP_AUTOFOCUS)  # -1: the camera has no autofocus
        if state is not None and state not in (-1.0, 0.0):
            self._warn("autofocus", f"UVC focus: the camera kept continuous autofocus on (reads {state:g}); "
                                    "turn it off with 'v4l2-ctl -c focus_automatic_continuous=0' "
                                    "(focus_auto=0 before Linux 5.16) or in the camera's own app")

    def _set(self, capture: Any, value: float) -> None:
        if not self._call(capture.set, cv2.CAP_PROP_FOCUS, value):
            self._warn("refused", f"UVC focus: the camera refused focus {value:g}; check that it has a focus "
                                  "motor ('focus-assistant devices' shows the focus range)")
        self._applied = value
        readback = self._read(capture)
        if readback is None:
            self._readable = False
            return
        self._readable = True
        if readback != self._opened_at:
            self._moved = True
        if abs(readback - value) <= self.step + 1e-9:
            self._moved = True
            return
        self._misses += 1
        self.ignored_count += 1
        self._warn("ignored", f"UVC focus: the camera ignored focus {value:g} (reads back {readback:g}); "
                              "check that autofocus is off and the range matches 'v4l2-ctl -l'")
        if self._misses >= 2 and not self._moved:
            self._follows = False

    def _read(self, capture: Any) -> float | None:
        value = self._call(capture.get, cv2.CAP_PROP_FOCUS)
        if value is None or not math.isfinite(value):
            return None
        if value == -1.0 and self.capabilities.limits[0] > -1.0:  # OpenCV's "not supported"
            return None
        return float(value)

    def _update_capabilities(self) -> None:
        reports = self._readable and self._follows
        if reports != self.capabilities.reports_position:
            self.capabilities = dataclasses.replace(self.capabilities, reports_position=reports)
        if not self._readable:
            self._warn("readback", "UVC focus: the camera does not report its focus (read-back unsupported), "
                                   "so moves cannot be confirmed; watch the picture to check focus follows")
        elif not self._follows:
            self._warn("follows", "UVC focus: the camera's focus read-back never follows the commands, "
                                  "so position is not reported; check that autofocus is off and the lens can move")

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except cv2.error as exc:
            raise DriverFault(f"UVC focus: the camera control failed ({exc}); check that the camera is still connected") from exc

    def _warn(self, key: str, message: str) -> None:
        if key in self._warned:
            LOG.debug("%s", message)
            return
        self._warned.add(key)
        self.warnings.append(message)
        LOG.warning("%s", message)


class FocusedCapture:
    """A capture that re-applies the focus driver once its stream has started.

    Everything else is passed through to the wrapped capture.
    """

    def __init__(self, capture: Any, driver: UvcFocusDriver) -> None:
        self._inner = capture
        self._driver = driver
        self._started = False

    def read(self, *args: Any) -> Any:
        result = self._inner.read(*args)
        if not self._started and result[0]:
            self._started = True
            self._driver.apply(self._inner)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _checked_fallback(fallback: tuple[float, float, float]) -> tuple[float, float, float]:
    try:
        lo, hi, step = (float(v) for v in fallback)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"UVC fallback focus range {fallback!r} is not (min, max, step); give e.g. (0, 250, 5)") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi and 0 < step <= hi - lo):
        raise ConfigError(f"UVC fallback focus range {fallback!r} is not valid; give (min, max, step) with min < max "
                          "and 0 < step <= max - min, e.g. (0, 250, 5)")
    return lo, hi, step
