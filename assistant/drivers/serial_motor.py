"""A follow-focus motor behind a serial controller: the host side of docs/serial-protocol.md.

One command, one reply line. Before each command the driver discards unread
input, then reads lines until one has the shape that command expects; every
other line (line noise, a late reply to an earlier command, a boot banner) is
skipped, so the link resynchronises on its own. Every command is absolute and
idempotent, which makes the single retry after a timeout always safe.

The driver runs no thread: the device's watchdog stops the motor unless the
host sends a command regularly, and polling :meth:`SerialMotorDriver.position`
every frame is that heartbeat.
"""

from __future__ import annotations

import errno
import itertools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self, TypeVar

import serial

from assistant.drivers.base import Capabilities
from assistant.errors import DriverFault, UserInputError

try:
    from termios import error as _TermiosError
except ImportError:  # Windows: pyserial does not use termios there
    _PORT_ERRORS: tuple[type[BaseException], ...] = (OSError,)
else:  # tcflush on a vanished tty raises termios.error, which is not an OSError
    _PORT_ERRORS = (OSError, _TermiosError)

PROTOCOL_VERSION = 1
DEFAULT_BAUD = 115200
DEFAULT_TIMEOUT = 0.1
DEFAULT_BOOT_TIME = 3.0  # Uno/Nano reset when the port opens and sit 1-2 s in the bootloader
DEFAULT_WATCHDOG = 1.0  # what HELLO means when it leaves out <watchdog_ms>
MAX_LINE = 256  # a longer run of bytes without a newline is noise

_INT = re.compile(r"-?[0-9]{1,10}")

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """One reply line: ``OK <fields...>``, or ``ERR <code> <text>`` as ``fields == (code, text)``."""

    ok: bool
    fields: tuple[str, ...]

    @classmethod
    def parse(cls, raw: bytes) -> Reply | None:
        """The reply in ``raw`` (one line without its ``\\n``), or ``None`` when it is not a reply."""
        try:
            text = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            return None
        if not text.isprintable():
            return None
        head, _, rest = text.partition(" ")
        if head == "OK":
            return cls(True, tuple(rest.split()))
        if head == "ERR":
            code, _, message = rest.strip().partition(" ")
            if code:
                return cls(False, (code, message.strip()))
        return None


def _int(field: str) -> int | None:
    return int(field) if _INT.fullmatch(field) else None


class SerialMotorDriver:
    """A focus motor on a serial port, speaking focus protocol version 1.

    ``timeout`` is how long one reply may take; ``boot_time`` how long the
    handshake keeps saying ``HELLO`` to a controller that is still booting;
    ``speed`` (native units/s) is sent once connected, else the device's
    maximum applies. ``watchdog`` is the device's watchdog in seconds: call
    :meth:`position` (or any command) well within it while the motor moves.
    """

    capabilities: Capabilities

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = DEFAULT_BAUD,
        timeout: float = DEFAULT_TIMEOUT,
        boot_time: float = DEFAULT_BOOT_TIME,
        speed: float | None = None,
    ) -> None:
        if not (isinstance(baudrate, int) and baudrate > 0):
            raise UserInputError(
                f"serial baud rate must be a positive whole number, got {baudrate!r}; "
                f"use the controller's rate (default {DEFAULT_BAUD})"
            )
        if not (math.isfinite(timeout) and timeout > 0):
            raise UserInputError(f"serial reply timeout must be > 0 s, got {timeout!r}; the default is {DEFAULT_TIMEOUT}")
        if not (math.isfinite(boot_time) and boot_time >= 0):
            raise UserInputError(f"serial boot time must be >= 0 s, got {boot_time!r}; the default is {DEFAULT_BOOT_TIME}")
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self._rx = bytearray()
        self._junk: bytes | None = None  # the last unusable line, for the error message
        self._serial = self._open()
        try:
            self.capabilities, self.watchdog = self._transact("HELLO", self._accept_hello, patience=boot_time)
            self._transact("STATUS?", lambda r: r.fields[0] if r.fields in (("READY",), ("MOVING",)) else None)
            if speed is not None:
                self.set_speed(speed)
        except BaseException:
            self._serial.close()
            raise

    # -- FocusDriver ---------------------------------------------------------

    def move_to(self, native: float) -> None:
        """Start a move to ``native``, clamped to the device limits; returns once the device acknowledges."""
        if not math.isfinite(native):
            raise ValueError(f"focus target must be a finite number, got {native}")
        target = round(self.capabilities.clamp(native))
        self._transact(
            f"MOVE {target}",
            lambda r: True if len(r.fields) == 2 and r.fields[0] == "MOVE" and _int(r.fields[1]) == target else None,
        )

    def position(self) -> float:
        """The device's position (also the watchdog heartbeat)."""

        def accept(reply: Reply) -> float | None:
            if len(reply.fields) != 2 or reply.fields[1] not in ("0", "1"):
                return None
            pos = _int(reply.fields[0])
            return None if pos is None else float(pos)

        return self._transact("POS?", accept)

    def stop(self) -> None:
        """Halt the motor where it is."""
        self._transact("STOP", lambda r: True if r.fields == ("STOP",) else None)

    def close(self) -> None:
        """Stop the motor if the device still answers, then release the port; safe to call twice."""
        if not self._serial.is_open:
            return
        try:
            self.stop()
        except DriverFault:
            pass  # closing after a fault must still release the port
        finally:
            self._serial.close()

    # -- extras --------------------------------------------------------------

    def set_speed(self, units_per_s: float) -> None:
        """Set the travel speed, clamped to 1..``max_speed`` native units per second."""
        if not (math.isfinite(units_per_s) and units_per_s > 0):
            raise UserInputError(f"focus motor speed must be a number > 0 ({self.capabilities.units}/s), got {units_per_s!r}")
        speed = round(min(max(units_per_s, 1.0), self.capabilities.max_speed))
        self._transact(
            f"SPEED {speed}",
            lambda r: True if len(r.fields) == 2 and r.fields[0] == "SPEED" and _int(r.fields[1]) == speed else None,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the line protocol ---------------------------------------------------

    def _open(self) -> serial.Serial:
        # A short read timeout: reads poll, so a stream of noise cannot stretch a reply deadline.
        try:
            return serial.Serial(self.port, self.baudrate, timeout=min(0.01, self.timeout / 4), write_timeout=self.timeout)
        except serial.SerialException as exc:
            if exc.errno == errno.ENOENT:
                raise UserInputError(
                    f"no serial port {self.port}; check the port name (list ports with `python -m serial.tools.list_ports`)"
                ) from exc
            hint = " (on Linux, add yourself to the dialout group)" if exc.errno == errno.EACCES else ""
            raise DriverFault(
                f"cannot open the focus motor port {self.port}: {exc.strerror or exc}; "
                f"check it is plugged in and no other program holds it{hint}"
            ) from exc

    def _accept_hello(self, reply: Reply) -> tuple[Capabilities, float] | None:
        fields = reply.fields
        if not fields or fields[0] != "FOCUS":
            return None
        line = "OK " + " ".join(fields)
        version = _int(fields[1]) if len(fields) > 1 else None
        if version is not None and version != PROTOCOL_VERSION:
            raise DriverFault(
                f"the controller on {self.port} speaks focus protocol {version}, this assistant speaks "
                f"{PROTOCOL_VERSION}; flash firmware for protocol {PROTOCOL_VERSION} (examples/firmware/focus_motor)"
            )
        numbers = [_int(f) for f in fields[3:7]]  # later fields belong to later versions
        if version is None or len(fields) < 6 or None in numbers:
            raise DriverFault(
                f"the controller on {self.port} sent a malformed HELLO reply {line!r}; "
                f"check its firmware against docs/serial-protocol.md"
            )
        lo, hi, max_speed, *rest = numbers
        watchdog_ms = rest[0] if rest else DEFAULT_WATCHDOG * 1000
        try:
            if watchdog_ms <= 0:
                raise ValueError(f"watchdog must be > 0 ms, got {watchdog_ms}")
            caps = Capabilities(fields[2], (float(lo), float(hi)), 1.0, float(max_speed), reports_position=True)
        except ValueError as exc:
            raise DriverFault(
                f"the controller on {self.port} reported impossible settings in {line!r} ({exc}); "
                f"fix its firmware configuration"
            ) from exc
        return caps, watchdog_ms / 1000

    def _transact(self, command: str, accept: Callable[[Reply], T | None], *, patience: float = 0.0) -> T:
        """Send ``command`` until ``accept`` takes a reply: twice, or for ``patience`` seconds if that is longer."""
        if not self._serial.is_open:
            raise DriverFault(f"the focus motor on {self.port} is closed; open the driver again")
        self._junk = None
        give_up = time.monotonic() + patience
        for attempt in itertools.count(1):
            value = self._attempt(command, accept)
            if value is not None:
                return value
            if attempt >= 2 and time.monotonic() >= give_up:
                break
        if self._junk is None:
            raise DriverFault(
                f"the focus motor on {self.port} did not answer {command!r} within {self.timeout:g} s "
                f"({attempt} tries); check the cable, the power and that the controller runs the focus protocol firmware"
            )
        raise DriverFault(
            f"the focus motor on {self.port} answered {command!r} only with unreadable or unexpected data "
            f"({attempt} tries, last {self._junk[:40]!r}); check the baud rate ({self.baudrate}) and the cable's ground"
        )

    def _attempt(self, command: str, accept: Callable[[Reply], T | None]) -> T | None:
        """One command and the wait for its reply; ``None`` when it should be retried."""
        self._port_io(self._serial.reset_input_buffer)
        self._rx.clear()
        self._port_io(lambda: self._serial.write(f"{command}\n".encode("ascii")))
        deadline = time.monotonic() + self.timeout
        while (line := self._read_line(deadline)) is not None:
            reply = Reply.parse(line)
            if reply is not None and not reply.ok:
                code, text = reply.fields
                if code == "SYNTAX":  # we send only valid commands: the line was damaged on the way
                    self._junk = line
                    return None
                raise self._refusal(command, code, text)
            value = None if reply is None else accept(reply)
            if value is not None:
                return value
            if line.strip() and not line.startswith(b"#"):  # comments and blank lines are harmless
                self._junk = line  # noise, or a late reply to another command
        return None

    def _read_line(self, deadline: float) -> bytes | None:
        """The next line received before ``deadline`` (without ``\\n``), else ``None``."""
        while True:
            end = self._rx.find(b"\n")
            if end >= 0:
                line = bytes(self._rx[:end])
                del self._rx[: end + 1]
                return line
            if len(self._rx) > MAX_LINE:
                self._junk = bytes(self._rx)
                self._rx.clear()
            if time.monotonic() >= deadline:
                return None
            self._rx += self._port_io(lambda: self._serial.read(self._serial.in_waiting or 1))

    def _port_io(self, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except _PORT_ERRORS as exc:
            raise DriverFault(
                f"lost the focus motor port {self.port} ({exc}); check the USB cable, then reconnect"
            ) from exc

    def _refusal(self, command: str, code: str, text: str) -> DriverFault:
        if code == "FAULT":
            return DriverFault(
                f"the focus motor on {self.port} reports a fault: {text or 'no reason given'}; "
                f"clear the cause (limit switch, jammed ring), then reset the controller"
            )
        return DriverFault(
            f"the focus motor on {self.port} refused {command!r}: {code} {text}; "
            f"check the controller's limits and speed match its HELLO reply"
        )
