"""The Blackmagic camera control packet: encoder and decoder, no I/O.

Blackmagic cameras take the same packets over SDI, over Bluetooth LE (the
"Outgoing Camera Control" characteristic) and send them back on "Incoming
Camera Control", so one codec serves the BLE driver and the fake cameras in
the tests.

Layout (little-endian throughout)::

    header   destination  (uint8, 255 = broadcast to every camera)
             length       (uint8, bytes of command data: not the header, not the padding)
             command id   (uint8, 0 = change configuration)
             reserved     (uint8, 0)
    command  category     (uint8, the parameter group: 0 = lens)
             parameter    (uint8, 0 = focus, 1 = instantaneous autofocus)
             data type    (uint8, see :class:`DataType`)
             operation    (uint8, 0 = assign, 1 = offset / toggle)
             data         (0..56 bytes: a whole number of elements of the data type)
    padding  zero bytes up to a multiple of 4 (not counted in the length)

``fixed16`` is signed 5.11 fixed point: the value times 2048 as an int16,
range -16.0 .. 15.9995 (15 + 2047/2048). Lens focus (0.0) is a fixed16 in
0.0 (near) .. 1.0 (far); instantaneous autofocus (0.1) is a void parameter.

Confirmed against Blackmagic's "Blackmagic Camera Control" developer manual
(December 2023: "Blackmagic SDI Camera Control Protocol" version 1.6.2 and
its "Example Protocol Packets" table; the same text is in the camera manuals'
developer chapters, e.g. Cinema Camera, URSA Mini, Pocket Cinema Camera 4K):
every header and command field above, the 60-byte command data limit (64-byte
packet), 32-bit padding outside the length, the data types and the fixed16
definition, the lens table (0.0 focus fixed16 0..1 near..far; 0.1
instantaneous autofocus void) and the six example packets, which the tests
reproduce byte for byte. That table has no "set focus" example: the focus
packet is built from the field definitions, and its fixed16 encoding is
checked with the zebra (0.15 -> 0x0133) and gamma (-0.3 -> 0xfd9a) examples.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

BROADCAST = 255
HEADER_SIZE = 4
MAX_PACKET = 64
MAX_COMMAND = MAX_PACKET - HEADER_SIZE  # command data: category .. data
COMMAND_HEADER_SIZE = 4  # category, parameter, data type, operation
MAX_DATA = MAX_COMMAND - COMMAND_HEADER_SIZE
CHANGE_CONFIGURATION = 0

GROUP_LENS = 0
LENS_FOCUS = 0
LENS_INSTANT_AUTOFOCUS = 1

FIXED16_SCALE = 2048
FIXED16_MIN = -16.0
FIXED16_MAX = 32767 / FIXED16_SCALE  # 15.99951171875


class DataType(IntEnum):
    """The data type byte: what the elements after the operation byte are."""

    VOID = 0  # also boolean: one byte per element, 0 = false
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    STRING = 5  # UTF-8, no terminator
    FIXED16 = 128


class Operation(IntEnum):
    """The operation byte: set the parameter, or add to it."""

    ASSIGN = 0
    OFFSET = 1  # offset a number, toggle a boolean


# struct format of one element, for the numeric types
_FORMATS = {DataType.VOID: "b", DataType.INT8: "b", DataType.INT16: "h", DataType.INT32: "i",
            DataType.INT64: "q", DataType.FIXED16: "h"}


class PacketError(ValueError):
    """Bytes that are not a well-formed camera control packet."""


def to_fixed16(value: float, *, clamp: bool = False) -> int:
    """``value`` as a 5.11 fixed-point int16 (rounded to the nearest 1/2048).

    Out of range raises ValueError unless ``clamp``; NaN and infinities always raise.
    """
    if not math.isfinite(value):
        raise ValueError(f"fixed16 needs a finite number, got {value!r}")
    if not FIXED16_MIN <= value <= FIXED16_MAX:
        if not clamp:
            raise ValueError(f"fixed16 holds {FIXED16_MIN:g} .. {FIXED16_MAX:.4f}, got {value!r}")
        value = min(FIXED16_MAX, max(FIXED16_MIN, value))
    return math.floor(value * FIXED16_SCALE + 0.5)


def from_fixed16(raw: int) -> float:
    """The real value of a 5.11 fixed-point int16."""
    if not -32768 <= raw <= 32767:
        raise ValueError(f"a fixed16 is a signed 16-bit integer, got {raw!r}")
    return raw / FIXED16_SCALE


def encode_data(data_type: int, values: Sequence[float | int | bool] | str) -> bytes:
    """The data bytes for ``values`` of ``data_type`` (a ``str`` for STRING, numbers otherwise)."""
    kind = DataType(data_type)
    if kind is DataType.STRING:
        if not isinstance(values, str):
            raise ValueError("STRING data takes a str")
        return values.encode("utf-8")
    if isinstance(values, str):
        raise ValueError(f"{kind.name} data takes numbers, not a str")
    if kind is DataType.FIXED16:
        return b"".join(struct.pack("<h", to_fixed16(float(v))) for v in values)
    if kind is DataType.VOID:
        return bytes(1 if v else 0 for v in values)
    fmt = "<" + _FORMATS[kind]
    out = bytearray()
    for v in values:
        if isinstance(v, float) and not v.is_integer():
            raise ValueError(f"{kind.name} data takes whole numbers, got {v!r}")
        try:
            out += struct.pack(fmt, int(v))
        except struct.error as exc:
            raise ValueError(f"{v!r} does not fit in {kind.name}") from exc
    return bytes(out)


def decode_data(data_type: int, data: bytes) -> tuple[float | int | bool, ...] | str:
    """The elements in ``data``: floats for FIXED16, ints, bools for VOID, a str for STRING.

    Data types the protocol leaves to devices (129..255) decode as raw bytes.
    """
    try:
        kind = DataType(data_type)
    except ValueError:
        return tuple(data)
    if kind is DataType.STRING:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PacketError(f"STRING data is not UTF-8: {data!r}") from exc
    if kind is DataType.VOID:
        return tuple(b != 0 for b in data)
    size = struct.calcsize(_FORMATS[kind])
    if len(data) % size:
        raise PacketError(f"{len(data)} data bytes are not a whole number of {kind.name} elements ({size} bytes each)")
    raw = struct.unpack(f"<{len(data) // size}{_FORMATS[kind]}", data)
    return tuple(from_fixed16(r) for r in raw) if kind is DataType.FIXED16 else raw


def _byte(name: str, value: int) -> int:
    if not (isinstance(value, int) and 0 <= value <= 255):
        raise ValueError(f"{name} must be a byte (0..255), got {value!r}")
    return value


def camera_control_packet(destination: int, category: int, parameter: int, data_type: int, operation: int,
                          data: bytes | Sequence[float | int | bool] | str = b"") -> bytes:
    """One padded "change configuration" packet.

    ``data`` is either the raw data bytes (``bytes``/``bytearray``) or the
    values to encode with ``data_type`` (see :func:`encode_data`).
    """
    for name, value in (("destination", destination), ("category", category), ("parameter", parameter),
                        ("data type", data_type), ("operation", operation)):
        _byte(name, value)
    payload = bytes(data) if isinstance(data, (bytes, bytearray)) else encode_data(data_type, data)
    if len(payload) > MAX_DATA:
        raise ValueError(f"camera control data is at most {MAX_DATA} bytes, got {len(payload)}")
    length = COMMAND_HEADER_SIZE + len(payload)
    packet = bytes((destination, length, CHANGE_CONFIGURATION, 0, category, parameter, data_type, operation)) + payload
    return packet + bytes(-len(packet) % 4)


def focus_packet(value: float, destination: int = BROADCAST) -> bytes:
    """Set lens focus to ``value``, 0.0 (near) .. 1.0 (far)."""
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"lens focus is 0.0 (near) .. 1.0 (far), got {value!r}")
    return camera_control_packet(destination, GROUP_LENS, LENS_FOCUS, DataType.FIXED16, Operation.ASSIGN, [value])


def autofocus_packet(destination: int = BROADCAST) -> bytes:
    """Trigger the camera's instantaneous (one-shot) autofocus."""
    return camera_control_packet(destination, GROUP_LENS, LENS_INSTANT_AUTOFOCUS, DataType.VOID, Operation.ASSIGN)


@dataclass(frozen=True)
class CameraControlPacket:
    """One decoded "change configuration" packet (``data`` without the padding)."""

    destination: int
    category: int
    parameter: int
    data_type: int
    operation: int
    data: bytes = b""

    @property
    def values(self) -> tuple[float | int | bool, ...] | str:
        """The data elements, decoded by :attr:`data_type`."""
        return decode_data(self.data_type, self.data)

    @property
    def focus(self) -> float | None:
        """The lens focus this packet assigns (0.0 near .. 1.0 far), or None if it assigns none."""
        if (self.category, self.parameter, self.data_type, self.operation) != (
                GROUP_LENS, LENS_FOCUS, DataType.FIXED16, Operation.ASSIGN) or len(self.data) != 2:
            return None
        return self.values[0]  # type: ignore[return-value]

    def encode(self) -> bytes:
        """The packet on the wire, padded."""
        return camera_control_packet(self.destination, self.category, self.parameter, self.data_type,
                                     self.operation, self.data)


def iter_packets(buffer: bytes) -> Iterable[CameraControlPacket]:
    """Every "change configuration" packet in ``buffer`` (packets back to back, each padded).

    Commands other than 0 are skipped by their length, as the protocol asks;
    the padding after the last packet may be missing. A length that runs past
    the end of ``buffer`` raises :class:`PacketError`.
    """
    buffer = bytes(buffer)
    offset = 0
    while offset < len(buffer):
        if len(buffer) - offset < HEADER_SIZE:
            raise PacketError(f"{len(buffer) - offset} stray bytes at offset {offset}: a packet header is {HEADER_SIZE} bytes")
        destination, length, command, _reserved = buffer[offset:offset + HEADER_SIZE]
        start = offset + HEADER_SIZE
        end = start + length
        if length > MAX_COMMAND or end > len(buffer):
            raise PacketError(f"packet at offset {offset} says {length} command bytes, "
                              f"{len(buffer) - start} remain (at most {MAX_COMMAND} allowed)")
        offset = end + (-length % 4)
        if command != CHANGE_CONFIGURATION:
            continue
        if length < COMMAND_HEADER_SIZE:
            raise PacketError(f"change configuration packet at offset {start - HEADER_SIZE} has {length} command "
                              f"bytes; it needs at least {COMMAND_HEADER_SIZE}")
        category, parameter, data_type, operation = buffer[start:start + COMMAND_HEADER_SIZE]
        yield CameraControlPacket(destination, category, parameter, data_type, operation,
                                  buffer[start + COMMAND_HEADER_SIZE:end])


def decode_packets(buffer: bytes) -> list[CameraControlPacket]:
    """All "change configuration" packets in ``buffer`` (see :func:`iter_packets`)."""
    return list(iter_packets(buffer))


def decode_packet(buffer: bytes) -> CameraControlPacket:
    """The one "change configuration" packet in ``buffer`` (PacketError if there is not exactly one)."""
    packets = decode_packets(buffer)
    if len(packets) != 1:
        raise PacketError(f"expected one change configuration packet, found {len(packets)} in {bytes(buffer).hex(' ')}")
    return packets[0]
