"""SerialMotorDriver end to end: pyserial on a real pty, the controller emulated on the other side."""

from __future__ import annotations

import math
import random
import time

import pytest

from assistant.drivers.base import Capabilities, FocusDriver
from assistant.drivers.serial_motor import SerialMotorDriver
from assistant.errors import DriverFault, UserInputError
from tests.drivers.motor_emulator import MotorEmulator
from tests.drivers.timing import timed

TIMEOUT = 0.1  # the driver's reply timeout in these tests (the default)


@pytest.fixture
def emulator():
    emu = MotorEmulator()
    yield emu
    emu.close()


@pytest.fixture
def driver(emulator):
    drv = SerialMotorDriver(emulator.port, timeout=TIMEOUT, boot_time=0.5)
    yield drv
    drv.close()


def follow_move(driver, target, speed, *, limit=2.0):
    """Start a move from 0, poll it to the end checking every sample against ``speed``; the time it took.

    The device starts the move somewhere between sending MOVE and reading its
    acknowledgement, and reads its position somewhere between sending POS?
    and reading the reply, so each sample has exact bounds.
    """
    sent = time.monotonic()
    driver.move_to(target)
    acked = time.monotonic()
    samples = 0
    while True:
        before = time.monotonic()
        position = driver.position()
        after = time.monotonic()
        samples += 1
        assert position == target or position >= speed * (before - acked) - 1
        assert position <= min(target, speed * (after - sent) + 1)
        if position == target:
            assert samples > 3, "the move should take several polls at this speed"
            return after - sent
        assert after - sent < limit, f"move to {target} did not finish, at {position}"
        time.sleep(0.01)


# -- handshake ----------------------------------------------------------------


def test_handshake_fills_capabilities_from_hello(emulator, driver):
    assert isinstance(driver, FocusDriver)
    assert driver.capabilities == Capabilities("steps", (0.0, 4000.0), 1.0, 2000.0, reports_position=True)
    assert driver.watchdog == 1.0
    assert emulator.received == ["HELLO", "STATUS?"]
    assert driver.position() == 0.0


@pytest.mark.parametrize(
    ("hello", "capabilities", "watchdog"),
    [
        ("OK FOCUS 1 um -500 1500 300", Capabilities("um", (-500.0, 1500.0), 1.0, 300.0, True), 1.0),
        ("OK FOCUS 1 usteps 0 64000 8000 250 later-field", Capabilities("usteps", (0.0, 64000.0), 1.0, 8000.0, True), 0.25),
    ],
)
def test_handshake_default_watchdog_and_extra_fields(hello, capabilities, watchdog):
    with MotorEmulator(hello=hello) as emu, SerialMotorDriver(emu.port) as drv:
        assert drv.capabilities == capabilities
        assert drv.watchdog == watchdog


def test_handshake_waits_for_a_booting_controller():
    with MotorEmulator(boot_delay=0.3) as emu:
        start = time.monotonic()
        with SerialMotorDriver(emu.port, boot_time=1.5) as drv:
            assert 0.3 <= time.monotonic() - start < 1.0
            assert drv.capabilities.limits == (0.0, 4000.0)


@pytest.mark.parametrize(
    ("hello", "message"),
    [
        ("OK FOCUS 2 steps 0 4000 2000", "speaks focus protocol 2"),
        ("OK FOCUS 1 steps 0 lots 2000", "malformed HELLO"),
        ("OK FOCUS 1 steps", "malformed HELLO"),
        ("OK FOCUS 1 steps 4000 0 2000", "impossible settings"),
        ("OK FOCUS 1 steps 0 4000 0", "impossible settings"),
    ],
)
def test_bad_hello_is_a_fault(hello, message):
    with MotorEmulator(hello=hello) as emu:
        with pytest.raises(DriverFault, match=message) as caught:
            SerialMotorDriver(emu.port)
        assert emu.port in str(caught.value)


def test_silent_port_fails_after_boot_time():
    with MotorEmulator() as emu:
        emu.silent = True
        error, elapsed = timed(lambda: SerialMotorDriver(emu.port, timeout=0.05, boot_time=0.3))
        assert isinstance(error, DriverFault)
        assert f"{emu.port} did not answer 'HELLO'" in str(error)
        assert 0.3 <= elapsed < 0.8
        assert emu.received.count("HELLO") >= 4


def test_comment_lines_are_not_reported_as_noise(emulator):
    emulator.garble(b"# focus_motor ready\n\n", times=math.inf)
    with pytest.raises(DriverFault, match="did not answer 'HELLO'"):
        SerialMotorDriver(emulator.port, timeout=0.05, boot_time=0.0)


def test_fault_latched_before_connect_stops_the_handshake():
    with MotorEmulator() as emu:
        emu.fault("limit switch")
        with pytest.raises(DriverFault, match="reports a fault: limit switch"):
            SerialMotorDriver(emu.port)


def test_missing_port_is_a_user_error(tmp_path):
    with pytest.raises(UserInputError, match="no serial port .*list_ports"):
        SerialMotorDriver(str(tmp_path / "ttyUSB9"))


@pytest.mark.parametrize("options", [{"timeout": 0}, {"timeout": math.nan}, {"baudrate": 0}, {"boot_time": -1}])
def test_bad_options_are_user_errors(emulator, options):
    with pytest.raises(UserInputError):
        SerialMotorDriver(emulator.port, **options)


# -- moving -------------------------------------------------------------------


def test_move_reaches_the_target_at_the_device_speed(emulator, driver):
    assert 0.3 - 0.005 <= follow_move(driver, 600, 2000) < 0.3 + 0.2  # 600 steps at 2000 steps/s
    assert "MOVE 600" in emulator.received
    assert not emulator.moving()


def test_set_speed_is_clamped_and_slows_the_move(emulator, driver):
    driver.set_speed(1e9)
    driver.set_speed(0.2)
    driver.set_speed(500)
    assert [c for c in emulator.received if c.startswith("SPEED")] == ["SPEED 2000", "SPEED 1", "SPEED 500"]
    assert 0.3 - 0.005 <= follow_move(driver, 150, 500) < 0.3 + 0.2  # 150 steps at 500 steps/s
    with pytest.raises(UserInputError, match="speed"):
        driver.set_speed(0)


def test_speed_option_is_sent_on_connect(emulator):
    with SerialMotorDriver(emulator.port, speed=750):
        assert emulator.received == ["HELLO", "STATUS?", "SPEED 750"]


def test_targets_are_clamped_to_the_limits_and_rounded(emulator, driver):
    driver.set_speed(2000)
    for target in (99999, -50, 1234.6, 4000.4):
        driver.move_to(target)
    assert [c for c in emulator.received if c.startswith("MOVE")] == ["MOVE 4000", "MOVE 0", "MOVE 1235", "MOVE 4000"]
    with pytest.raises(ValueError):
        driver.move_to(math.nan)


def test_stop_halts_where_the_motor_is(emulator, driver):
    driver.move_to(4000)
    time.sleep(0.1)
    driver.stop()
    stopped = driver.position()
    assert 100 <= stopped <= 1000  # ~0.1 s at 2000 steps/s, with room for a slow machine
    time.sleep(0.1)
    assert driver.position() == stopped
    assert not emulator.moving() and emulator.received[-3:] == ["STOP", "POS?", "POS?"]


def test_device_watchdog_stops_a_move_the_host_stopped_polling():
    with MotorEmulator(watchdog_ms=150) as emu, SerialMotorDriver(emu.port) as drv:
        assert drv.watchdog == 0.15
        drv.move_to(4000)
        time.sleep(0.3)
        assert drv.position() in (299.0, 300.0, 301.0)  # 0.15 s at 2000 steps/s after MOVE
        assert emu.watchdog_stops == 1


# -- faults ---------------------------------------------------------------------


def test_device_fault_mid_move_is_a_driver_fault(emulator, driver):
    driver.move_to(4000)
    emulator.fault("stall")
    error, elapsed = timed(driver.position)
    assert isinstance(error, DriverFault)
    assert f"{emulator.port} reports a fault: stall" in str(error)
    assert elapsed < TIMEOUT  # a refusal is final: no retry
    with pytest.raises(DriverFault, match="stall"):
        driver.move_to(10)
    driver.stop()  # STOP still answers, so close() can always send it


def test_refused_command_is_not_retried(emulator):
    # The device claims 0..4000 but refuses targets above 1000.
    emulator.limits = (0, 1000)
    refusal = r"refused 'MOVE 2000': RANGE position outside 0\.\.1000"
    with SerialMotorDriver(emulator.port) as drv, pytest.raises(DriverFault, match=refusal):
        drv.move_to(2000)
    assert emulator.received.count("MOVE 2000") == 1


def test_silent_device_times_out_after_one_retry(emulator, driver):
    emulator.silent = True
    error, elapsed = timed(driver.position)
    assert isinstance(error, DriverFault)
    assert f"{emulator.port} did not answer 'POS?' within 0.1 s (2 tries)" in str(error)
    assert 2 * TIMEOUT <= elapsed < 2 * TIMEOUT + 0.3
    assert emulator.received[-2:] == ["POS?", "POS?"]


def test_noise_before_the_reply_is_skipped_without_a_retry(emulator, driver):
    driver.move_to(40)
    time.sleep(0.05)
    emulator.garble(b"\x00\xff\xfe\n# debug line\nOK MOVE 12\nOK\nERR\n", then_answer=True)
    assert driver.position() == 40.0
    assert emulator.received.count("POS?") == 1


def test_a_late_reply_to_another_command_is_skipped(emulator, driver):
    emulator.garble(b"OK MOVE 100\nOK 55 1\n", then_answer=True)
    driver.move_to(200)
    assert emulator.received.count("MOVE 200") == 1


def test_one_garbled_reply_is_retried(emulator, driver):
    noise = random.Random(7).randbytes(60).replace(b"\n", b"") + b"OK 12"  # ends in half a line
    emulator.garble(noise)
    start = time.monotonic()
    assert driver.position() == 0.0
    assert TIMEOUT <= time.monotonic() - start < TIMEOUT + 0.2
    assert emulator.received.count("POS?") == 2


def test_err_syntax_means_a_damaged_line_and_is_retried_at_once(emulator, driver):
    emulator.garble(b"ERR SYNTAX unknown command\n")
    start = time.monotonic()
    driver.stop()
    assert time.monotonic() - start < TIMEOUT
    assert emulator.received[-2:] == ["STOP", "STOP"]


def test_persistent_noise_is_a_fault(emulator, driver):
    emulator.garble(b"\x13\x37 line noise \x80\n" * 3, times=math.inf)
    error, elapsed = timed(driver.position)
    assert isinstance(error, DriverFault)
    assert f"{emulator.port} answered 'POS?' only with unreadable or unexpected data (2 tries" in str(error)
    assert "baud rate (115200)" in str(error)
    assert elapsed < 2 * TIMEOUT + 0.3


def test_endless_line_without_newline_is_a_fault(emulator, driver):
    emulator.garble(b"x" * 1000, times=math.inf)
    with pytest.raises(DriverFault, match="unreadable or unexpected data"):
        driver.position()


def test_unplugged_mid_move_is_a_fault_not_a_hang(emulator, driver):
    driver.move_to(4000)
    emulator.unplug()
    error, elapsed = timed(driver.position)
    assert isinstance(error, DriverFault)
    assert f"lost the focus motor port {emulator.port}" in str(error)
    assert elapsed < 0.5
    start = time.monotonic()
    driver.close()  # the best-effort STOP fails quietly and the port is released
    assert time.monotonic() - start < 0.5


# -- closing --------------------------------------------------------------------


def test_close_stops_the_motor_and_releases_the_port(emulator, driver):
    driver.move_to(3000)
    time.sleep(0.05)
    assert emulator.moving()
    driver.close()
    assert emulator.received[-1] == "STOP"
    assert not emulator.moving()
    driver.close()  # twice is fine
    assert emulator.received.count("STOP") == 1
    with pytest.raises(DriverFault, match="is closed"):
        driver.position()
