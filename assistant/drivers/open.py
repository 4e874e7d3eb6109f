"""``--driver SPEC`` (and the rig's own lens) to a guarded dioptre driver.

SPEC forms:

- none: on ``--source sim`` the rig's simulated lens, else no driver;
- ``serial:/dev/ttyUSB0`` or ``serial:/dev/ttyUSB0@115200``: a serial focus
  motor speaking the protocol in ``docs/serial-protocol.md``;
- ``osc://host:port/address``: focus sent as OSC messages over UDP;
- ``visca://HOST[:PORT]``: a PTZ or box camera's focus over VISCA over IP;
- ``bmd://HOST`` and ``bmd-ble://NAME|ADDRESS``: a Blackmagic camera's lens
  focus over its REST API or over Bluetooth LE;
- ``uvc``: the webcam's own focus motor, on a camera source (``--source 0``
  or ``/dev/videoN``); made by :func:`camera_driver` before the camera opens,
  so it sees every capture (first open and every reconnect);
- ``module:factory``: a plugin object (DESIGN.md driver contract).

Every driver ends up inside a :class:`~assistant.drivers.guard.GuardedDriver`
(soft limits, slew limit, watchdog, emergency stop). A driver in native units
needs a lens file (``--lens FILE``) to convert from dioptres.
"""

from __future__ import annotations

import importlib
import math
import time
from pathlib import Path
from typing import Any

from assistant.drivers.base import FocusDriver
from assistant.drivers.forms import DRIVER_FORMS
from assistant.drivers.guard import DuckDriver, GuardedDriver, SafetyLimits
from assistant.drivers.lensmap import LensFile, LensMap, load_lens
from assistant.errors import ConfigError, UserInputError
from assistant.plugins import PLUGIN_SPEC, make_plugin


def camera_driver(spec: str | None, source_spec: str) -> FocusDriver | None:
    """The UVC driver for ``--driver uvc``, made before its camera opens (else None)."""
    if spec != "uvc":
        return None
    from assistant.drivers.uvc import UvcFocusDriver

    if not (source_spec.isdigit() or source_spec.startswith("/dev/")):
        raise UserInputError(f"--driver uvc drives a webcam's own focus: use it with a camera source such as "
                             f"--source 0 or --source /dev/video0, not {source_spec!r}")
    return UvcFocusDriver(None, device=source_spec)


def open_driver(spec: str | None, lens_path: Path | None, timeout_s: float, source: Any,
                native: FocusDriver | None = None) -> GuardedDriver | None:
    """The guarded driver for ``spec`` (see the module docstring), or None when there is none.

    ``native`` is a driver made beforehand (:func:`camera_driver`).
    """
    if spec is None:
        if lens_path is not None:
            raise UserInputError("--lens FILE maps distances for a --driver; give the driver too "
                                 "(the rig's own lens needs no lens file)")
        return _rig_driver(source, timeout_s) if getattr(source, "lens", None) is not None else None
    lens, lens_map = load_lens(lens_path) if lens_path is not None else (None, None)
    native = native or _native_driver(spec, lens)
    try:
        driver = _guarded(spec, native, lens, lens_map, lens_path, timeout_s)
    except BaseException:
        native.close()  # the port or socket is open: release it before reporting
        raise
    if hasattr(source, "focus_readout"):  # the virtual rig shows what the outside driver does
        source.focus_readout = driver.position
    return driver


def _guarded(spec: str, native: FocusDriver, lens: LensFile | None, lens_map: LensMap | None,
             lens_path: Path | None, timeout_s: float) -> GuardedDriver:
    caps = native.capabilities
    if caps.units == "dioptres":
        lens_map = None  # the driver speaks the engine's units; the file only adds limits and marks
    elif lens_map is None:
        raise ConfigError(f"--driver {spec}: moves in {caps.units!r} units, so it needs a lens file to convert "
                          "focus distances: add --lens FILE (see config/lenses/, or make one with 'focus-assistant calibrate')")
    if lens is not None and lens.units not in (caps.units, "native"):
        raise ConfigError(f"{lens_path}: units: the lens file is for {lens.units!r} but the driver moves in "
                          f"{caps.units!r}; use the lens file made for this driver")
    soft = _soft_limits(spec, caps.limits, lens, lens_map)
    speed = min(caps.max_speed, lens.max_speed if lens is not None else math.inf)
    return GuardedDriver(native, lens_map, SafetyLimits(soft, speed, timeout_s), clock=time.monotonic)


def open_native(spec: str | None, timeout_s: float, source: Any, native: FocusDriver | None = None,
                soft_limits: tuple[float, float] | None = None) -> tuple[GuardedDriver, str]:
    """A driver guarded in its own native units (no lens map yet), and the units: for ``calibrate``.

    ``soft_limits`` narrow the sweep inside the driver's hard stops.
    """
    if spec is None:
        if getattr(source, "lens", None) is None:
            raise UserInputError(f"calibrate: give the focus driver to calibrate with --driver ({DRIVER_FORMS})")
        return _rig_driver(source, timeout_s, soft_limits), "dioptres"
    if getattr(source, "lens", None) is not None:
        raise UserInputError("calibrate: on the virtual rig the sweep moves the rig's own lens; leave out --driver")
    native = native or _native_driver(spec, None)
    caps = native.capabilities
    try:
        limits = _narrowed(caps.limits, soft_limits)
        return GuardedDriver(native, None, SafetyLimits(limits, caps.max_speed, timeout_s)), caps.units
    except BaseException:
        native.close()
        raise


def _narrowed(hard: tuple[float, float], soft: tuple[float, float] | None) -> tuple[float, float]:
    if soft is None:
        return hard
    lo, hi = max(hard[0], soft[0]), min(hard[1], soft[1])
    if not lo < hi:
        raise UserInputError(f"--soft-limits {soft[0]:g},{soft[1]:g} lie outside the driver's range "
                             f"{hard[0]:g}..{hard[1]:g}")
    return lo, hi


def _rig_driver(source: Any, timeout_s: float, soft_limits: tuple[float, float] | None = None) -> GuardedDriver:
    """The rig's simulated lens under the same guard as real hardware, on media time."""
    lens = source.lens
    native = DuckDriver(lens, "rig lens")
    limits = _narrowed(tuple(lens.limits), soft_limits)
    return GuardedDriver(native, None, SafetyLimits(limits, lens.max_speed, timeout_s), clock=lambda: source.media_t)


# Drivers named by an address ``scheme://...``: the module whose ``from_spec(spec)`` opens one.
_BY_ADDRESS = {
    "osc": "assistant.drivers.osc",
    "visca": "assistant.drivers.visca",
    "bmd": "assistant.drivers.bmd_rest",
    "bmd-ble": "assistant.drivers.bmd_ble",
}


def _native_driver(spec: str, lens: LensFile | None) -> FocusDriver:
    if spec.startswith("serial:"):
        from assistant.drivers.serial_motor import SerialMotorDriver

        port, _, baud = spec[len("serial:"):].partition("@")
        if baud and not baud.isdigit():
            raise UserInputError(f"--driver {spec}: baud rate {baud!r} is not a number; e.g. serial:/dev/ttyUSB0@115200")
        return SerialMotorDriver(port, baudrate=int(baud)) if baud else SerialMotorDriver(port)
    scheme = spec.partition("://")[0]
    if scheme in _BY_ADDRESS:  # imported only when asked for: each pulls in its own transport
        return importlib.import_module(_BY_ADDRESS[scheme]).from_spec(spec)
    if PLUGIN_SPEC.match(spec):
        return _plugin_driver(spec, lens)
    raise UserInputError(f"--driver {spec}: unknown driver; use {DRIVER_FORMS} (see README, Focus drivers)")


def _plugin_driver(spec: str, lens: LensFile | None) -> FocusDriver:
    fallback = tuple(lens.soft_limits) if lens is not None and lens.soft_limits else None
    try:
        return DuckDriver(make_plugin(spec, "--driver"), f"plugin {spec}", fallback)
    except ValueError as exc:
        raise UserInputError(f"--driver {exc}") from exc


def _soft_limits(spec: str, hard: tuple[float, float], lens: LensFile | None,
                 lens_map: LensMap | None) -> tuple[float, float]:
    """The lens file's soft limits (else its calibrated range) inside the driver's own limits."""
    lo, hi = hard
    if lens is not None and lens.soft_limits:
        lo, hi = max(lo, lens.soft_limits[0]), min(hi, lens.soft_limits[1])
    elif lens_map is not None:
        lo, hi = max(lo, lens_map.native_range[0]), min(hi, lens_map.native_range[1])
    if not lo < hi:
        raise ConfigError(f"--driver {spec}: the lens file's range does not overlap the driver's limits {hard}; "
                          "check the lens file is for this motor")
    return lo, hi
