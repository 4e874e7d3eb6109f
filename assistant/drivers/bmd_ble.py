"""A Blackmagic camera's lens focus over Bluetooth LE (``bmd-ble://NAME|ADDRESS``).

The driver speaks camera control packets (:mod:`assistant.drivers.bmd_protocol`)
through a small :class:`BleTransport`: connect, subscribe to a characteristic,
write to one, close. :class:`BleakTransport` is the real one, on the optional
``bleak`` package (``pip install 'focus-assistant[ble]'``), imported only when
a Bluetooth driver or scan is asked for; it runs bleak's asyncio loop in one
background thread so the driver's calls stay plain blocking calls. Tests and
other links pass their own transport.

Native units are the camera's lens focus, 0.0 near .. 1.0 far (``units ==
"bmd"``), in steps of 1/2048 (fixed16); a lens file maps dioptres to it.
A command whose fixed16 value equals the last one sent is not sent again.

Read-back: the camera sends camera control packets on "Incoming Camera
Control"; the driver subscribes and decodes lens focus (0.0) assignments.
Whether a camera reports lens focus, and when, is not documented and varies
with camera and lens, so ``capabilities.reports_position`` starts False and
turns True only once the camera has reported focus after a command of ours.
``position()`` returns whichever is newer: the camera's last report or the
last command (an echo).

Pairing: the camera's characteristics are encrypted. The first use of one
starts bonding and the camera shows a 6-digit PIN in its Bluetooth setup
menu, to be typed where the computer asks (the desktop's Bluetooth dialog;
on Linux without one, ``bluetoothctl`` then ``pair ADDRESS``). Pair once,
before driving focus: a driver that is refused says so.

Confirmed in Blackmagic's "Blackmagic Camera Control" developer manual
(December 2023) and the camera manuals' "Blackmagic Bluetooth Camera
Control" section (e.g. Pocket Cinema Camera 4K/6K, URSA Mini Pro 12K):
service "Blackmagic Camera Service" 291D567A-6D75-11E6-8B77-86F30CA893D3;
"Outgoing Camera Control (encrypted)" 5DD3465F-1AEE-4299-8493-D2ECA2F8E1BB,
"send Camera Control messages", identical to the SDI protocol's; "Incoming
Camera Control (encrypted)" B864E140-76A0-416A-BF30-5876504537D9, "request
notifications ... to receive Camera Control messages from the camera"; the
pairing note (bonding starts on the first encrypted access, 6-digit PIN on
the camera). Not in those documents: whether cameras advertise the service
UUID (an open-source remote tested on a Pocket 6K G2 finds cameras by it, so
:func:`discover` filters on it) and whether they report lens focus.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import importlib
import math
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, Self
from urllib.parse import unquote

from assistant.drivers.base import Capabilities
from assistant.drivers.bmd_protocol import BROADCAST, FIXED16_SCALE, PacketError, decode_packets, focus_packet, to_fixed16
from assistant.errors import ConfigError, DriverFault, UserInputError

SERVICE_UUID = "291d567a-6d75-11e6-8b77-86f30ca893d3"
OUTGOING_CONTROL_UUID = "5dd3465f-1aee-4299-8493-d2eca2f8e1bb"
INCOMING_CONTROL_UUID = "b864e140-76a0-416a-bf30-5876504537d9"
RESOLUTION = 1 / FIXED16_SCALE
SPEC_EXAMPLE = "bmd-ble://A:12345678 or bmd-ble://AA:BB:CC:DD:EE:FF"
INSTALL_HINT = "install the Bluetooth extra: pip install 'focus-assistant[ble]'"
DEFAULT_SCAN_TIMEOUT = 10.0
DEFAULT_TIMEOUT = 5.0
SCAN_GRACE = 2.0  # how long past its timeout a scan may run before discover() gives up on it

_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")  # macOS names devices so


class BleError(ConnectionError):
    """The Bluetooth link failed: the adapter, the connection or the camera."""


class BleNotFound(BleError):
    """No camera with that name or address was seen."""


class BleNotPaired(BleError):
    """The camera refused an encrypted characteristic: this computer is not paired (bonded) with it."""


class BleTransport(Protocol):
    """A Bluetooth LE link to one camera. Methods raise :class:`BleError` on failure.

    ``on_disconnect`` and ``on_data`` may be called from another thread.
    """

    name: str  # how messages name the camera

    def connect(self, on_disconnect: Callable[[], None]) -> None: ...

    def subscribe(self, characteristic: str, on_data: Callable[[bytes], None]) -> None: ...

    def write(self, characteristic: str, data: bytes) -> None: ...

    def close(self) -> None: ...


class BmdBleFocusDriver:
    """Lens focus on a Blackmagic camera over a :class:`BleTransport`.

    Connects and subscribes to the camera's incoming camera control on
    construction. ``destination`` is the camera address inside the packet
    (255, broadcast, is right for a direct Bluetooth link).
    """

    capabilities: Capabilities

    def __init__(self, transport: BleTransport, *, destination: int = BROADCAST) -> None:
        if not (isinstance(destination, int) and 0 <= destination <= 255):
            raise ConfigError(f"Blackmagic camera destination {destination!r} must be 0..254, or 255 for every camera")
        self.transport = transport
        self.destination = destination
        self.capabilities = Capabilities(units="bmd", limits=(0.0, 1.0), resolution=RESOLUTION,
                                         reports_position=False)
        self.sent_count = 0
        self.report_count = 0
        self.bad_notifications = 0
        self._state = threading.Lock()  # never held while the transport works: notifications need it
        self._io = threading.Lock()  # one write at a time
        self._closed = False
        self._lost: str | None = None
        self._sent_raw: int | None = None
        self._commanded: float | None = None
        self._reported: float | None = None
        self._report_is_newer = False
        try:
            transport.connect(self._on_disconnect)
            transport.subscribe(INCOMING_CONTROL_UUID, self._on_data)
        except BleError as exc:
            self._release()
            raise self._fault(exc, connecting=True) from exc
        except BaseException:
            self._release()
            raise

    @property
    def description(self) -> str:
        return f"bmd-ble://{self.transport.name}"

    # -- FocusDriver ---------------------------------------------------------

    def move_to(self, native: float) -> None:
        """Send lens focus ``native`` (clamped to 0..1, to the nearest 1/2048) unless it is already there."""
        if not math.isfinite(native):
            raise ValueError(f"focus command must be a finite number (0 near .. 1 far), got {native}")
        raw = to_fixed16(self.capabilities.clamp(native))
        with self._io:
            with self._state:
                self._check_link()
                if raw == self._sent_raw and not self._report_is_newer:
                    return
            self._send(raw)

    def position(self) -> float | None:
        """The camera's last focus report if it is newer than the last command, else that command."""
        with self._state:
            self._check_link()
            return self._reported if self._report_is_newer else self._commanded

    def stop(self) -> None:
        """Hold where the camera last said it is; without a newer report the lens settles on the last command."""
        with self._io:
            with self._state:
                self._check_link()
                if not self._report_is_newer or self._reported is None:
                    return
                raw = to_fixed16(self._reported)
            self._send(raw)

    def close(self) -> None:
        """Disconnect; later calls raise DriverFault. Safe to call twice."""
        with self._state:
            if self._closed:
                return
            self._closed = True
        self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------

    def _send(self, raw: int) -> None:
        value = raw / FIXED16_SCALE
        with self._state:  # before the write: the camera's report of this move may come back while it runs
            self._sent_raw = raw
            self._commanded = value
            self._report_is_newer = False
            self.sent_count += 1
        try:
            self.transport.write(OUTGOING_CONTROL_UUID, focus_packet(value, self.destination))
        except BleError as exc:
            with self._state:
                self._lost = self._lost or str(exc)
            raise self._fault(exc) from exc

    def _on_data(self, data: bytes) -> None:
        """A notification from the camera: keep any lens focus it reports."""
        try:
            packets = decode_packets(data)
        except PacketError:
            with self._state:
                self.bad_notifications += 1
            return
        for packet in packets:
            focus = packet.focus
            if focus is None:
                continue
            with self._state:
                self._reported = focus
                self._report_is_newer = True
                self.report_count += 1
                if self._commanded is not None and not self.capabilities.reports_position:
                    self.capabilities = dataclasses.replace(self.capabilities, reports_position=True)

    def _on_disconnect(self) -> None:
        with self._state:
            if not self._closed:
                self._lost = self._lost or "the camera disconnected"

    def _check_link(self) -> None:
        """Raise DriverFault when the driver is closed or the link is gone (call with ``_state`` held)."""
        if self._closed:
            raise DriverFault(f"Blackmagic camera {self.transport.name}: the driver is closed; "
                              f"open a new one to drive focus")
        if self._lost is not None:
            raise DriverFault(f"lost the Bluetooth link to Blackmagic camera {self.transport.name} ({self._lost}); "
                              f"check it is on, in range and still paired, then start again")

    def _fault(self, exc: BleError, *, connecting: bool = False) -> DriverFault:
        name = self.transport.name
        if isinstance(exc, BleNotFound):
            return DriverFault(f"{exc}; check the camera is on with Bluetooth enabled in its setup menu and in "
                               f"range, and list the cameras this computer sees with `focus-assistant devices`")
        if isinstance(exc, BleNotPaired):
            return DriverFault(f"Blackmagic camera {name} is not paired with this computer ({exc}); pair once: "
                               f"the camera shows a 6-digit PIN in its Bluetooth setup menu, type it where this "
                               f"computer asks (Linux: `bluetoothctl`, then `pair ADDRESS`), then start again")
        if connecting:
            return DriverFault(f"cannot connect to Blackmagic camera {name} over Bluetooth ({exc}); check that "
                               f"this computer's Bluetooth is on, and the camera is on with Bluetooth enabled in "
                               f"its setup menu and in range")
        return DriverFault(f"lost the Bluetooth link to Blackmagic camera {name} ({exc}); check it is on, in "
                           f"range and still paired, then start again")

    def _release(self) -> None:
        try:
            self.transport.close()
        except BleError:
            pass  # closing after a fault must not raise


# -- the bleak transport ---------------------------------------------------------


def _import_bleak() -> Any:
    """The ``bleak`` module, or UserInputError saying how to install it."""
    try:
        return importlib.import_module("bleak")
    except ImportError as exc:
        raise UserInputError(f"Bluetooth LE cameras need the 'bleak' package; {INSTALL_HINT}") from exc


def is_address(target: str) -> bool:
    """Whether ``target`` is a Bluetooth address (or the UUID macOS uses instead) rather than a name."""
    return bool(_MAC.fullmatch(target) or _UUID.fullmatch(target))


def _reason(exc: BaseException) -> str:
    """``exc`` in words; a missing D-Bus socket (Linux without BlueZ running) gets a name."""
    if isinstance(exc, FileNotFoundError):
        return "no Bluetooth system service found; on Linux, check that bluetoothd runs"
    return str(exc) or type(exc).__name__


def _bleak_error(exc: BaseException, what: str) -> BleError:
    """``exc`` from bleak (or the OS under it) as the transport's error."""
    text = f"{what}: {_reason(exc)}"
    lowered = str(exc).lower()
    if type(exc).__name__ == "BleakDeviceNotFoundError":
        return BleNotFound(text)
    if any(word in lowered for word in ("authenticat", "encrypt", "not permitted", "notpermitted", "pair")):
        return BleNotPaired(text)
    return BleError(text)


class BleakTransport:
    """The camera behind a name or address, through bleak on one background asyncio thread.

    ``scan_timeout`` bounds the search for the camera; ``timeout`` each
    connect, subscribe and write. Writes are pipelined one deep: ``write``
    waits for the previous write's answer (and raises its error), then queues
    the new one and returns, so a frame loop does not wait a Bluetooth round
    trip per frame.
    """

    def __init__(self, target: str, *, scan_timeout: float = DEFAULT_SCAN_TIMEOUT,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self._bleak = _import_bleak()
        self.target = target
        self.name = target
        self.scan_timeout = scan_timeout
        self.timeout = timeout
        self._client: Any = None
        self._pending: concurrent.futures.Future[Any] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"bmd-ble {target}", daemon=True)
        self._thread.start()

    def connect(self, on_disconnect: Callable[[], None]) -> None:
        self._client = self._run(self._connect(on_disconnect), self.scan_timeout + self.timeout, "connect")

    def subscribe(self, characteristic: str, on_data: Callable[[bytes], None]) -> None:
        def deliver(_characteristic: Any, data: bytearray) -> None:
            on_data(bytes(data))

        self._run(self._client_call().start_notify(characteristic, deliver), self.timeout, "subscribe")

    def write(self, characteristic: str, data: bytes) -> None:
        self._settle()
        coro = self._client_call().write_gatt_char(characteristic, bytes(data), response=True)
        self._pending = asyncio.run_coroutine_threadsafe(coro, self._loop)

    def close(self) -> None:
        try:
            try:
                self._settle()
            except BleError:
                pass
            if self._client is not None and self._loop.is_running():
                self._run(self._client.disconnect(), self.timeout, "disconnect")
        finally:
            self._client = None
            if self._loop.is_running():
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=self.timeout)
            if not self._loop.is_running() and not self._loop.is_closed():
                self._loop.close()

    async def _connect(self, on_disconnect: Callable[[], None]) -> Any:
        device = await self._find()
        self.name = f"{getattr(device, 'name', None) or self.target} ({getattr(device, 'address', self.target)})"
        client = self._bleak.BleakClient(device, disconnected_callback=lambda _client: on_disconnect(),
                                         timeout=self.timeout)
        await client.connect()
        return client

    async def _find(self) -> Any:
        scanner = self._bleak.BleakScanner
        if is_address(self.target):
            device = await scanner.find_device_by_address(self.target, timeout=self.scan_timeout)
            if device is None:
                raise BleNotFound(f"no Bluetooth device {self.target} seen within {self.scan_timeout:g} s")
            return device
        seen = await scanner.discover(timeout=self.scan_timeout, return_adv=True)
        named = [(device, adv) for device, adv in seen.values() if (device.name or adv.local_name)]
        wanted = self.target.casefold()
        exact = [pair for pair in named if (pair[0].name or pair[1].local_name).casefold() == wanted]
        matches = exact or [pair for pair in named if wanted in (pair[0].name or pair[1].local_name).casefold()]
        cameras = [pair for pair in matches if SERVICE_UUID in [u.lower() for u in pair[1].service_uuids]]
        matches = cameras or matches
        if not matches:
            raise BleNotFound(f"no Bluetooth camera named {self.target!r} seen within {self.scan_timeout:g} s")
        if len(matches) > 1:
            listed = ", ".join(f"{d.name or a.local_name} ({d.address})" for d, a in matches)
            raise UserInputError(f"{len(matches)} Bluetooth devices match {self.target!r}: {listed}; "
                                 f"give the full name or the address, e.g. bmd-ble://{matches[0][0].address}")
        return matches[0][0]

    def _client_call(self) -> Any:
        if self._client is None:
            raise BleError("not connected")
        return self._client

    def _settle(self) -> None:
        """Wait for the write in flight, raising its error."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self._wait(pending, self.timeout, "write")

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float, what: str) -> Any:
        if not self._loop.is_running():
            coro.close()
            raise BleError(f"{what}: the Bluetooth transport is closed")
        return self._wait(asyncio.run_coroutine_threadsafe(coro, self._loop), timeout, what)

    def _wait(self, future: concurrent.futures.Future[Any], timeout: float, what: str) -> Any:
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise BleError(f"{what}: no answer within {timeout:g} s") from exc
        except (BleError, UserInputError):
            raise
        except Exception as exc:  # bleak's own errors, D-Bus and OS errors under it
            raise _bleak_error(exc, what) from exc


# -- specs and discovery -------------------------------------------------------------


def parse_spec(text: str) -> str:
    """The camera name or address in ``bmd-ble://NAME|ADDRESS`` (``%20`` and the like are decoded)."""
    hint = f"write it like {SPEC_EXAMPLE} (the camera's Bluetooth name or address)"
    scheme, sep, rest = text.strip().partition("://")
    if not sep or scheme.lower() != "bmd-ble":
        raise ConfigError(f"Blackmagic Bluetooth spec {text!r} does not start with bmd-ble://; {hint}")
    target = unquote(rest.rstrip("/")).strip()
    if not target:
        raise ConfigError(f"Blackmagic Bluetooth spec {text!r} names no camera; {hint}")
    if not target.isprintable() or len(target.encode("utf-8")) > 248:  # 248 bytes: the longest BLE device name
        raise ConfigError(f"Blackmagic Bluetooth spec {text!r}: {target!r} cannot be a camera name; {hint}")
    return target


def from_spec(text: str, *, transport_factory: Callable[[str], BleTransport] | None = None,
              **options: Any) -> BmdBleFocusDriver:
    """A driver from ``bmd-ble://NAME|ADDRESS``, e.g. ``bmd-ble://A:12345678`` or ``bmd-ble://AA:BB:CC:DD:EE:FF``.

    The name matches exactly, else as a case-blind part of the camera's name
    (one match only). ``transport_factory(target)`` replaces
    :class:`BleakTransport`; ``options`` go to :class:`BmdBleFocusDriver`.
    """
    target = parse_spec(text)
    transport = (transport_factory or BleakTransport)(target)
    return BmdBleFocusDriver(transport, **options)


@dataclass(frozen=True)
class BleCamera:
    """A camera seen advertising the Blackmagic Camera Service."""

    name: str
    address: str
    rssi: int | None = None

    @property
    def spec(self) -> str:
        return f"bmd-ble://{self.address}"


@dataclass(frozen=True)
class BleDiscovery:
    """What a Bluetooth scan found: the cameras, and a note when the scan could not run or found none."""

    cameras: tuple[BleCamera, ...] = ()
    note: str | None = None

    def lines(self) -> list[str]:
        """Indented lines for ``focus-assistant devices``."""
        found = [f"  {c.name}  {c.address}" + (f"  ({c.rssi} dBm)" if c.rssi is not None else "")
                 + f"  --driver {c.spec}" for c in self.cameras]
        return found + ([f"  {self.note}"] if self.note else [])


def discover(timeout: float = 5.0) -> BleDiscovery:
    """Scan ``timeout`` seconds for cameras advertising the Blackmagic Camera Service.

    Never raises for a missing ``bleak``, adapter or Bluetooth service: the
    result then carries a note saying what to do. A scan stuck in the OS is
    abandoned shortly after ``timeout``.
    """
    try:
        bleak = _import_bleak()
    except UserInputError:
        return BleDiscovery(note=f"Bluetooth LE cameras not searched: {INSTALL_HINT}")
    result: list[BleDiscovery] = []
    loop = asyncio.new_event_loop()

    async def scanning() -> Any:
        return await bleak.BleakScanner.discover(timeout=timeout, return_adv=True, service_uuids=[SERVICE_UUID])

    def scan() -> None:
        try:
            seen = loop.run_until_complete(scanning())
        except asyncio.CancelledError:
            return  # abandoned: stuck past its time
        except Exception as exc:  # no adapter, no D-Bus, Bluetooth off, permission refused
            result.append(BleDiscovery(note=f"Bluetooth unavailable ({_reason(exc)}); check that this computer has a "
                                            f"Bluetooth adapter, that it is on, and that this user may use it"))
            return
        finally:
            loop.close()
        cameras = []
        for device, adv in seen.values():
            if SERVICE_UUID not in [u.lower() for u in adv.service_uuids]:
                continue  # a backend that ignores the filter
            cameras.append(BleCamera(device.name or adv.local_name or "(no name)", device.address, adv.rssi))
        cameras.sort(key=lambda c: (c.name, c.address))
        note = None if cameras else (f"no Blackmagic camera seen in {timeout:g} s; turn Bluetooth on in the "
                                     f"camera's setup menu and bring it closer")
        result.append(BleDiscovery(tuple(cameras), note))

    worker = threading.Thread(target=scan, name="bmd-ble discover", daemon=True)
    worker.start()
    worker.join(timeout + SCAN_GRACE)
    if not result:
        try:
            loop.call_soon_threadsafe(lambda: [task.cancel() for task in asyncio.all_tasks(loop)])
        except RuntimeError:
            pass  # it finished (and closed its loop) just now
        return BleDiscovery(note=f"the Bluetooth scan did not finish within {timeout + SCAN_GRACE:g} s; check the "
                                 f"adapter (on Linux: `bluetoothctl show`)")
    return result[0]
