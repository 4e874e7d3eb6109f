"""A VISCA-over-IP camera on 127.0.0.1, written from Sony's published command lists.

It parses and builds datagrams itself (``struct``, not the driver's codec), so
a mistake in the codec cannot hide behind the same mistake here. The focus
motor travels at a finite speed; the camera starts in auto focus, where focus
direct and focus stop answer "command not executable". A test can make the
link and the camera misbehave: delay replies, lose datagrams both ways (a
seeded, order-independent draw per datagram, so runs repeat), accept only
increasing or only a few sequence numbers, answer with other sequence numbers,
inject error replies, send stray replies, or fall silent.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import select
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Self

from tests.drivers.travel import Travel

HEADER = struct.Struct(">HHI")
VISCA_COMMAND, VISCA_INQUIRY, VISCA_REPLY = 0x0100, 0x0110, 0x0111
CONTROL_COMMAND, CONTROL_REPLY = 0x0200, 0x0201

AUTO, MANUAL = bytes.fromhex("81 01 04 38 02 FF"), bytes.fromhex("81 01 04 38 03 FF")
STOP = bytes.fromhex("81 01 04 08 00 FF")
DIRECT = bytes.fromhex("81 01 04 48")
POSITION_INQUIRY, MODE_INQUIRY = bytes.fromhex("81 09 04 48 FF"), bytes.fromhex("81 09 04 38 FF")

ACK, COMPLETION = bytes.fromhex("90 41 FF"), bytes.fromhex("90 51 FF")
SYNTAX_ERROR, NOT_EXECUTABLE = bytes.fromhex("90 60 02 FF"), bytes.fromhex("90 61 41 FF")
BUFFER_FULL = bytes.fromhex("90 60 03 FF")
RESET_ACK, SEQUENCE_ERROR, MESSAGE_ERROR = b"\x01", b"\x0f\x01", b"\x0f\x02"


@dataclass(frozen=True)
class Heard:
    """One datagram the camera received (lost ones are not heard)."""

    payload_type: int
    sequence: int
    payload: bytes


@dataclass
class _Injection:
    reply: bytes
    times: int
    to: bytes
    control: bool


class ViscaCamera:
    """The camera end; point the driver at ``127.0.0.1:`` :attr:`port`.

    ``limits`` is the focus range (focus direct outside it is a syntax error),
    crossed in ``travel_time`` seconds; ``delay`` holds every reply back;
    ``loss`` is the fraction of datagrams lost in each direction;
    ``strict_sequence`` refuses (ERROR 0F 01) a sequence number not above the
    last one accepted, ``max_sequence`` one above it (a camera that takes only
    1..N); ``reply_sequence`` answers every message with that number instead of
    the message's; ``supports_reset=False`` answers RESET with ERROR 0F 02.
    """

    def __init__(
        self,
        *,
        limits: tuple[int, int] = (0x1000, 0xF000),
        travel_time: float = 1.0,
        start: int | None = None,
        autofocus: bool = True,
        delay: float = 0.0,
        loss: float = 0.0,
        seed: int = 0,
        strict_sequence: bool = False,
        max_sequence: int | None = None,
        reply_sequence: int | None = None,
        supports_reset: bool = True,
    ) -> None:
        self.limits = limits
        self.speed = (limits[1] - limits[0]) / travel_time
        self.autofocus = autofocus
        self.delay = delay
        self.loss = loss
        self.seed = seed
        self.strict_sequence = strict_sequence
        self.max_sequence = max_sequence
        self.reply_sequence = reply_sequence
        self.supports_reset = supports_reset
        self.silent = False  # hear every datagram, answer none
        self.last_sequence = 0  # the last accepted sequence number (RESET sets 0)
        self._lock = threading.Lock()
        self._heard: list[Heard] = []
        self._draws: Counter[tuple[str, int]] = Counter()
        self._injections: list[_Injection] = []
        self._strays = 0
        self._motor = Travel(limits[0] if start is None else start, self.speed, time.monotonic())
        self._outbox: list[tuple[float, int, bytes]] = []  # (due, order, datagram), a heap
        self._order = itertools.count()
        self._completion: int | None = None  # order of the pending focus direct completion
        self._client: tuple[str, int] | None = None
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visca-camera", daemon=True)
        self._thread.start()

    # -- what a test controls and reads ------------------------------------------

    @property
    def received(self) -> list[Heard]:
        with self._lock:
            return list(self._heard)

    def payloads(self, payload_type: int | None = None) -> list[bytes]:
        """The payloads heard, of one payload type if given."""
        return [h.payload for h in self.received if payload_type in (None, h.payload_type)]

    def position(self) -> int:
        with self._lock:
            return self._motor.position(time.monotonic())

    def moving(self) -> bool:
        with self._lock:
            return self._motor.moving(time.monotonic())

    def inject(self, reply: bytes, *, times: int = 1, to: bytes = b"", control: bool = False) -> None:
        """Answer the next ``times`` messages whose payload starts with ``to`` with ``reply`` instead."""
        with self._lock:
            self._injections.append(_Injection(reply, times, to, control))

    def stray(self, times: int = 1) -> None:
        """Before each of the next ``times`` replies, send junk and answers to other sequence numbers."""
        with self._lock:
            self._strays += times

    def close(self) -> None:
        self._stopping.set()
        self._thread.join(2.0)
        if self._thread.is_alive():
            raise RuntimeError("VISCA camera emulator thread did not stop")
        self._socket.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the network -----------------------------------------------------------------

    def _lost(self, direction: str, sequence: int) -> bool:
        """Whether this datagram is lost: one seeded draw per (direction, sequence, n-th time)."""
        if self.loss <= 0:
            return False
        key = (direction, sequence)
        self._draws[key] += 1
        # A hash, not random.Random(key): seeds that differ in one character gave correlated first draws.
        digest = hashlib.sha256(f"{self.seed}/{direction}/{sequence}/{self._draws[key]}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.loss

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._flush(time.monotonic())
            with self._lock:
                wait = min(0.005, max(0.0, self._outbox[0][0] - time.monotonic())) if self._outbox else 0.005
            ready, _, _ = select.select([self._socket], [], [], wait)
            if ready:
                try:
                    datagram, client = self._socket.recvfrom(2048)
                except OSError:
                    continue
                self._handle(datagram, client, time.monotonic())

    def _flush(self, now: float) -> None:
        while True:
            with self._lock:
                if not self._outbox or self._outbox[0][0] > now or self._client is None:
                    return
                _, order, datagram = heapq.heappop(self._outbox)
                if order == self._completion:
                    self._completion = None
                lost = self._lost("out", HEADER.unpack_from(datagram)[2])
                client = self._client
            if not lost:
                self._socket.sendto(datagram, client)

    def _queue(self, payload_type: int, sequence: int, payload: bytes, due: float) -> int:
        sequence = sequence if self.reply_sequence is None else self.reply_sequence
        return self._queue_raw(HEADER.pack(payload_type, len(payload), sequence) + payload, due)

    def _queue_raw(self, datagram: bytes, due: float) -> int:
        order = next(self._order)
        heapq.heappush(self._outbox, (due, order, datagram))
        return order

    def _cancel_completion(self) -> None:
        if self._completion is not None:
            self._outbox = [item for item in self._outbox if item[1] != self._completion]
            heapq.heapify(self._outbox)
            self._completion = None

    # -- the camera ----------------------------------------------------------------------

    def _handle(self, datagram: bytes, client: tuple[str, int], now: float) -> None:
        if len(datagram) < HEADER.size:
            return
        payload_type, length, sequence = HEADER.unpack_from(datagram)
        payload = datagram[HEADER.size:]
        with self._lock:
            if self._lost("in", sequence):
                return
            self._heard.append(Heard(payload_type, sequence, payload))
            self._client = client
            if self.silent:
                return
            due = now + self.delay
            if self._strays:
                self._strays -= 1
                self._queue_raw(HEADER.pack(VISCA_REPLY, 9, sequence) + b"junk", due)  # length field is wrong
                self._queue(VISCA_REPLY, (sequence - 1) & 0xFFFFFFFF, bytes.fromhex("90 50 01 02 03 04 FF"), due)
                self._queue(VISCA_REPLY, (sequence + 1000) & 0xFFFFFFFF, ACK, due)
            if length != len(payload) or not payload:
                self._queue(CONTROL_REPLY, sequence, MESSAGE_ERROR, due)
                return
            for injection in self._injections:
                if injection.times > 0 and payload.startswith(injection.to):
                    injection.times -= 1
                    self._queue(CONTROL_REPLY if injection.control else VISCA_REPLY, sequence, injection.reply, due)
                    return
            if payload_type == CONTROL_COMMAND:
                if payload == b"\x01" and self.supports_reset:
                    self.last_sequence = 0
                    self._queue(CONTROL_REPLY, sequence, RESET_ACK, due)
                else:
                    self._queue(CONTROL_REPLY, sequence, MESSAGE_ERROR, due)
                return
            kind = {VISCA_COMMAND: 0x01, VISCA_INQUIRY: 0x09}.get(payload_type)
            if kind is None or len(payload) < 3 or payload[1] != kind:
                self._queue(CONTROL_REPLY, sequence, MESSAGE_ERROR, due)  # type and payload disagree
                return
            if (self.strict_sequence and sequence <= self.last_sequence) or (
                    self.max_sequence is not None and not 1 <= sequence <= self.max_sequence):
                self._queue(CONTROL_REPLY, sequence, SEQUENCE_ERROR, due)
                return
            self.last_sequence = sequence
            self._visca(payload, sequence, now, due)

    def _visca(self, payload: bytes, sequence: int, now: float, due: float) -> None:
        def reply(*payloads: bytes) -> None:
            for p in payloads:
                self._queue(VISCA_REPLY, sequence, p, due)

        if payload == POSITION_INQUIRY:
            reply(bytes.fromhex("90 50") + bytes((self._motor.position(now) >> s) & 0x0F for s in (12, 8, 4, 0)) + b"\xff")
        elif payload == MODE_INQUIRY:
            reply(bytes.fromhex("90 50 02 FF" if self.autofocus else "90 50 03 FF"))
        elif payload in (AUTO, MANUAL):
            self.autofocus = payload == AUTO
            self._cancel_completion()
            self._motor.move(self._motor.position(now), now)  # switching mode leaves the lens where it is
            reply(ACK, COMPLETION)
        elif payload == STOP:
            if self.autofocus:
                reply(NOT_EXECUTABLE)
                return
            self._cancel_completion()
            self._motor.move(self._motor.position(now), now)
            reply(ACK, COMPLETION)
        elif payload.startswith(DIRECT) and len(payload) == 9 and payload[-1] == 0xFF:
            digits = payload[4:8]
            value = sum(d << s for d, s in zip(digits, (12, 8, 4, 0)))
            if any(d > 0x0F for d in digits) or not self.limits[0] <= value <= self.limits[1]:
                reply(SYNTAX_ERROR)
            elif self.autofocus:
                reply(NOT_EXECUTABLE)
            else:
                self._cancel_completion()  # a newer target supersedes the running move
                arrival = self._motor.move(value, now)
                reply(ACK)
                self._completion = self._queue(VISCA_REPLY, sequence, COMPLETION, max(arrival, now) + self.delay)
        else:
            reply(SYNTAX_ERROR)
