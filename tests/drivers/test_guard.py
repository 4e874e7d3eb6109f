"""The guard: no sequence of commands takes any driver past its soft limits or its slew limit;
lens maps are monotone and invertible; the opener explains what it needs."""

from __future__ import annotations

import math
import socket
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.drivers.base import Capabilities
from assistant.drivers.guard import DuckDriver, GuardedDriver, SafetyLimits
from assistant.drivers.lensmap import LensMap, load_lens
from assistant.drivers.open import camera_driver, open_driver
from assistant.drivers.osc import OscFocusDriver
from assistant.errors import ConfigError, DriverFault, UserInputError
from assistant.sim.lens import SimLens

LENS = Path(__file__).parent / "data" / "stepper-lens.toml"


class Recorder:
    """Wraps a real driver and records what reaches it, with the guard's clock."""

    def __init__(self, inner, clock) -> None:
        self.inner = inner
        self.capabilities = inner.capabilities
        self.clock = clock
        self.sent: list[tuple[float, float]] = []

    def move_to(self, native: float) -> None:
        self.sent.append((self.clock(), native))
        self.inner.move_to(native)

    def position(self):
        return self.inner.position()

    def stop(self) -> None:
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def rig_lens(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    lens = SimLens(2.0, 0.3, 50.0, 4.0)
    return DuckDriver(lens, "rig lens"), None, SafetyLimits(lens.limits, 4.0)


def stepper(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    from tests.drivers.plugin_motor import StepperPlugin

    class Frozen(StepperPlugin):  # on the test's clock, not the wall clock: jumps to each command
        def _update(self) -> None:
            self._position = self._target

    lens, lens_map = load_lens(LENS)
    return DuckDriver(Frozen(), "stepper"), lens_map, SafetyLimits((20.0, 3980.0), 3000.0)


def osc(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    driver = OscFocusDriver("127.0.0.1", sink.getsockname()[1], units="metres", limits=(0.05, 5.0))
    driver.test_socket = sink  # kept open for the driver's life
    return driver, None, SafetyLimits((0.1, 4.0), 2.5)


def serial(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    """The real serial driver against the motor emulator on a pty (steps, through the test lens map)."""
    from assistant.drivers.serial_motor import SerialMotorDriver
    from tests.drivers.motor_emulator import MotorEmulator

    emulator = MotorEmulator()
    driver = SerialMotorDriver(emulator.port, timeout=0.2, boot_time=0.5)
    driver.test_emulator = emulator  # closed with the driver below
    lens, lens_map = load_lens(LENS)
    return driver, lens_map, SafetyLimits((20.0, 3980.0), 3000.0, timeout_s=1.0)


BMD_LENS = Path(__file__).resolve().parents[2] / "config" / "lenses" / "example-bmd.toml"
VISCA_LENS = BMD_LENS.with_name("example-visca.toml")


def bmd_rest(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    """The Blackmagic REST driver against a camera on 127.0.0.1 (0..1, through the template lens file)."""
    from assistant.drivers.bmd_rest import BmdRestFocusDriver
    from tests.drivers.bmd_camera import RestCamera

    camera = RestCamera()
    driver = BmdRestFocusDriver("127.0.0.1", port=camera.port, timeout=1.0)
    driver.test_emulator = camera  # closed with the driver below
    return driver, load_lens(BMD_LENS)[1], SafetyLimits((0.05, 0.95), 1.5)


def bmd_ble(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    """The Blackmagic Bluetooth driver over a transport whose camera reports focus back."""
    from assistant.drivers.bmd_ble import BmdBleFocusDriver
    from tests.drivers.bmd_camera import FakeBleCamera

    return BmdBleFocusDriver(FakeBleCamera(echo=True)), load_lens(BMD_LENS)[1], SafetyLimits((0.05, 0.95), 1.5)


def visca(_clock) -> tuple[object, LensMap | None, SafetyLimits]:
    """The VISCA-over-IP driver against an emulated PTZ camera on 127.0.0.1 (through the template lens file)."""
    from assistant.drivers.visca import ViscaFocusDriver
    from tests.drivers.visca_camera import ViscaCamera

    camera = ViscaCamera(autofocus=False, travel_time=0.2)
    driver = ViscaFocusDriver("127.0.0.1", camera.port)
    driver.test_emulator = camera
    return driver, load_lens(VISCA_LENS)[1], SafetyLimits((6000.0, 58000.0), 120000.0)


commands = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=2.0),  # seconds since the previous command
              st.one_of(st.floats(min_value=-50, max_value=50), st.sampled_from([math.inf, -math.inf, math.nan]))),
    min_size=1, max_size=60)


@pytest.mark.parametrize("make", [rig_lens, stepper, osc, serial, bmd_rest, bmd_ble, visca],
                         ids=["rig", "plugin stepper with lens map", "osc", "serial on a pty",
                              "blackmagic rest on 127.0.0.1", "blackmagic ble", "visca over udp"])
@settings(max_examples=40, deadline=None)
@given(sequence=commands, nudges=st.lists(st.booleans(), max_size=5))
def test_no_command_sequence_leaves_soft_limits_or_exceeds_the_slew_limit(make, sequence, nudges):
    clock = Clock()
    native, lens_map, safety = make(clock)
    recorder = Recorder(native, clock)
    start = native.position()
    guard = GuardedDriver(recorder, lens_map, safety, clock)
    for gap, dioptres in sequence:
        clock.now += gap
        if not math.isfinite(dioptres):
            with pytest.raises(ValueError):
                guard.move_to(dioptres)
            continue
        guard.move_to(dioptres)
    references = {}  # after a stop and resume, the motor moves on from where it actually is
    for stop in nudges:
        if stop:
            guard.emergency_stop()
        elif guard.resume():
            here = native.position()
            if here is not None:
                references[len(recorder.sent)] = (clock.now, here)
        clock.now += 0.1
        guard.move_to(10.0)
    lo, hi = safety.soft_limits
    if start is not None:  # a motor that started outside (parked on a hard stop) may only come back in
        lo, hi = min(lo, start), max(hi, start)
    assert all(lo - 1e-9 <= value <= hi + 1e-9 for _, value in recorder.sent)
    inside = [i for i, (_, value) in enumerate(recorder.sent) if safety.soft_limits[0] <= value <= safety.soft_limits[1]]
    if inside:  # once inside, never out again
        assert all(safety.soft_limits[0] - 1e-9 <= v <= safety.soft_limits[1] + 1e-9 for _, v in recorder.sent[inside[0]:])
    previous = None
    for i, (when, value) in enumerate(recorder.sent):
        previous = references.get(i, previous)
        if previous is not None:
            then, before = previous
            assert abs(value - before) <= safety.max_speed * (when - then) + 1e-6
        previous = (when, value)
    assert guard.fault is None
    guard.close()
    emulator = getattr(native, "test_emulator", None)
    if emulator is not None:
        emulator.close()


def test_slew_limit_ramps_a_jump_at_the_allowed_speed():
    clock = Clock()
    native, lens_map, safety = stepper(clock)
    recorder = Recorder(native, clock)
    guard = GuardedDriver(recorder, lens_map, safety, clock)
    for _ in range(5):
        clock.now += 0.1
        guard.move_to(3.0)  # 3600 steps, far from the 400 the motor is at
    assert [round(v) for _, v in recorder.sent] == [700, 1000, 1300, 1600, 1900]  # 3000 steps/s


def test_a_slow_driver_call_trips_the_watchdog():
    clock = Clock()

    class Slow:
        capabilities = Capabilities("dioptres", (0.0, 5.0))

        def __init__(self):
            self.stopped = 0

        def move_to(self, native):
            import time
            time.sleep(0.06)

        def position(self):
            return 1.0

        def stop(self):
            self.stopped += 1

        def close(self):
            pass

    slow = Slow()
    guard = GuardedDriver(slow, None, SafetyLimits((0.0, 5.0), 10.0, timeout_s=0.05), clock)
    guard.move_to(1.0)
    assert guard.fault and "took" in guard.fault and slow.stopped == 1
    guard.move_to(2.0)  # ignored once faulted
    assert guard.resume() is False


def test_a_driver_fault_latches_and_stops_the_motor():
    class Broken(DuckDriver):
        def move_to(self, native):
            raise DriverFault("serial:/dev/ttyUSB0: no reply within 100 ms")

    lens = SimLens(2.0, 0.3, 50.0, 4.0)
    guard = GuardedDriver(Broken(lens, "serial"), None, SafetyLimits(lens.limits, 4.0), Clock())
    guard.move_to(0.5)
    assert guard.fault == "serial: serial:/dev/ttyUSB0: no reply within 100 ms"


def test_lens_map_is_monotone_between_points_and_inverts():
    lens_map = LensMap([(0.0, 10), (0.5, 40), (1.0, 90), (2.0, 200), (4.0, 255)])
    grid = [i / 100 for i in range(0, 401)]
    natives = [lens_map.to_native(d) for d in grid]
    assert all(b >= a for a, b in zip(natives, natives[1:]))
    assert lens_map.to_native(1.0) == 90 and lens_map.to_native(9.0) == 255  # through the points, clamped
    for d in grid[::7]:
        assert lens_map.to_dioptres(lens_map.to_native(d)) == pytest.approx(d, abs=1e-6)
    falling = LensMap([(0.0, 4000), (1.0, 2800), (3.0, 0)])  # a motor that counts the other way
    assert falling.to_dioptres(falling.to_native(2.0)) == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize("body,message", [
    ("[[points]]\ndistance_m = 1.0\nnative = 5\n", "at least two points"),
    ("[[points]]\ndistance_m = 1.0\nnative = 5\n[[points]]\ndistance_m = 2.0\nnative = 9\n"
     "[[points]]\ndistance_m = 4.0\nnative = 2\n", r"rise \(or fall\) steadily"),
    ("soft_limits = [10, 5]\n[[points]]\ndistance_m = 1.0\nnative = 5\n[[points]]\ndistance_m = 2.0\nnative = 9\n",
     "soft_limits"),
    ("[[points]]\ndistance_m = 1.0\nnativ = 5\n", r"points\[0\]\.nativ: unknown key"),
    ("[[points]]\ndistance_m = 0.0\nnative = 5\n", "distance_m: 0.0 is out of range"),
])
def test_bad_lens_files_name_the_file_and_the_key(tmp_path, body, message):
    path = tmp_path / "lens.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as caught:
        load_lens(path)
    assert str(path) in str(caught.value)


def test_opener_explains_what_a_driver_needs(tmp_path):
    with pytest.raises(ConfigError, match="--lens FILE"):
        open_driver("tests.drivers.plugin_motor:make_motor", None, 0.5, source=None)
    with pytest.raises(UserInputError, match="unknown driver"):
        open_driver("stepper9000", None, 0.5, source=None)
    with pytest.raises(UserInputError, match="cannot import module"):
        open_driver("no_such_module:make", LENS, 0.5, source=None)
    with pytest.raises(UserInputError, match="camera source"):
        camera_driver("uvc", "sim")
    guard = open_driver("tests.drivers.plugin_motor:make_motor", LENS, 0.5, source=None)
    assert guard.units == "dioptres" and guard.limits == pytest.approx((20 / 1200, 3980 / 1200))
    guard.close()


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[2].joinpath("config", "lenses").glob("*.toml")),
                         ids=lambda p: p.name)
def test_shipped_lens_files_load(path):
    lens, lens_map = load_lens(path)
    assert len(lens.points) >= 2 and lens.soft_limits[0] < lens.soft_limits[1]
    for point in lens.points:  # the map goes through every listed point
        assert lens_map.to_native(1 / point.distance_m) == pytest.approx(point.native)


def test_a_motor_found_outside_the_soft_limits_comes_back_in_at_the_slew_rate():
    lens = SimLens(0.35, 0.3, 50.0, 4.0)  # parked at 2.86 dpt, beyond the 2.0 soft limit
    clock = Clock()
    recorder = Recorder(DuckDriver(lens, "rig lens"), clock)
    guard = GuardedDriver(recorder, None, SafetyLimits((0.0, 2.0), 4.0), clock)
    assert guard.fault is None and "outside the soft limits" in guard.warnings[0]
    for _ in range(4):
        clock.now += 0.1
        guard.move_to(3.3)  # asks to go further out: held where it is, never beyond
    assert [round(v, 3) for _, v in recorder.sent] == [2.857] * 4
    for _ in range(4):
        clock.now += 0.1
        guard.move_to(1.0)  # back in at 4 dpt/s, then inside for good
    assert [round(v, 3) for _, v in recorder.sent[4:]] == [2.457, 2.057, 1.657, 1.257]


def test_a_plugin_reporting_nonsense_is_a_fault():
    class Nonsense:
        units = "dioptres"
        limits = (0.0, 5.0)

        def move_to(self, value):
            pass

        def position(self):
            return float("nan")

    guard = GuardedDriver(DuckDriver(Nonsense(), "plugin"), None, SafetyLimits((0.0, 5.0)), Clock())
    assert guard.fault and "nonsense" in guard.fault and guard.position() is None


def test_drive_mode_with_a_driver_that_cannot_report_starts_from_the_target():
    """OSC echoes only what it sent: drive mode sends the target's distance first, and racks do not crash."""
    from assistant.focus.director import FocusDirector
    from assistant.types import Subject

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    osc_driver = OscFocusDriver("127.0.0.1", sink.getsockname()[1], units="dioptres", limits=(0.0, 5.0))
    clock = Clock()
    guard = GuardedDriver(osc_driver, None, SafetyLimits((0.0, 5.0), 10.0), clock)
    director = FocusDirector("drive", driver=guard, limits_dpt=guard.limits)
    people = (Subject(1, (10, 10, 50, 50), "A", 2.0), Subject(2, (200, 10, 40, 40), "B", 4.0))
    director.step(0.0, 0, people, guard.position())
    assert guard.position() == pytest.approx(0.5)  # sent straight to A at 2 m
    director.request_rack("B")
    for frame in range(1, 40):
        clock.now += 1 / 30
        director.step(frame / 30, frame, people, guard.position())
    assert guard.position() == pytest.approx(0.25, abs=0.02)  # racked to B at 4 m
    sink.close()
    osc_driver.close()


def test_the_camera_drivers_open_by_address_with_their_lens_files():
    """visca:// and bmd:// open through --driver with the shipped templates; a file for other units is refused."""
    from tests.drivers.bmd_camera import RestCamera
    from tests.drivers.visca_camera import ViscaCamera

    with ViscaCamera() as ptz:
        guard = open_driver(f"visca://127.0.0.1:{ptz.port}", VISCA_LENS, 0.5, source=None)
        assert guard.units == "dioptres" and guard.limits == pytest.approx((0.0, 1 / 0.3), abs=1e-6)
        guard.close()
        with pytest.raises(ConfigError, match="the lens file is for 'bmd' but the driver moves in 'visca'"):
            open_driver(f"visca://127.0.0.1:{ptz.port}", BMD_LENS, 0.5, source=None)
    camera = RestCamera()
    try:
        guard = open_driver(f"bmd://127.0.0.1:{camera.port}", BMD_LENS, 0.5, source=None)
        for _ in range(50):  # the guard ramps the move at the template's 1.5 per second
            guard.move_to(1 / 2.0)  # 2 m: the template's 0.66
            time.sleep(0.01)
        assert camera.server.focus == pytest.approx(0.66, abs=1 / 2048)
        guard.close()
        with pytest.raises(ConfigError, match="needs a lens file"):
            open_driver(f"bmd://127.0.0.1:{camera.port}", None, 0.5, source=None)
    finally:
        camera.close()
