"""A PTZ or box camera's focus over Sony VISCA over IP (UDP, port 52381 by default).

``visca://HOST[:PORT][?range=LO-HI]`` drives the camera's focus motor in its
own position units (``capabilities.units == "visca"``): a lens file maps them
to distances. The driver switches the camera to manual focus when it opens and
leaves it there when it closes, so the last focus holds.

Wire format
-----------
Every datagram is an 8-byte header, big-endian, then the payload: payload
type (``01 00`` VISCA command, ``01 10`` VISCA inquiry, ``01 11`` VISCA reply,
``01 20`` VISCA device setting command, ``02 00`` control command, ``02 01``
control reply), payload length (1..16) and a 32-bit sequence number that the
controller bumps with every message (after ``FF FF FF FF`` comes 0) and the
camera copies into its reply. The control command RESET (payload ``01``)
sets the camera's sequence number to 0 and is answered with ``01``; the
control reply ERROR ``0F 01`` means an abnormal sequence number, ``0F 02`` an
abnormal message (type). The payloads are plain VISCA with the camera
address locked to 1 (``81 ...`` out, ``90 ...`` back):

=====================  ===============================  ==========================
focus mode             ``81 01 04 38 02 FF`` auto,      ACK ``90 4y FF`` then
                       ``81 01 04 38 03 FF`` manual     completion ``90 5y FF``
focus stop             ``81 01 04 08 00 FF``            (y: socket number)
focus direct           ``81 01 04 48 0p 0q 0r 0s FF``   pqrs: 16-bit position
focus position inq.    ``81 09 04 48 FF``               ``90 50 0p 0q 0r 0s FF``
=====================  ===============================  ==========================

Errors are ``90 6y EE FF``: 02 syntax (also an illegal parameter), 03 command
buffer full (two commands already running), 04 cancelled, 05 no socket, 41
command not executable (the published example: a manual focus command while
in auto focus).

Delivery confirmation is the controller's job. Sony's procedure: on a time-out
send the message again *with the same sequence number*; a camera that got the
first copy and only lost its ACK (or an inquiry's reply) answers the copy with
ERROR ``0F 01``. This driver follows it: a retry after a time-out reuses the
sequence number, so a late reply to the first copy still counts. ``0F 01`` to
such a copy sends the message again under the next number; ``0F 01`` to a
first copy (a camera restarted under us, another controller, a camera that
accepts only a few sequence numbers) is met with RESET first. Sending again
is always safe because every command here is absolute.

Sources (read through the ``search`` tool's stored copies)
----------------------------------------------------------
- Sony SRG-300H Command List, "VISCA over IP" (payload types, length,
  sequence number, RESET, ERROR 0F 01/0F 02): manualshive.com/en/manual/sony/srg300h/400108?page=30
  and 88.208.23.73:8080/en/manual/sony/srg300h/400108?page=31.
- Sony BRC-X400 Command List, "Delivery confirmation" (same sequence number on
  retransmission; ``0F 01`` when only the reply was lost):
  manualslook.com/id/manual/5709199/page-12.
- Replies and error codes: Sony SRG-X400 Command List p.7 (easymanua.ls/sony/srg-x400/manual/36555?p=7),
  Sony BRC-Z700 (azmanual.top/manuals/459453/vaddio-sony-brc-z700.html?page=8) and the PTZOptics
  VISCA command list (manualshive.com/ru/manual/ptzoptics/pt12x-ndi-gy-g2/1623590?page=14).
- Focus commands: Sony SRG-H40 Command List (6/8) (easymanua.ls/sony/srg-h40uh/manual/1593346?p=20);
  CAM_FocusPosInq ``8x 09 04 48 FF`` → ``y0 50 0p 0q 0r 0s FF``: Tekvox 79068 and Minrray UV950A VISCA lists.
- A published datagram: ``01 00 00 09 00 00 00 00 81 01 04 3F 02 01 FF`` (preset recall, sequence 0,
  README of github.com/Colbix/companion-module-aver-ptz) says length 9 for a 7-byte payload and is said
  to work, so at least AVer cameras ignore the field: the driver sends the right length and reads
  replies by the datagram's size.
- Cameras that break the sequence rules: NewTek NDI PTZ1 handles only sequence numbers 1..3 and always
  replies with 1 (github.com/vwout/obs-visca-control/issues/7).

Focus position range
--------------------
Not fixed by the protocol. Sony's EVI-D80/D90 technical manual gives focus
position ``1000`` (far end, "over infinity") to ``C000`` (near end, depending
on the near-limit setting; azmanual.top/manuals/459399/vaddio-evi-d80d90-tech.html?page=41),
the FCB-H11 a near limit from ``2000`` (about 4.5 m) to ``C000`` (1 cm), and
newer Sony models go to ``F000``; a BirdDog P4K user measured ``0000`` far to
``F000`` near (github.com/bitfocus/companion-module-birddog-ptz/issues/7).
The default :data:`DEFAULT_LIMITS` is therefore Sony's ``0x1000..0xF000``; for
other makes give the camera's own range, e.g. ``?range=0-61440`` (decimal or
``0x`` hex). A camera that answers a focus direct with a syntax error is told
a value outside its range, and the fault says so.

Timing
------
The frame loop calls :meth:`ViscaFocusDriver.position` every frame, so one
exchange waits ``timeout`` (50 ms) and is sent ``retries`` (1) more times:
100 ms at worst, well inside the guard's 0.5 s watchdog. When every try is
lost the driver does not fault at once, because the guard latches any fault
for the rest of the run and a Wi-Fi hiccup should not end drive mode:

- ``position()`` returns the last reading if it is at most ``stale_after``
  (0.5 s) old: the lens cannot have gone far, and the same tolerance as the
  guard's watchdog. Older than that, the camera is taken to be gone
  (:class:`DriverFault`);
- ``move_to()`` keeps an unconfirmed target while the camera has answered
  anything within ``stale_after``, and sends it again (one try) at the start
  of the next ``position()``; a newer target replaces it, ``stop()`` drops it.
"""

from __future__ import annotations

import enum
import math
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from assistant.drivers.address import host_port, parse_address
from assistant.drivers.base import Capabilities
from assistant.errors import DriverFault, UserInputError

DEFAULT_PORT = 52381
DEFAULT_LIMITS = (0x1000, 0xF000)  # Sony: far end ("over infinity") .. the highest published near end
DEFAULT_TIMEOUT = 0.05  # one reply; 2 tries fit in three frames at 30 fps
DEFAULT_RETRIES = 1
DEFAULT_STALE_AFTER = 0.5
HANDSHAKE_TIMEOUT = 0.2  # opening is rare: give a waking camera (and ARP) longer,
HANDSHAKE_TRIES = 4  # and a lossy link more tries (RESET keeps the usual ones: it may go unanswered)
BUSY_WAIT = 0.02  # after "command buffer full", before sending again
SPEC_EXAMPLE = "visca://192.168.0.100:52381?range=4096-61440"

# Payload types (header bytes 0-1).
VISCA_COMMAND = 0x0100
VISCA_INQUIRY = 0x0110
VISCA_REPLY = 0x0111
VISCA_DEVICE_SETTING = 0x0120
CONTROL_COMMAND = 0x0200
CONTROL_REPLY = 0x0201

HEADER = struct.Struct(">HHI")  # payload type, payload length, sequence number
MAX_PAYLOAD = 16
MAX_SEQUENCE = 0xFFFF_FFFF

FOCUS_AUTO = bytes.fromhex("81 01 04 38 02 FF")
FOCUS_MANUAL = bytes.fromhex("81 01 04 38 03 FF")
FOCUS_STOP = bytes.fromhex("81 01 04 08 00 FF")
FOCUS_DIRECT = bytes.fromhex("81 01 04 48")  # + 0p 0q 0r 0s FF
FOCUS_POSITION_INQUIRY = bytes.fromhex("81 09 04 48 FF")
RESET = b"\x01"
CONTROL_ACK = b"\x01"

# VISCA error codes (90 6y EE FF) and control ERROR codes (0F yy).
SYNTAX_ERROR = 0x02
BUFFER_FULL = 0x03
CANCELLED = 0x04
NO_SOCKET = 0x05
NOT_EXECUTABLE = 0x41
SEQUENCE_ABNORMAL = 0x01
MESSAGE_ABNORMAL = 0x02

ERROR_NAMES = {
    SYNTAX_ERROR: "syntax error",
    BUFFER_FULL: "command buffer full",
    CANCELLED: "command cancelled",
    NO_SOCKET: "no socket",
    NOT_EXECUTABLE: "command not executable",
}


# -- codec -------------------------------------------------------------------


def nibbles(value: int, count: int = 4) -> bytes:
    """``value`` as ``count`` bytes ``0p 0q 0r 0s``, most significant nibble first."""
    if not 0 <= value < 16**count:
        raise ValueError(f"{value} does not fit in {count} nibbles")
    return bytes((value >> (4 * i)) & 0x0F for i in reversed(range(count)))


def from_nibbles(data: bytes) -> int:
    """The number in bytes ``0p 0q ...``; ValueError when a byte is not a nibble."""
    value = 0
    for byte in data:
        if byte > 0x0F:
            raise ValueError(f"byte {byte:#04x} is not a nibble (0x00..0x0F)")
        value = value << 4 | byte
    return value


def focus_direct(position: int) -> bytes:
    """The focus direct command for a 16-bit ``position``."""
    return FOCUS_DIRECT + nibbles(position) + b"\xff"


def encode(payload_type: int, sequence: int, payload: bytes) -> bytes:
    """One datagram: the 8-byte header (type, payload length, sequence number) and ``payload``."""
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise ValueError(f"a VISCA over IP payload is 1..{MAX_PAYLOAD} bytes, got {len(payload)}")
    if not 0 <= sequence <= MAX_SEQUENCE:
        raise ValueError(f"sequence number {sequence} is not a 32-bit unsigned number")
    return HEADER.pack(payload_type, len(payload), sequence) + payload


@dataclass(frozen=True)
class Message:
    """One datagram's header fields and payload, as received (either direction)."""

    payload_type: int
    sequence: int
    payload: bytes

    @classmethod
    def decode(cls, datagram: bytes, *, strict_length: bool = True) -> Message | None:
        """The message in ``datagram``; None when the header is short or (``strict_length``) its length field is wrong.

        UDP already delimits the payload, and a published example sends a
        wrong length (see the module docstring), so replies are read with
        ``strict_length=False``: the payload is the rest of the datagram.
        """
        if len(datagram) <= HEADER.size:
            return None
        payload_type, length, sequence = HEADER.unpack_from(datagram)
        payload = bytes(datagram[HEADER.size:])
        return cls(payload_type, sequence, payload) if length == len(payload) or not strict_length else None


class ReplyKind(enum.StrEnum):
    ACK = "ack"  # 90 4y FF
    COMPLETION = "completion"  # 90 5y FF
    ANSWER = "answer"  # 90 50 <data> FF, the reply to an inquiry
    ERROR = "error"  # 90 6y EE FF
    CONTROL = "control"  # control reply: ACK 01 (error None) or ERROR 0F yy


@dataclass(frozen=True)
class Reply:
    """One reply from the camera. ``value`` is an answer's data read as nibbles (None when it is not)."""

    kind: ReplyKind
    sequence: int
    socket: int = 0
    error: int | None = None
    value: int | None = None
    data: bytes = b""


def decode_reply(datagram: bytes) -> Reply | None:
    """The reply in ``datagram``, or None for anything that is not a well-formed VISCA or control reply."""
    message = Message.decode(datagram, strict_length=False)
    if message is None:
        return None
    payload, sequence = message.payload, message.sequence
    if message.payload_type == CONTROL_REPLY:
        if payload == CONTROL_ACK:
            return Reply(ReplyKind.CONTROL, sequence)
        if len(payload) == 2 and payload[0] == 0x0F:
            return Reply(ReplyKind.CONTROL, sequence, error=payload[1])
        return None
    if message.payload_type != VISCA_REPLY or len(payload) < 3:
        return None
    address, kind, body, end = payload[0], payload[1], payload[2:-1], payload[-1]
    if end != 0xFF or 0xFF in body or address >> 4 < 9 or address & 0x0F:
        return None  # replies come from address z0, z = 9..F, and end at the only FF
    group, socket_number = kind >> 4, kind & 0x0F
    if group == 4 and not body:
        return Reply(ReplyKind.ACK, sequence, socket_number)
    if group == 5 and not body:
        return Reply(ReplyKind.COMPLETION, sequence, socket_number)
    if group == 5:
        value = from_nibbles(body) if all(b <= 0x0F for b in body) else None
        return Reply(ReplyKind.ANSWER, sequence, socket_number, value=value, data=bytes(body))
    if group == 6 and len(body) == 1:
        return Reply(ReplyKind.ERROR, sequence, socket_number, error=body[0])
    return None


# -- the driver ------------------------------------------------------------------


@dataclass
class LinkStats:
    """What the link cost so far: for logs, and for tests to see that loss was met."""

    sent: int = 0
    timeouts: int = 0  # waits that ended with no reply: what a call's latency is made of
    retransmits: int = 0  # tries after a time-out, same sequence number
    resets: int = 0  # RESET control commands sent (one per reset, whatever its tries)
    stray: int = 0  # replies to other messages (late, duplicated, superseded) skipped
    junk: int = 0  # datagrams that are no reply, or come from another host
    stale_reads: int = 0  # position() answered with the last reading
    deferred_moves: int = 0  # moves left unconfirmed, sent again on the next position()


class _NoAnswer(Exception):
    """Every try of one exchange timed out; the caller decides between the last reading and a fault."""

    def __init__(self, what: str, tries: int, timeout: float, stray: int) -> None:
        super().__init__(what)
        self.what, self.tries, self.timeout, self.stray = what, tries, timeout, stray


@dataclass
class _Recovery:
    """The error replies one transaction has already recovered from (each at most once)."""

    done: set[str] = field(default_factory=set)

    def first(self, name: str) -> bool:
        if name in self.done:
            return False
        self.done.add(name)
        return True


class ViscaFocusDriver:
    """The focus of one camera at ``host:port`` over VISCA over IP.

    ``limits`` are native focus positions (far, near) the driver clamps to;
    ``timeout`` is how long one reply may take and ``retries`` how often a
    lost exchange is sent again; ``stale_after`` is how old the last reading
    may be when ``position()`` loses every try (see the module docstring).
    ``clock`` (seconds, monotonic) dates readings and replies; waiting on the
    network always uses the real monotonic clock.
    """

    capabilities: Capabilities

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        limits: tuple[int, int] = DEFAULT_LIMITS,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        stale_after: float = DEFAULT_STALE_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not host:
            raise UserInputError(f"VISCA camera address is empty; give its IP address, e.g. {SPEC_EXAMPLE}")
        if not (isinstance(port, int) and 0 < port < 65536):
            raise UserInputError(f"VISCA port {port!r} is out of range; give a UDP port 1..65535 (Sony default {DEFAULT_PORT})")
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise UserInputError(f"VISCA reply timeout must be > 0 s, got {timeout!r}; the default is {DEFAULT_TIMEOUT}")
        if not (isinstance(retries, int) and 0 <= retries <= 10):
            raise UserInputError(f"VISCA retries must be a whole number 0..10, got {retries!r}; the default is {DEFAULT_RETRIES}")
        if not (isinstance(stale_after, (int, float)) and math.isfinite(stale_after) and stale_after >= 0):
            raise UserInputError(f"VISCA stale_after must be >= 0 s, got {stale_after!r}; the default is {DEFAULT_STALE_AFTER}")
        lo, hi = check_range(limits)
        self.host = host
        self.port = port
        self.timeout = float(timeout)
        self.retries = retries
        self.stale_after = float(stale_after)
        self.capabilities = Capabilities("visca", (float(lo), float(hi)), resolution=1.0, reports_position=True)
        self.stats = LinkStats()
        self.warnings: list[str] = []
        self.reset_supported: bool | None = None  # None: RESET never answered; False: refused (0F 02)
        self._clock = clock
        self._lock = threading.RLock()
        self._sequence = 0
        self._reading: tuple[float, float] | None = None  # (clock, position) of the last answer
        self._last_heard = -math.inf  # clock of the last well-formed reply from the camera
        self._pending: int | None = None  # a focus direct the camera has not acknowledged
        self._refused = False
        self._address, self._socket = self._open_socket()
        self._closed = False
        try:
            self._handshake()
        except BaseException:
            self._closed = True
            self._socket.close()
            raise

    @property
    def target(self) -> str:
        return host_port(self.host, self.port)

    @property
    def description(self) -> str:
        return f"visca://{self.target}"

    # -- FocusDriver -------------------------------------------------------------

    def move_to(self, native: float) -> None:
        """Send focus direct to ``native`` (clamped, rounded); returns at the ACK, not when the lens arrives."""
        if not math.isfinite(native):
            raise ValueError(f"focus target must be a finite number, got {native}")
        target = round(self.capabilities.clamp(native))
        with self._lock:
            self._check_open()
            self._pending = None
            try:
                self._command(focus_direct(target), f"focus direct {target:#06x}")
            except _NoAnswer as lost:
                if self._clock() - self._last_heard > self.stale_after:
                    raise self._gone(lost) from None
                self._pending = target  # the camera is there but lossy: send it again next call
                self.stats.deferred_moves += 1

    def position(self) -> float:
        """The camera's focus position, read back (the last reading when this exchange is lost; see above)."""
        with self._lock:
            self._check_open()
            if self._pending is not None:
                target = self._pending
                try:
                    self._command(focus_direct(target), f"focus direct {target:#06x}", tries=1)
                    self._pending = None
                except _NoAnswer:
                    pass  # still pending; the inquiry tells whether the camera is gone
            try:
                value = self._inquire_position()
            except _NoAnswer as lost:
                if self._reading is not None and self._clock() - self._reading[0] <= self.stale_after:
                    self.stats.stale_reads += 1
                    return self._reading[1]
                raise self._gone(lost) from None
            self._reading = (self._clock(), value)
            return value

    def stop(self) -> None:
        """Focus stop: the lens halts where it is (and a move not yet confirmed is dropped)."""
        with self._lock:
            self._check_open()
            self._pending = None
            try:
                self._command(FOCUS_STOP, "focus stop")
            except _NoAnswer as lost:
                raise self._gone(lost) from None

    def close(self) -> None:
        """Stop the lens if the camera still answers, then release the socket; safe to call twice.

        The camera stays in manual focus, so the last focus holds.
        """
        with self._lock:
            if self._closed:
                return
            try:
                self.stop()
            except DriverFault:
                pass  # closing a lost camera must still release the socket
            finally:
                self._closed = True
                self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the exchanges ---------------------------------------------------------------

    def _handshake(self) -> None:
        """RESET (tolerated when unanswered), manual focus, and the first reading."""
        patience = max(self.timeout, HANDSHAKE_TIMEOUT)
        tries = max(self.retries + 1, HANDSHAKE_TRIES)
        self._reset_sequence(patience)
        try:
            self._command(FOCUS_MANUAL, "manual focus", tries=tries, timeout=patience)
            value = self._inquire_position(tries=tries, timeout=patience)
        except _NoAnswer as lost:
            raise DriverFault(self._silence(lost)) from None
        self._reading = (self._clock(), value)
        lo, hi = self.capabilities.limits
        if not lo <= value <= hi:
            self.warnings.append(
                f"{self.description}: the camera reports focus position {int(value):#06x}, outside the range "
                f"{int(lo):#06x}-{int(hi):#06x}; if its range differs, set it with ?range=LO-HI"
            )

    def _reset_sequence(self, timeout: float | None = None) -> None:
        """Control command RESET: the camera's sequence number to 0; ours restarts at 1."""
        self.stats.resets += 1
        reply = None
        for _ in range(self.retries + 1):
            reply = self._exchange(
                CONTROL_COMMAND, RESET, 0, self.timeout if timeout is None else timeout,
                lambda r: r.kind is ReplyKind.CONTROL and (r.error is None or r.sequence == 0),
            )
            if reply is not None:
                break
            self.stats.timeouts += 1
        self._sequence = 0
        if reply is not None:
            self.reset_supported = reply.error is None  # ERROR 0F 02: it does not know control commands

    def _command(self, payload: bytes, what: str, *, tries: int | None = None, timeout: float | None = None) -> Reply:
        """A VISCA command, done at its ACK (or its completion, when the ACK was lost)."""
        return self._transact(
            what, VISCA_COMMAND, payload, lambda r: r.kind in (ReplyKind.ACK, ReplyKind.COMPLETION),
            tries=tries, timeout=timeout,
        )

    def _inquire_position(self, *, tries: int | None = None, timeout: float | None = None) -> float:
        reply = self._transact(
            "focus position inquiry", VISCA_INQUIRY, FOCUS_POSITION_INQUIRY,
            lambda r: r.kind is ReplyKind.ANSWER and len(r.data) == 4 and r.value is not None,
            tries=tries, timeout=timeout,
        )
        assert reply.value is not None
        return float(reply.value)

    def _transact(self, what: str, payload_type: int, payload: bytes, accept: Callable[[Reply], bool], *,
                  tries: int | None = None, timeout: float | None = None) -> Reply:
        """Send ``payload`` until ``accept`` takes a reply to it, recovering from the camera's error replies.

        A time-out sends the same message again under the same sequence number
        (Sony's delivery confirmation); a recovered error sends it again under
        a new one. Raises :class:`_NoAnswer` when every try timed out and
        :class:`DriverFault` when the camera refuses.
        """
        tries = self.retries + 1 if tries is None else tries
        timeout = self.timeout if timeout is None else timeout
        sequence = self._next_sequence()
        recovery = _Recovery()
        timeouts = 0
        copy = 0  # copies sent under this sequence number before the current one
        stray_before = self.stats.stray
        while True:
            reply = self._exchange(
                payload_type, payload, sequence, timeout,
                lambda r, s=sequence: r.sequence == s and (accept(r) or r.kind is ReplyKind.ERROR
                                                           or (r.kind is ReplyKind.CONTROL and r.error is not None)),
            )
            if reply is None:
                timeouts += 1
                self.stats.timeouts += 1
                if timeouts >= tries:
                    raise _NoAnswer(what, timeouts, timeout, self.stats.stray - stray_before)
                self.stats.retransmits += 1
                copy += 1
                continue
            if accept(reply):
                return reply
            # 0F 01 to a second copy: the camera had the first, only its reply was lost (Sony's table). It
            # is sent again under the next number rather than trusted done, as a camera that takes only
            # a few numbers says the same. At most once per time-out, so this cannot loop.
            renumber = copy > 0 and reply.kind is ReplyKind.CONTROL and reply.error == SEQUENCE_ABNORMAL
            if not renumber and not self._recover(reply, payload, recovery):
                raise self._refusal(what, payload, reply)
            sequence, copy = self._next_sequence(), 0

    def _recover(self, reply: Reply, payload: bytes, recovery: _Recovery) -> bool:
        """Act on an error reply so that sending again can succeed; False when it cannot."""
        if reply.kind is ReplyKind.CONTROL:
            # 0F 01 to a first copy: the camera counts differently (restarted, another controller, or
            # it takes only a few numbers)
            if reply.error == SEQUENCE_ABNORMAL and recovery.first("sequence"):
                if self.reset_supported is not False:
                    self._reset_sequence()
                return True
            return False
        if reply.error == NOT_EXECUTABLE and payload != FOCUS_MANUAL and recovery.first("manual"):
            self._command(FOCUS_MANUAL, "manual focus")  # someone switched the camera back to auto focus
            return True
        if reply.error == BUFFER_FULL and recovery.first("busy"):
            time.sleep(BUSY_WAIT)
            return True
        return reply.error == CANCELLED and recovery.first("cancelled")

    def _exchange(self, payload_type: int, payload: bytes, sequence: int, timeout: float,
                  wanted: Callable[[Reply], bool]) -> Reply | None:
        """Send one datagram and wait up to ``timeout`` for a ``wanted`` reply, skipping all others."""
        self._send(encode(payload_type, sequence, payload))
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            datagram = self._receive(left)
            if datagram is None:
                return None
            reply = decode_reply(datagram)
            if reply is None:
                self.stats.junk += 1
                continue
            self._last_heard = self._clock()
            if wanted(reply):
                return reply
            self.stats.stray += 1
        return None

    def _next_sequence(self) -> int:
        self._sequence = (self._sequence + 1) & MAX_SEQUENCE
        return self._sequence

    # -- the socket ----------------------------------------------------------------------

    def _open_socket(self) -> tuple[Any, socket.socket]:
        try:
            found = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise UserInputError(
                f"VISCA camera address {self.host!r} cannot be resolved ({exc.strerror}); "
                f"check the IP address or host name, e.g. {SPEC_EXAMPLE}"
            ) from exc
        found.sort(key=lambda info: info[0] != socket.AF_INET)  # IPv4 first: what cameras listen on
        family, _, _, _, address = found[0]
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise DriverFault(f"cannot open a UDP socket for {self.description}: {exc}") from exc
        return address, sock

    def _send(self, datagram: bytes) -> None:
        try:
            self._socket.sendto(datagram, self._address)
        except OSError as exc:
            raise DriverFault(
                f"cannot send to the camera at {self.description}: {exc.strerror or exc}; "
                f"check the network connection and the route to {self.host}"
            ) from exc
        self.stats.sent += 1

    def _receive(self, wait: float) -> bytes | None:
        """The next datagram within ``wait`` seconds (empty when it came from another host), else None.

        The socket is not connected, so a camera that answers from another
        port than 52381 is still heard; only the sender's address must match.
        """
        self._socket.settimeout(wait)
        try:
            datagram, source = self._socket.recvfrom(2048)
        except TimeoutError:
            return None
        except (ConnectionRefusedError, ConnectionResetError):
            self._refused = True  # Windows reports an ICMP "port unreachable" here
            return None
        except OSError as exc:
            raise DriverFault(f"lost the network to {self.description} ({exc}); check the connection") from exc
        return datagram if source[0] == self._address[0] else b""

    # -- messages ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise DriverFault(f"the VISCA driver for {self.description} is closed; open it again")

    def _silence(self, lost: _NoAnswer) -> str:
        """Why the handshake heard nothing, and what to check."""
        head = f"the camera at {self.description} did not answer {lost.what} within {lost.timeout:g} s ({lost.tries} tries)"
        if lost.stray:
            return (f"{head}: it sent {lost.stray} replies, none with this message's sequence number; "
                    f"this driver needs a camera that copies sequence numbers into its replies (Sony VISCA over IP)")
        if self._refused:
            return f"{head}: nothing listens on UDP port {self.port}; check the port and that VISCA over IP is enabled"
        return (f"{head}; check its IP address, that the port is its VISCA over IP port (Sony: {DEFAULT_PORT}), "
                f"that it is on and that VISCA over IP is enabled in its network settings")

    def _gone(self, lost: _NoAnswer) -> DriverFault:
        age = self._clock() - self._last_heard
        return DriverFault(
            f"the camera at {self.description} stopped answering: {lost.what} got no reply in {lost.tries} tries "
            f"of {lost.timeout * 1000:.0f} ms, nothing heard for {age:.1f} s; "
            f"check the network link and the camera's power, then start again"
        )

    def _refusal(self, what: str, payload: bytes, reply: Reply) -> DriverFault:
        sent = payload.hex(" ").upper()
        head = f"the camera at {self.description} refused {what} ({sent})"
        if reply.kind is ReplyKind.CONTROL:
            if reply.error == SEQUENCE_ABNORMAL:
                return DriverFault(f"{head}: abnormal sequence number even after a reset; "
                                   f"make sure no other controller uses this camera over VISCA over IP")
            return DriverFault(f"{head}: abnormal message (control ERROR 0F {reply.error:02X}); "
                               f"check that the port is the camera's VISCA over IP port, not plain VISCA")
        name = ERROR_NAMES.get(reply.error or 0, f"error {reply.error:#04x}")
        if reply.error == SYNTAX_ERROR and payload.startswith(FOCUS_DIRECT):
            lo, hi = (int(v) for v in self.capabilities.limits)
            return DriverFault(f"{head}: {name}; the position may be outside the camera's focus range, set its "
                               f"range with ?range=LO-HI (now {lo}-{hi}), e.g. {SPEC_EXAMPLE}")
        if reply.error == SYNTAX_ERROR:
            return DriverFault(f"{head}: {name}; the camera does not support this VISCA command")
        if reply.error == NOT_EXECUTABLE:
            return DriverFault(f"{head}: {name} even in manual focus; close any menu on the camera's screen "
                               f"and check it is not in standby")
        if reply.error == BUFFER_FULL:
            return DriverFault(f"{head}: {name} twice; another controller may be driving the camera, stop it")
        return DriverFault(f"{head}: {name}; check that no other controller drives the camera")


# -- the address ---------------------------------------------------------------------------


def check_range(limits: tuple[int, int]) -> tuple[int, int]:
    """``limits`` as two whole positions 0 <= LO < HI <= 0xFFFF, else UserInputError."""
    try:
        lo, hi = limits
        ok = all(isinstance(v, int) or (isinstance(v, float) and v.is_integer()) for v in (lo, hi))
    except (TypeError, ValueError):
        ok = False
    if not ok or not 0 <= lo < hi <= 0xFFFF:
        raise UserInputError(f"VISCA focus range {limits!r} is not valid; give two whole positions "
                             f"0 <= LO < HI <= 65535, e.g. ?range=4096-61440 (Sony 0x1000-0xF000)")
    return int(lo), int(hi)


def parse_spec(spec: str) -> tuple[str, int, tuple[int, int]]:
    """``visca://HOST[:PORT][?range=LO-HI]`` as (host, port, limits); UserInputError with an example."""
    hint = f"write it like {SPEC_EXAMPLE} (port and range optional)"
    parts = parse_address(spec, "visca", "VISCA address", hint)
    limits = DEFAULT_LIMITS
    for key, value in parts.options:
        if key != "range":
            raise UserInputError(f"VISCA address {spec!r}: unknown option {key!r}; only range=LO-HI may follow '?'")
        lo, sep, hi = value.partition("-")
        try:
            limits = (int(lo.strip(), 0), int(hi.strip(), 0))
        except ValueError:
            sep = ""
        if not sep:
            raise UserInputError(f"VISCA address {spec!r}: range={value!r} is not LO-HI; "
                                 f"write e.g. ?range=4096-61440 or ?range=0x1000-0xF000")
        check_range(limits)
    return parts.host, parts.port or DEFAULT_PORT, limits


def from_spec(spec: str, **options: Any) -> ViscaFocusDriver:
    """A driver from ``visca://HOST[:PORT][?range=LO-HI]``; keyword ``options`` go to :class:`ViscaFocusDriver`."""
    host, port, limits = parse_spec(spec)
    return ViscaFocusDriver(host, port, limits=limits, **options)
