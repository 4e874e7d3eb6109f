"""The OSC driver against a real UDP OSC server on 127.0.0.1."""

from __future__ import annotations

import threading
import time

import pytest
from pythonosc import dispatcher as osc_dispatcher
from pythonosc import osc_server

from assistant.drivers.base import FocusDriver
from assistant.drivers.osc import OscFocusDriver, from_spec
from assistant.errors import ConfigError, DriverFault


class Receiver:
    """Collects every (address, args) the server hears."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple]] = []
        self._cond = threading.Condition()

    def handle(self, address: str, *args: object) -> None:
        with self._cond:
            self.messages.append((address, args))
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 2.0) -> list[tuple[str, tuple]]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.messages) >= count, timeout), \
                f"expected {count} OSC messages, got {len(self.messages)}: {self.messages}"
            return list(self.messages)

    def values(self) -> list[float]:
        with self._cond:
            return [args[0] for _, args in self.messages]


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def receiver():
    received = Receiver()
    dispatch = osc_dispatcher.Dispatcher()
    dispatch.set_default_handler(received.handle)
    server = osc_server.ThreadingOSCUDPServer(("127.0.0.1", 0), dispatch)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    received.port = server.server_address[1]
    yield received
    server.shutdown()
    server.server_close()
    thread.join(timeout=2.0)


@pytest.fixture
def clock():
    return Clock()


def step(driver, receiver, value, expect_sent: bool) -> None:
    """Move, then prove whether that move put a message on the wire.

    The server handles each datagram on its own thread, so order is only
    certain one message at a time: wait for each before the next.
    """
    before = len(receiver.messages)
    driver.move_to(value)
    if expect_sent:
        receiver.wait_for(before + 1)
    assert driver.sent_count == before + (1 if expect_sent else 0)


def test_moves_arrive_as_float_metres_at_the_default_address(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, clock=clock)
    assert isinstance(driver, FocusDriver)
    assert driver.capabilities.units == "dioptres"
    assert driver.capabilities.limits == (0.01, 10.0)
    assert driver.capabilities.reports_position is False
    assert driver.position() is None
    for dioptres in (0.5, 1.0, 4.0, 0.25):
        step(driver, receiver, dioptres, expect_sent=True)
        clock.t += 0.04
    messages = receiver.wait_for(4)
    assert [address for address, _ in messages] == ["/focus/distance"] * 4
    assert all(len(args) == 1 and isinstance(args[0], float) for _, args in messages)
    assert receiver.values() == pytest.approx([2.0, 1.0, 0.25, 4.0], rel=1e-6)
    assert driver.position() == 0.25
    driver.close()


def test_metres_are_clamped_to_the_limits_so_infinity_is_never_sent(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, units="metres", limits=(0.2, 2.0), clock=clock)
    step(driver, receiver, 0.0, expect_sent=True)      # infinity -> far limit, 5 m
    clock.t += 0.1
    step(driver, receiver, 8.0, expect_sent=True)      # 12.5 cm -> near limit, 0.5 m
    assert receiver.values() == pytest.approx([5.0, 0.5], rel=1e-6)
    assert driver.position() == 2.0
    driver.close()


def test_dioptres_go_out_unchanged_at_a_custom_address(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, "/lens/1/focus", units="dioptres", clock=clock)
    assert driver.capabilities.limits == (0.0, 10.0)
    for value in (0.0, 0.333, 2.5, 10.0):
        step(driver, receiver, value, expect_sent=True)
    messages = receiver.wait_for(4)
    assert {address for address, _ in messages} == {"/lens/1/focus"}
    assert receiver.values() == pytest.approx([0.0, 0.333, 2.5, 10.0], rel=1e-6)
    driver.close()


def test_normalized_is_zero_at_the_far_limit_and_one_at_the_near_limit(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, units="normalized", limits=(0.5, 4.5), clock=clock)
    for value, sent in ((0.5, True), (4.5, True), (2.5, True), (1.5, True), (9.0, True), (4.5, False), (0.0, True)):
        step(driver, receiver, value, expect_sent=sent)
    # 9.0 clamps to the near limit (1.0); 4.5 after it is the same 1.0, so it is not resent;
    # 0.0 (infinity) clamps to the far limit (0.0).
    assert receiver.values() == pytest.approx([0.0, 1.0, 0.5, 0.25, 1.0, 0.0], rel=1e-6)
    assert driver.wire_value(1.5) == pytest.approx(0.25)
    driver.close()


def test_unchanged_values_are_not_resent_until_the_keepalive_is_due(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, units="dioptres", keepalive_s=0.5, clock=clock)
    step(driver, receiver, 2.0, expect_sent=True)
    clock.t += 0.1
    step(driver, receiver, 2.0, expect_sent=False)          # same value
    clock.t += 0.1
    step(driver, receiver, 2.00005, expect_sent=False)      # within epsilon (1e-4)
    clock.t += 0.29
    step(driver, receiver, 2.0, expect_sent=False)          # 0.49 s since the send
    clock.t += 0.01
    step(driver, receiver, 2.00005, expect_sent=True)       # 0.50 s: keepalive
    clock.t += 0.01
    step(driver, receiver, 2.01, expect_sent=True)          # a real change: at once
    clock.t += 0.2
    driver.keepalive()                                       # 0.2 s: not due
    clock.t += 0.3
    driver.keepalive()                                       # 0.5 s: due
    receiver.wait_for(4)
    assert driver.sent_count == 4
    assert receiver.values() == pytest.approx([2.0, 2.00005, 2.01, 2.01], rel=1e-6)
    # a slow creep below epsilon per call still goes out once it adds up
    clock.t += 0.01
    for value in (2.01006, 2.01012):
        step(driver, receiver, value, expect_sent=value == 2.01012)
    assert receiver.values()[-1] == pytest.approx(2.01012, rel=1e-6)
    driver.close()


def test_keepalive_works_with_the_real_clock(receiver):
    driver = OscFocusDriver("127.0.0.1", receiver.port, units="dioptres", keepalive_s=0.05)
    driver.move_to(1.0)
    driver.move_to(1.0)
    assert driver.sent_count == 1
    time.sleep(0.06)
    driver.move_to(1.0)
    receiver.wait_for(2)
    assert receiver.values() == pytest.approx([1.0, 1.0])
    driver.close()


def test_stop_resends_the_current_value_and_close_holds_then_releases(receiver, clock):
    driver = OscFocusDriver("127.0.0.1", receiver.port, units="dioptres", clock=clock)
    driver.stop()                                 # nothing sent yet: nothing to hold
    assert driver.sent_count == 0
    step(driver, receiver, 3.0, expect_sent=True)
    driver.stop()
    receiver.wait_for(2)
    driver.close()
    receiver.wait_for(3)
    assert receiver.values() == pytest.approx([3.0, 3.0, 3.0])
    driver.close()                                # idempotent
    assert driver.sent_count == 3
    with pytest.raises(DriverFault, match="closed"):
        driver.move_to(1.0)


def test_non_finite_commands_are_refused(receiver):
    driver = OscFocusDriver("127.0.0.1", receiver.port)
    with pytest.raises(ValueError, match="finite"):
        driver.move_to(float("nan"))
    assert driver.sent_count == 0
    driver.close()


def test_an_unresolvable_host_is_a_driver_fault_naming_host_and_port():
    with pytest.raises(DriverFault, match=r"no-such-host\.invalid:9000") as info:
        OscFocusDriver("no-such-host.invalid", 9000)
    assert "check" in str(info.value)
    assert "\n" not in str(info.value)


def test_a_send_the_network_refuses_is_a_driver_fault_naming_host_and_port():
    # broadcast without SO_BROADCAST: the kernel refuses the datagram (EACCES)
    driver = OscFocusDriver("255.255.255.255", 9001, units="dioptres")
    with pytest.raises(DriverFault, match=r"255\.255\.255\.255:9001.*cannot send"):
        driver.move_to(1.0)
    assert driver.sent_count == 0 and driver.position() is None


def test_from_spec_builds_a_working_driver(receiver, clock):
    driver = from_spec(f"osc://127.0.0.1:{receiver.port}/cam/a/focus?units=dioptres", clock=clock)
    assert (driver.host, driver.port, driver.address, driver.units) == ("127.0.0.1", receiver.port, "/cam/a/focus", "dioptres")
    step(driver, receiver, 1.25, expect_sent=True)
    assert receiver.wait_for(1) == [("/cam/a/focus", (pytest.approx(1.25),))]
    driver.close()


def test_from_spec_defaults_the_address_and_keeps_options(receiver):
    driver = from_spec(f"osc://localhost:{receiver.port}", units="normalized", limits=(0.0, 2.0), keepalive_s=1.0)
    assert driver.address == "/focus/distance"
    assert driver.units == "normalized" and driver.keepalive_s == 1.0
    assert driver.capabilities.limits == (0.0, 2.0)
    driver.close()
    driver = from_spec(f"osc://[::1]:{receiver.port}/f?keepalive_s=0.25")
    assert driver.host == "::1" and driver.target == f"[::1]:{receiver.port}" and driver.keepalive_s == 0.25
    assert driver.description == f"osc://[::1]:{receiver.port}/f"
    driver.close()


EXAMPLE = "osc://127.0.0.1:9000/focus/distance"


@pytest.mark.parametrize("spec, problem, advice", [
    ("udp://127.0.0.1:9000/focus", "does not start with osc://", EXAMPLE),
    ("127.0.0.1:9000", "does not start with osc://", EXAMPLE),
    ("osc://:9000/focus", "no host", EXAMPLE),
    ("osc://127.0.0.1/focus", "no port", EXAMPLE),
    ("osc://127.0.0.1:0/focus", "port 0 is not a port", EXAMPLE),
    ("osc://127.0.0.1:notaport/focus", "bad port", EXAMPLE),
    ("osc://127.0.0.1:70000/focus", "bad port", EXAMPLE),
    ("osc://127.0.0.1:9000/focus#x", "'#' is not allowed", EXAMPLE),
    ("osc://127.0.0.1:9000/focus?speed=3", "unknown option 'speed'", "only units= and keepalive_s="),
    ("osc://127.0.0.1:9000/focus?keepalive_s=soon", "not a number", "?keepalive_s=0.5"),
    ("osc://127.0.0.1:9000/focus?units=feet", "units 'feet' is not known", "metres, dioptres, normalized"),
    ("osc://127.0.0.1:9000/focus/*", "not valid", "/focus/distance"),
])
def test_bad_specs_are_config_errors_saying_what_to_write(spec, problem, advice):
    with pytest.raises(ConfigError) as info:
        from_spec(spec)
    message = str(info.value)
    assert problem in message and advice in message
    assert "\n" not in message


@pytest.mark.parametrize("kwargs, problem", [
    ({"units": "metres", "limits": (0.0, 5.0)}, "far limit above 0"),
    ({"units": "dioptres", "limits": (2.0, 1.0)}, "far < near"),
    ({"units": "dioptres", "limits": (-1.0, 1.0)}, "cannot be negative"),
    ({"keepalive_s": 0}, "keepalive_s"),
    ({"port": 0}, "between 1 and 65535"),
    ({"address": "focus"}, "not valid"),
])
def test_bad_settings_are_config_errors(kwargs, problem):
    args = {"host": "127.0.0.1", "port": 9000, **kwargs}
    with pytest.raises(ConfigError, match=problem):
        OscFocusDriver(**args)
