"""A focus motor controller emulated on the far side of a pseudo-terminal.

The emulator plays the device side of docs/serial-protocol.md on the pty's
master end while the driver under test opens the slave end through pyserial,
so the driver's real port code (termios setup, input flushing, read timeouts,
a vanished tty) runs. The motor travels at a finite speed in real time, and a
test can make the controller misbehave: fall silent, send noise, latch a
fault, or be unplugged.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Self

from tests.drivers.travel import Travel


class MotorEmulator:
    """The controller end of one pty pair; open the driver on :attr:`port`.

    ``hello`` replaces the whole ``HELLO`` reply line (to test odd devices);
    ``boot_delay`` seconds of input are ignored after start, like a board
    sitting in its bootloader after the port opened.
    """

    def __init__(
        self,
        *,
        units: str = "steps",
        limits: tuple[int, int] = (0, 4000),
        max_speed: int = 2000,
        watchdog_ms: int = 1000,
        hello: str | None = None,
        boot_delay: float = 0.0,
    ) -> None:
        self.limits = limits
        self.max_speed = max_speed
        self.watchdog = watchdog_ms / 1000
        self.hello = hello or f"OK FOCUS 1 {units} {limits[0]} {limits[1]} {max_speed} {watchdog_ms}"
        self.boot_delay = boot_delay
        self.silent = False  # hear commands but never answer
        self.watchdog_stops = 0
        self._received: list[str] = []
        self._lock = threading.Lock()
        self._garble: tuple[bytes, float, bool] | None = None
        self._fault: str | None = None
        self._motor = Travel(limits[0], max_speed, time.monotonic())
        self._last_heard = self._motor.t0
        self._stopping = threading.Event()
        self._unplug = threading.Event()
        self._unplugged = threading.Event()
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.port = os.ttyname(self._slave)
        self._thread = threading.Thread(target=self._run, name="motor-emulator", daemon=True)
        self._thread.start()

    # -- what the test controls and reads ------------------------------------

    @property
    def received(self) -> list[str]:
        """Every command line heard so far, in order."""
        with self._lock:
            return list(self._received)

    def position(self) -> int:
        with self._lock:
            return self._motor.position(time.monotonic())

    def moving(self) -> bool:
        with self._lock:
            return self._motor.moving(time.monotonic())

    def garble(self, data: bytes, times: float = 1, *, then_answer: bool = False) -> None:
        """Send ``data`` for the next ``times`` commands (``math.inf``: for ever), instead of or before the reply."""
        with self._lock:
            self._garble = (data, times, then_answer)

    def fault(self, text: str) -> None:
        """Latch a fault (a stall, a limit switch): the motor stops where it is."""
        with self._lock:
            self._motor.halt(time.monotonic())
            self._fault = text

    def unplug(self) -> None:
        """Close the master end, as if the USB cable were pulled; returns once it is closed."""
        self._unplug.set()
        if not self._unplugged.wait(2.0):
            raise RuntimeError("motor emulator did not unplug")

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(2.0)
        if self._thread.is_alive():
            raise RuntimeError("motor emulator thread did not stop")
        if not self._unplugged.is_set():
            os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the controller ------------------------------------------------------

    def _run(self) -> None:
        buffer = bytearray()
        booted_at = time.monotonic() + self.boot_delay
        try:
            while not self._stopping.is_set():
                if self._unplug.is_set():
                    os.close(self._master)
                    self._unplugged.set()
                    return
                self._check_watchdog()
                ready, _, _ = select.select([self._master], [], [], 0.005)
                if not ready:
                    continue
                data = os.read(self._master, 1024)
                if time.monotonic() < booted_at:
                    continue
                buffer += data
                while (end := buffer.find(b"\n")) >= 0:
                    line = bytes(buffer[:end]).rstrip(b"\r")
                    del buffer[: end + 1]
                    self._answer(line)
        except OSError:
            return  # the slave end went away

    def _check_watchdog(self) -> None:
        with self._lock:
            expiry = self._last_heard + self.watchdog
            if self._motor.moving(expiry) and time.monotonic() > expiry:
                self._motor.halt(expiry)
                self.watchdog_stops += 1

    def _answer(self, raw: bytes) -> None:
        if not raw:
            return  # empty lines get no reply
        text = raw.decode("ascii", "replace")
        self._check_watchdog()  # a line arriving late must not revive a move that already timed out
        with self._lock:
            self._received.append(text)
            if self.silent:
                return
            out = (self._reply(text, time.monotonic()) + "\n").encode("ascii")
            if self._garble is not None:
                data, times, then_answer = self._garble
                out = data + out if then_answer else data
                self._garble = (data, times - 1, then_answer) if times > 1 else None
        os.write(self._master, out)

    def _reply(self, text: str, now: float) -> str:
        command, _, arg = text.partition(" ")
        takes_argument = {"HELLO": False, "STOP": False, "POS?": False, "STATUS?": False, "MOVE": True, "SPEED": True}
        if takes_argument.get(command) != bool(arg):
            return "ERR SYNTAX unknown command"
        self._last_heard = now
        if command == "HELLO":
            return self.hello
        if command == "STOP":
            self._motor.halt(now)
            return "OK STOP"
        if self._fault is not None:
            return f"ERR FAULT {self._fault}"
        position = self._motor.position(now)
        if command == "POS?":
            return f"OK {position} {int(position != self._motor.target)}"
        if command == "STATUS?":
            return "OK MOVING" if position != self._motor.target else "OK READY"
        try:
            value = int(arg)
        except ValueError:
            return "ERR SYNTAX bad number"
        if command == "MOVE":
            lo, hi = self.limits
            if not lo <= value <= hi:
                return f"ERR RANGE position outside {lo}..{hi}"
            self._motor.move(value, now)
            return f"OK MOVE {value}"
        if not 1 <= value <= self.max_speed:
            return f"ERR RANGE speed outside 1..{self.max_speed}"
        self._motor.set_speed(value, now)
        return f"OK SPEED {value}"

