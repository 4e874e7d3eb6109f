"""Blackmagic camera focus: the packet codec, the REST driver against a local HTTP camera, the BLE driver."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.drivers import bmd_ble, bmd_rest
from assistant.drivers.base import Capabilities, FocusDriver
from assistant.drivers.bmd_ble import (INCOMING_CONTROL_UUID, OUTGOING_CONTROL_UUID, SERVICE_UUID, BleakTransport,
                                       BmdBleFocusDriver, discover)
from assistant.drivers.bmd_protocol import (FIXED16_MAX, CameraControlPacket, DataType, Operation, PacketError,
                                            autofocus_packet, camera_control_packet, decode_packet, decode_packets,
                                            focus_packet, from_fixed16, to_fixed16)
from assistant.drivers.bmd_rest import BmdRestFocusDriver
from assistant.errors import DriverFault, UserInputError
from tests.drivers.bmd_camera import FakeBleCamera, running_camera

# -- the codec -----------------------------------------------------------------

# "Example Protocol Packets" from Blackmagic's camera control manual, byte for byte.
PUBLISHED = [
    ("trigger instantaneous auto focus on camera 4",
     (4, 0, 1, DataType.VOID, Operation.ASSIGN, []),
     [4, 4, 0, 0, 0, 1, 0, 0]),
    ("turn on OIS on all cameras",
     (255, 0, 6, DataType.VOID, Operation.ASSIGN, [True]),
     [255, 5, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0]),
    ("set exposure to 10 ms on camera 4",
     (4, 1, 5, DataType.INT32, Operation.ASSIGN, [10000]),
     [4, 8, 0, 0, 1, 5, 3, 0, 0x10, 0x27, 0x00, 0x00]),
    ("add 15% to zebra level",
     (4, 4, 2, DataType.FIXED16, Operation.OFFSET, [0.15]),
     [4, 6, 0, 0, 4, 2, 128, 1, 0x33, 0x01, 0, 0]),
    ("select 1080p 23.98 mode on all cameras",
     (255, 1, 0, DataType.INT8, Operation.ASSIGN, [24, 1, 3, 0, 0]),
     [255, 9, 0, 0, 1, 0, 1, 0, 24, 1, 3, 0, 0, 0, 0, 0]),
    ("subtract 0.3 from gamma adjust for green & blue",
     (4, 8, 1, DataType.FIXED16, Operation.OFFSET, [0.0, -0.3, -0.3, 0.0]),
     [4, 12, 0, 0, 8, 1, 128, 1, 0, 0, 0x9a, 0xfd, 0x9a, 0xfd, 0, 0]),
]
ALL_COMBINED = bytes([
    4, 4, 0, 0, 0, 1, 0, 0, 255, 5, 0, 0, 0, 6, 0, 0,
    1, 0, 0, 0, 4, 8, 0, 0, 1, 5, 3, 0, 0x10, 0x27, 0x00, 0x00,
    4, 6, 0, 0, 4, 2, 128, 1, 0x33, 0x01, 0, 0, 255, 9, 0, 0,
    1, 0, 1, 0, 24, 1, 3, 0, 0, 0, 0, 0, 4, 12, 0, 0,
    8, 1, 128, 1, 0, 0, 0x9a, 0xfd, 0x9a, 0xfd, 0, 0,
])


@pytest.mark.parametrize("name, args, expected", PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_published_example_packets_byte_for_byte(name, args, expected):
    packet = camera_control_packet(*args)
    assert list(packet) == expected
    decoded = decode_packet(packet)
    assert decoded.encode() == packet
    assert (decoded.destination, decoded.category, decoded.parameter, decoded.data_type, decoded.operation) == args[:5]


def test_published_all_operations_combined():
    assert len(ALL_COMBINED) == 76
    assert b"".join(camera_control_packet(*args) for _, args, _ in PUBLISHED) == ALL_COMBINED
    packets = decode_packets(ALL_COMBINED)
    assert [p.encode() for p in packets] == [bytes(e) for _, _, e in PUBLISHED]
    assert packets[2].values == (10000,)
    assert packets[3].values == (307 / 2048,)
    assert packets[4].values == (24, 1, 3, 0, 0)
    assert packets[5].values == (0.0, -614 / 2048, -614 / 2048, 0.0)


def test_autofocus_packet_is_the_published_one():
    assert list(autofocus_packet(4)) == [4, 4, 0, 0, 0, 1, 0, 0]
    assert autofocus_packet() == bytes([255, 4, 0, 0, 0, 1, 0, 0])


@pytest.mark.parametrize("value, data", [(0.0, [0x00, 0x00]), (0.5, [0x00, 0x04]), (1.0, [0x00, 0x08]),
                                         (0.15, [0x33, 0x01]), (1 / 2048, [0x01, 0x00])])
def test_focus_packet(value, data):
    assert list(focus_packet(value)) == [255, 6, 0, 0, 0, 0, 128, 0, *data, 0, 0]
    assert focus_packet(value, destination=3)[0] == 3
    assert decode_packet(focus_packet(value)).focus == pytest.approx(value, abs=1 / 4096)


@pytest.mark.parametrize("bad", [-0.001, 1.001, float("nan"), float("inf")])
def test_focus_packet_rejects_values_outside_near_far(bad):
    with pytest.raises(ValueError, match="0.0 \\(near\\)"):
        focus_packet(bad)


def test_fixed16_edges():
    assert to_fixed16(-16.0) == -32768
    assert to_fixed16(FIXED16_MAX) == 32767
    assert to_fixed16(15.9995) == 32767
    assert to_fixed16(0.15) == 0x0133 and to_fixed16(-0.3) == -614  # the manual's 0x0133 and 0xfd9a
    assert to_fixed16(-1 / 4096 + 1e-9) == 0
    with pytest.raises(ValueError, match="fixed16 holds"):
        to_fixed16(16.0)
    with pytest.raises(ValueError, match="fixed16 holds"):
        to_fixed16(-16.001)
    assert to_fixed16(100.0, clamp=True) == 32767
    assert to_fixed16(-100.0, clamp=True) == -32768
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValueError, match="finite"):
            to_fixed16(bad, clamp=True)
    assert from_fixed16(-32768) == -16.0 and from_fixed16(32767) == FIXED16_MAX
    with pytest.raises(ValueError):
        from_fixed16(32768)


@given(st.floats(min_value=-16.0, max_value=FIXED16_MAX))
def test_fixed16_round_trip_is_within_half_a_step(value):
    assert abs(from_fixed16(to_fixed16(value)) - value) <= 1 / 4096


@given(st.integers(min_value=-32768, max_value=32767))
def test_fixed16_raw_round_trip_is_exact(raw):
    assert to_fixed16(from_fixed16(raw)) == raw


def test_decoder_skips_other_commands_and_tolerates_missing_final_padding():
    other = bytes([255, 2, 7, 0, 0xAA, 0xBB, 0, 0])  # command 7: skipped by its length and padding
    unpadded = focus_packet(0.25)[:10]
    packets = decode_packets(other + unpadded)
    assert packets == [CameraControlPacket(255, 0, 0, DataType.FIXED16, Operation.ASSIGN, bytes([0x00, 0x02]))]
    assert packets[0].focus == 0.25


@pytest.mark.parametrize("buffer, message", [
    (bytes([255, 6, 0, 0, 0, 0, 128]), "says 6 command bytes"),
    (bytes([255, 61, 0, 0]) + bytes(61), "at most 60"),
    (focus_packet(0.5) + b"\x01\x02", "stray bytes"),
    (bytes([255, 2, 0, 0, 0, 0, 0, 0]), "at least 4"),
    (bytes([255, 7, 0, 0, 0, 0, 128, 0, 1, 2, 3, 0]), "whole number of FIXED16"),
])
def test_decoder_rejects_malformed_packets(buffer, message):
    with pytest.raises(PacketError, match=message):
        [p.values for p in decode_packets(buffer)]


def test_decode_packet_wants_exactly_one():
    with pytest.raises(PacketError, match="found 2"):
        decode_packet(focus_packet(0.1) + focus_packet(0.2))


def test_encoder_validates_fields_and_size():
    with pytest.raises(ValueError, match="destination"):
        camera_control_packet(256, 0, 0, DataType.VOID, Operation.ASSIGN)
    with pytest.raises(ValueError, match="at most 56"):
        camera_control_packet(255, 0, 0, DataType.INT8, Operation.ASSIGN, bytes(57))
    with pytest.raises(ValueError, match="does not fit"):
        camera_control_packet(255, 1, 14, DataType.INT8, Operation.ASSIGN, [200])
    with pytest.raises(ValueError, match="whole numbers"):
        camera_control_packet(255, 1, 14, DataType.INT32, Operation.ASSIGN, [1.5])
    text = camera_control_packet(255, 7, 1, DataType.STRING, Operation.ASSIGN, "en")
    assert decode_packet(text).values == "en" and len(text) % 4 == 0


# -- the REST driver against a camera on 127.0.0.1 --------------------------------------


@pytest.fixture
def camera():
    with running_camera() as server:
        yield server


@pytest.fixture
def rest(camera):
    drivers = []

    def make(**options) -> BmdRestFocusDriver:
        driver = BmdRestFocusDriver("127.0.0.1", port=camera.port, **options)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.close()


def test_rest_driver_puts_json_reads_back_and_keeps_one_connection(camera, rest):
    driver = rest()
    assert isinstance(driver, FocusDriver)
    assert driver.capabilities == Capabilities("bmd", (0.0, 1.0), 1 / 2048, reports_position=True)
    assert driver.field == "normalised" and driver.position() == 0.5
    driver.move_to(0.25)
    method, path, headers, body = camera.requests[-1]
    assert (method, path, json.loads(body)) == ("PUT", "/control/api/v1/lens/focus", {"normalised": 0.25})
    assert headers["Content-Type"] == "application/json"
    assert driver.position() == 0.25 and camera.focus == 0.25
    driver.move_to(1.7)
    driver.move_to(-3.0)
    assert camera.puts()[-2:] == [{"normalised": 1.0}, {"normalised": 0.0}]
    with pytest.raises(ValueError):
        driver.move_to(float("nan"))
    started = time.monotonic()
    for i in range(30):  # one second of frames
        driver.move_to(i / 30)
    assert time.monotonic() - started < 1.0
    assert camera.connections == 1  # every request on the one kept-alive connection
    puts = len(camera.puts())
    driver.move_to(29 / 30)
    assert len(camera.puts()) == puts  # the same value is not sent again


def test_rest_driver_speaks_the_older_focus_field(camera, rest):
    camera.mode = "old"
    camera.focus = 0.75
    driver = rest()
    assert driver.field == "focus" and driver.position() == 0.75
    driver.move_to(0.125)
    assert camera.puts() == [{"focus": 0.125}] and driver.position() == 0.125


def test_rest_driver_without_a_focus_reading_echoes(camera, rest):
    camera.mode = "nofocus"
    driver = rest()
    assert driver.capabilities.reports_position is False and driver.position() is None
    driver.move_to(0.4)
    assert driver.position() == 0.4 and camera.puts() == [{"normalised": 0.4}]
    gets = sum(1 for r in camera.requests if r[0] == "GET")
    driver.stop()
    assert sum(1 for r in camera.requests if r[0] == "GET") == gets and len(camera.puts()) == 1


def test_rest_stop_holds_where_the_camera_is(camera, rest):
    driver = rest()
    driver.move_to(0.9)
    camera.focus = 0.6  # the lens is still on its way (or someone turned it)
    driver.stop()
    assert camera.puts()[-1] == {"normalised": 0.6}
    driver.move_to(0.9)  # the reading differed, so the same command goes out again
    assert camera.puts()[-1] == {"normalised": 0.9}


def test_rest_autofocus(camera, rest):
    rest().autofocus()
    assert camera.requests[-1][:2] == ("PUT", "/control/api/v1/lens/focus/doAutoFocus")


@pytest.mark.parametrize("mode, message", [
    ("404", "firmware is too old"),
    ("garbage", "not JSON"),
    ("login", "enabled with security"),
])
def test_rest_driver_faults(camera, rest, mode, message):
    camera.mode = mode
    with pytest.raises(DriverFault, match=message):
        rest()


def test_rest_fault_mid_session(camera, rest):
    driver = rest()
    camera.mode = "404"
    with pytest.raises(DriverFault, match=r"404.*web media manager"):
        driver.move_to(0.3)


def test_rest_slow_camera_times_out_then_recovers(camera, rest):
    driver = rest(timeout=0.2)
    camera.mode, camera.delay = "slow", 0.6
    started = time.monotonic()
    with pytest.raises(DriverFault, match="did not answer within 0.2 s"):
        driver.move_to(0.3)
    assert time.monotonic() - started < 0.5  # no retry after a timeout
    camera.mode = "ok"
    driver.move_to(0.3)
    assert camera.focus == 0.3 and camera.connections == 2


def test_rest_reopens_a_connection_the_camera_dropped(camera, rest):
    camera.mode = "drop"
    driver = rest()
    for value in (0.1, 0.2, 0.3):
        driver.move_to(value)
    assert camera.puts() == [{"normalised": 0.1}, {"normalised": 0.2}, {"normalised": 0.3}]
    assert camera.connections >= 3


def test_rest_unreachable_camera():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DriverFault, match="refused the connection.*web media manager"):
        BmdRestFocusDriver("127.0.0.1", port=port, timeout=0.5)


def test_rest_closed_driver(camera, rest):
    driver = rest()
    driver.close()
    driver.close()
    with pytest.raises(DriverFault, match="closed"):
        driver.move_to(0.2)


def test_rest_from_spec(camera):
    driver = bmd_rest.from_spec(f"bmd://127.0.0.1:{camera.port}?timeout=0.3")
    try:
        assert driver.timeout == 0.3 and driver.port == camera.port
        assert driver.description == f"bmd://127.0.0.1:{camera.port}"
    finally:
        driver.close()


@pytest.mark.parametrize("spec", [
    "bmd://", "http://camera.local", "bmd:camera", "bmd://camera.local/control/api", "bmd://camera.local:99999",
    "bmd://camera.local:0", "bmd://camera.local?speed=1", "bmd://camera.local?timeout=soon",
    "bmd://camera.local?https=yes", "bmd://admin:secret@camera.local",
])
def test_rest_bad_specs(spec):
    with pytest.raises(UserInputError):
        bmd_rest.from_spec(spec)


# -- the BLE driver over a fake transport ---------------------------------------------


def test_ble_writes_focus_packets_to_the_outgoing_characteristic():
    camera = FakeBleCamera()
    driver = BmdBleFocusDriver(camera)
    assert isinstance(driver, FocusDriver)
    assert set(camera.subscribers) == {INCOMING_CONTROL_UUID}
    assert driver.capabilities == Capabilities("bmd", (0.0, 1.0), 1 / 2048, reports_position=False)
    assert driver.position() is None
    driver.move_to(0.5)
    assert camera.writes == [(OUTGOING_CONTROL_UUID, bytes([255, 6, 0, 0, 0, 0, 128, 0, 0x00, 0x04, 0, 0]))]
    driver.move_to(0.5001)  # the same fixed16 value: not sent again
    driver.move_to(7.0)
    assert len(camera.writes) == 2 and camera.focus == 1.0
    assert decode_packet(camera.writes[-1][1]).destination == 255
    assert driver.position() == 1.0  # an echo: this camera reports nothing
    assert driver.capabilities.reports_position is False
    with pytest.raises(ValueError):
        driver.move_to(float("inf"))


def test_ble_reads_back_focus_the_camera_reports():
    camera = FakeBleCamera(echo=True)
    driver = BmdBleFocusDriver(camera)
    camera.notify(camera_control_packet(255, 0, 2, DataType.FIXED16, Operation.ASSIGN, [4.0]))  # aperture: ignored
    camera.notify(b"\x01\x02")  # line noise: counted, not raised
    assert driver.report_count == 0 and driver.bad_notifications == 1
    driver.move_to(0.25)
    assert driver.capabilities.reports_position is True and driver.position() == 0.25
    camera.notify(focus_packet(0.75))  # someone turned the focus on the camera
    assert driver.position() == 0.75
    driver.move_to(0.25)  # the camera moved away, so the same command is sent again
    assert len(camera.writes) == 2 and camera.focus == 0.25


def test_ble_stop_holds_where_the_camera_reports():
    camera = FakeBleCamera()
    driver = BmdBleFocusDriver(camera)
    driver.move_to(0.9)
    driver.stop()
    assert len(camera.writes) == 1  # nothing newer than the command: the lens settles there
    camera.notify(focus_packet(0.4))
    driver.stop()
    assert decode_packet(camera.writes[-1][1]).focus == pytest.approx(0.4, abs=1 / 4096)


def test_ble_disconnect_mid_session_is_a_driver_fault():
    camera = FakeBleCamera()
    driver = BmdBleFocusDriver(camera)
    driver.move_to(0.2)
    camera.drop()
    with pytest.raises(DriverFault, match="lost the Bluetooth link.*disconnected"):
        driver.move_to(0.3)
    with pytest.raises(DriverFault, match="lost the Bluetooth link"):
        driver.position()
    driver.close()
    driver.close()
    assert camera.closed == 1


def test_ble_failed_write_is_a_driver_fault():
    camera = FakeBleCamera()
    driver = BmdBleFocusDriver(camera)
    camera.fail_writes = True
    with pytest.raises(DriverFault, match="lost the Bluetooth link.*Not connected"):
        driver.move_to(0.3)
    camera.fail_writes = False
    with pytest.raises(DriverFault, match="lost the Bluetooth link"):
        driver.move_to(0.4)


@pytest.mark.parametrize("camera, message", [
    (FakeBleCamera(paired=False), "not paired.*6-digit PIN"),
    (FakeBleCamera(present=False), "no Bluetooth camera named.*focus-assistant devices"),
])
def test_ble_connect_faults_release_the_transport(camera, message):
    with pytest.raises(DriverFault, match=message):
        BmdBleFocusDriver(camera)
    assert camera.closed == 1


def test_ble_closed_driver():
    driver = BmdBleFocusDriver(FakeBleCamera())
    driver.close()
    with pytest.raises(DriverFault, match="closed"):
        driver.move_to(0.1)


@pytest.mark.parametrize("spec, target", [
    ("bmd-ble://A:12345678", "A:12345678"),
    ("BMD-BLE://Pocket%20Cinema%20Camera%206K/", "Pocket Cinema Camera 6K"),
    ("bmd-ble://AA:BB:CC:DD:EE:FF", "AA:BB:CC:DD:EE:FF"),
])
def test_ble_from_spec(spec, target):
    made = []

    def factory(name: str) -> FakeBleCamera:
        made.append(FakeBleCamera(name=name))
        return made[-1]

    driver = bmd_ble.from_spec(spec, transport_factory=factory)
    assert made[0].name == target and driver.description == f"bmd-ble://{target}"
    assert bmd_ble.is_address(target) == (target == "AA:BB:CC:DD:EE:FF")


@pytest.mark.parametrize("spec", ["bmd-ble://", "bmd-ble://   ", "ble://camera", "bmd://camera", "bmd-ble:camera",
                                  "bmd-ble://bad%00name", "bmd-ble://" + "x" * 249])
def test_ble_bad_specs(spec):
    with pytest.raises(UserInputError):
        bmd_ble.from_spec(spec, transport_factory=FakeBleCamera)


# -- bleak: missing, broken and faked --------------------------------------------------


def test_without_bleak(monkeypatch):
    monkeypatch.setitem(sys.modules, "bleak", None)  # import bleak now raises ImportError
    started = time.monotonic()
    found = discover(timeout=5.0)
    assert time.monotonic() - started < 0.5
    assert found.cameras == () and "pip install 'focus-assistant[ble]'" in found.note
    assert found.lines() == [f"  {found.note}"]
    with pytest.raises(UserInputError, match="bleak"):
        bmd_ble.from_spec("bmd-ble://A:12345678")


class FakeDevice:
    def __init__(self, name: str | None, address: str) -> None:
        self.name, self.address = name, address


class FakeAdvertisement:
    def __init__(self, name: str | None, uuids: list[str], rssi: int = -60) -> None:
        self.local_name, self.service_uuids, self.rssi = name, uuids, rssi


def fake_bleak(monkeypatch, *, devices=(), scan_error: BaseException | None = None, scan_hangs: bool = False,
               client_class=None) -> types.ModuleType:
    """A stand-in ``bleak`` module: a scanner over ``devices`` and ``client_class`` as the client."""

    class Scanner:
        @staticmethod
        async def discover(timeout: float = 5.0, *, return_adv: bool = False, service_uuids=None):
            if scan_hangs:
                await asyncio.sleep(60)
            if scan_error is not None:
                raise scan_error
            return {dev.address: (dev, adv) for dev, adv in devices}

        @staticmethod
        async def find_device_by_address(address: str, timeout: float = 10.0):
            return next((dev for dev, _ in devices if dev.address == address), None)

    module = types.ModuleType("bleak")
    module.BleakScanner = Scanner
    module.BleakClient = client_class
    monkeypatch.setitem(sys.modules, "bleak", module)
    return module


CAMERA = (FakeDevice("A:12345678", "AA:BB:CC:DD:EE:FF"), FakeAdvertisement("A:12345678", [SERVICE_UUID.upper()]))
SPEAKER = (FakeDevice("JBL Flip", "11:22:33:44:55:66"), FakeAdvertisement("JBL Flip", []))


def test_discover_lists_cameras_by_service(monkeypatch):
    fake_bleak(monkeypatch, devices=[CAMERA, SPEAKER])
    found = discover(timeout=0.1)
    assert found.cameras == (bmd_ble.BleCamera("A:12345678", "AA:BB:CC:DD:EE:FF", -60),) and found.note is None
    assert found.lines() == ["  A:12345678  AA:BB:CC:DD:EE:FF  (-60 dBm)  --driver bmd-ble://AA:BB:CC:DD:EE:FF"]
    fake_bleak(monkeypatch, devices=[SPEAKER])
    assert "no Blackmagic camera seen" in discover(timeout=0.1).note


@pytest.mark.parametrize("error, words", [
    (FileNotFoundError(2, "No such file or directory"), "bluetoothd"),  # Linux without a D-Bus system bus
    (RuntimeError("No Bluetooth adapters found."), "No Bluetooth adapters found"),
])
def test_discover_without_an_adapter_returns_a_note(monkeypatch, error, words):
    fake_bleak(monkeypatch, scan_error=error)
    found = discover(timeout=0.1)
    assert found.cameras == () and "Bluetooth unavailable" in found.note and words in found.note


def test_discover_gives_up_on_a_stuck_scan(monkeypatch):
    fake_bleak(monkeypatch, scan_hangs=True)
    started = time.monotonic()
    found = discover(timeout=0.1)
    assert time.monotonic() - started < 0.1 + bmd_ble.SCAN_GRACE + 0.5
    assert "did not finish" in found.note
    deadline = time.monotonic() + 1.0  # the abandoned scan is cancelled, its thread ends
    while any(t.name == "bmd-ble discover" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(t.name == "bmd-ble discover" for t in threading.enumerate())


class FakeClient:
    """bleak's BleakClient as far as BleakTransport uses it, recording on the transport's loop thread."""

    instances: list[FakeClient] = []

    def __init__(self, device, disconnected_callback=None, timeout: float = 30) -> None:
        self.device, self.disconnected_callback = device, disconnected_callback
        self.writes: list[tuple[str, bytes, bool]] = []
        self.notify: dict[str, object] = {}
        self.threads: set[str] = set()
        self.write_error: Exception | None = None
        self.connected = False
        FakeClient.instances.append(self)

    async def connect(self) -> None:
        self.connected = True

    async def start_notify(self, characteristic: str, callback) -> None:
        self.notify[characteristic] = callback

    async def write_gatt_char(self, characteristic: str, data: bytes, response: bool | None = None) -> None:
        self.threads.add(threading.current_thread().name)
        if self.write_error is not None:
            raise self.write_error
        self.writes.append((characteristic, bytes(data), response))

    async def disconnect(self) -> None:
        self.connected = False

    def camera_sends(self, loop, data: bytes) -> None:
        """A notification, delivered on the transport's loop as bleak does."""
        done = threading.Event()

        def deliver() -> None:
            self.notify[INCOMING_CONTROL_UUID](object(), bytearray(data))
            done.set()

        loop.call_soon_threadsafe(deliver)
        assert done.wait(2.0)

    def camera_hangs_up(self, loop) -> None:
        done = threading.Event()
        loop.call_soon_threadsafe(lambda: (self.disconnected_callback(self), done.set()))
        assert done.wait(2.0)


def test_bleak_transport_drives_a_camera_found_by_name(monkeypatch):
    FakeClient.instances = []
    fake_bleak(monkeypatch, devices=[SPEAKER, CAMERA], client_class=FakeClient)
    driver = bmd_ble.from_spec("bmd-ble://a:12345678")
    transport = driver.transport
    client = FakeClient.instances[0]
    try:
        assert client.device is CAMERA[0] and client.connected
        assert transport.name == "A:12345678 (AA:BB:CC:DD:EE:FF)"
        driver.move_to(0.5)
        driver.move_to(0.25)
        transport._settle()  # wait for the pipelined write
        assert client.writes == [(OUTGOING_CONTROL_UUID, focus_packet(0.5), True),
                                 (OUTGOING_CONTROL_UUID, focus_packet(0.25), True)]
        assert client.threads == {transport._thread.name}
        client.camera_sends(transport._loop, focus_packet(0.125))
        assert driver.capabilities.reports_position is True and driver.position() == 0.125
        client.camera_hangs_up(transport._loop)
        with pytest.raises(DriverFault, match="lost the Bluetooth link.*A:12345678"):
            driver.move_to(0.3)
    finally:
        driver.close()
    assert not transport._thread.is_alive() and not client.connected


def test_bleak_transport_reports_a_refused_write_as_not_paired(monkeypatch):
    FakeClient.instances = []
    fake_bleak(monkeypatch, devices=[CAMERA], client_class=FakeClient)
    driver = bmd_ble.from_spec("bmd-ble://AA:BB:CC:DD:EE:FF")
    try:
        FakeClient.instances[0].write_error = RuntimeError("Insufficient Authentication")
        driver.move_to(0.5)  # queued; its error comes back with the next write
        with pytest.raises(DriverFault, match="not paired.*PIN"):
            driver.move_to(0.6)
    finally:
        driver.close()


def test_bleak_transport_name_lookups(monkeypatch):
    twin = (FakeDevice("A:12345679", "AA:BB:CC:DD:EE:00"), FakeAdvertisement("A:12345679", [SERVICE_UUID]))
    fake_bleak(monkeypatch, devices=[CAMERA, twin], client_class=FakeClient)
    with pytest.raises(UserInputError, match="2 Bluetooth devices match 'A:1234'"):
        bmd_ble.from_spec("bmd-ble://A:1234")
    with pytest.raises(DriverFault, match="no Bluetooth camera named 'Ursa'"):
        BmdBleFocusDriver(BleakTransport("Ursa", scan_timeout=0.1))
    with pytest.raises(DriverFault, match="no Bluetooth device 00:00:00:00:00:01"):
        bmd_ble.from_spec("bmd-ble://00:00:00:00:00:01")
