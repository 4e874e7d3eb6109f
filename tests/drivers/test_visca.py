"""VISCA over IP: the codec byte for byte against the published tables, the driver against an emulated camera."""

from __future__ import annotations

import math
import time

import pytest

from assistant.drivers import visca
from assistant.drivers.base import Capabilities, FocusDriver
from assistant.drivers.guard import SafetyLimits
from assistant.drivers.visca import (
    CONTROL_COMMAND,
    CONTROL_REPLY,
    FOCUS_MANUAL,
    FOCUS_POSITION_INQUIRY,
    FOCUS_STOP,
    VISCA_COMMAND,
    VISCA_INQUIRY,
    VISCA_REPLY,
    Message,
    Reply,
    ReplyKind,
    ViscaFocusDriver,
    decode_reply,
    encode,
    focus_direct,
    from_nibbles,
    from_spec,
    nibbles,
    parse_spec,
)
from assistant.errors import DriverFault, UserInputError
from tests.drivers.timing import timed
from tests.drivers.visca_camera import ViscaCamera

TIMEOUT = 0.05  # the driver's reply timeout in these tests (the default)
SLACK = 0.1  # scheduling noise allowed on top of a computed worst case (test machines may be busy)

h = bytes.fromhex


# -- codec --------------------------------------------------------------------


def test_payload_length_is_the_payload_byte_count():
    # Sony: "When the payload length is 16 bytes. Byte 2: 00h, Byte 3: 10h"
    assert encode(VISCA_COMMAND, 0, bytes(16))[2:4] == h("00 10")
    # AVer's published preset recall carries length 09 for 7 bytes: we send 07, and read such a datagram anyway.
    published = h("01 00 00 09 00 00 00 00 81 01 04 3F 02 01 FF")
    assert encode(VISCA_COMMAND, 0, h("81 01 04 3F 02 01 FF")) == published[:3] + b"\x07" + published[4:]
    assert Message.decode(published) is None
    assert Message.decode(published, strict_length=False) == Message(VISCA_COMMAND, 0, h("81 01 04 3F 02 01 FF"))
    assert decode_reply(h("01 11 00 09 00 00 00 05 90 41 FF")) == Reply(ReplyKind.ACK, 5, socket=1)


@pytest.mark.parametrize(
    ("payload_type", "sequence", "payload", "datagram"),
    [
        (VISCA_COMMAND, 1, FOCUS_MANUAL, "01 00 00 06 00 00 00 01 81 01 04 38 03 FF"),
        (VISCA_COMMAND, 0x01020304, FOCUS_STOP, "01 00 00 06 01 02 03 04 81 01 04 08 00 FF"),
        (VISCA_INQUIRY, 0xFFFFFFFF, FOCUS_POSITION_INQUIRY, "01 10 00 05 FF FF FF FF 81 09 04 48 FF"),
        (CONTROL_COMMAND, 0, b"\x01", "02 00 00 01 00 00 00 00 01"),  # RESET
    ],
)
def test_header_is_type_length_sequence_big_endian(payload_type, sequence, payload, datagram):
    assert encode(payload_type, sequence, payload) == h(datagram)
    assert Message.decode(h(datagram)) == Message(payload_type, sequence, payload)


@pytest.mark.parametrize(("bad_sequence", "bad_payload"), [(-1, b"\x01"), (2**32, b"\x01"), (0, b""), (0, b"\x00" * 17)])
def test_encode_refuses_what_the_header_cannot_carry(bad_sequence, bad_payload):
    with pytest.raises(ValueError):
        encode(VISCA_COMMAND, bad_sequence, bad_payload)


@pytest.mark.parametrize(
    ("position", "command"),
    [
        (0x1000, "81 01 04 48 01 00 00 00 FF"),  # Sony far end
        (0xF000, "81 01 04 48 0F 00 00 00 FF"),  # Sony near end
        (0xC000, "81 01 04 48 0C 00 00 00 FF"),  # EVI-D80/D90 near end
        (0x1234, "81 01 04 48 01 02 03 04 FF"),  # pqrs = 1234 -> 01 02 03 04
        (0x0000, "81 01 04 48 00 00 00 00 FF"),
        (0xFFFF, "81 01 04 48 0F 0F 0F 0F FF"),
    ],
)
def test_focus_direct(position, command):
    assert focus_direct(position) == h(command)


def test_nibbles_round_trip_and_range():
    for value in range(0, 0x10000, 0x0FED):
        assert from_nibbles(nibbles(value)) == value
    with pytest.raises(ValueError):
        nibbles(0x10000)
    with pytest.raises(ValueError):
        focus_direct(-1)
    with pytest.raises(ValueError):
        from_nibbles(h("01 10"))


def reply(payload: str, sequence: int = 7, payload_type: int = VISCA_REPLY) -> bytes:
    data = h(payload)
    return payload_type.to_bytes(2, "big") + len(data).to_bytes(2, "big") + sequence.to_bytes(4, "big") + data


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("90 41 FF", Reply(ReplyKind.ACK, 7, socket=1)),
        ("90 42 FF", Reply(ReplyKind.ACK, 7, socket=2)),
        ("90 51 FF", Reply(ReplyKind.COMPLETION, 7, socket=1)),
        ("90 50 01 02 03 04 FF", Reply(ReplyKind.ANSWER, 7, value=0x1234, data=h("01 02 03 04"))),
        ("90 50 0F 00 00 00 FF", Reply(ReplyKind.ANSWER, 7, value=0xF000, data=h("0F 00 00 00"))),
        ("90 50 02 FF", Reply(ReplyKind.ANSWER, 7, value=2, data=h("02"))),  # focus mode: auto
        ("90 50 20 FF", Reply(ReplyKind.ANSWER, 7, value=None, data=h("20"))),  # not nibbles
        ("90 60 02 FF", Reply(ReplyKind.ERROR, 7, error=0x02)),  # syntax error
        ("90 60 03 FF", Reply(ReplyKind.ERROR, 7, error=0x03)),  # command buffer full
        ("90 61 04 FF", Reply(ReplyKind.ERROR, 7, socket=1, error=0x04)),  # command cancelled
        ("90 62 05 FF", Reply(ReplyKind.ERROR, 7, socket=2, error=0x05)),  # no socket
        ("90 61 41 FF", Reply(ReplyKind.ERROR, 7, socket=1, error=0x41)),  # not executable
    ],
)
def test_decode_visca_replies(payload, expected):
    assert decode_reply(reply(payload)) == expected


@pytest.mark.parametrize(
    ("payload", "error"), [("01", None), ("0F 01", 0x01), ("0F 02", 0x02)],  # ACK to RESET, sequence, message
)
def test_decode_control_replies(payload, error):
    assert decode_reply(reply(payload, 3, CONTROL_REPLY)) == Reply(ReplyKind.CONTROL, 3, error=error)


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        h("01 11 00 03 00 00 00"),  # short header
        reply("90 41 FF", payload_type=VISCA_COMMAND),  # a command is no reply
        reply("90 41"),  # no terminator
        reply("90 41 FF FF"),
        reply("81 41 FF"),  # a controller's address
        reply("90 41 00 FF"),  # an ACK carries nothing
        reply("90 60 02 03 FF"),
        reply("90 38 FF"),  # network change: not sent over IP
        reply("0F", payload_type=CONTROL_REPLY),
        reply("02", payload_type=CONTROL_REPLY),
    ],
)
def test_decode_rejects_what_is_no_reply(datagram):
    assert decode_reply(datagram) is None


# -- the emulated camera ----------------------------------------------------------


@pytest.fixture
def camera():
    with ViscaCamera() as cam:
        yield cam


@pytest.fixture
def driver(camera):
    drv = ViscaFocusDriver("127.0.0.1", camera.port, timeout=TIMEOUT)
    yield drv
    drv.close()


def visca_payloads(camera) -> list[bytes]:
    return camera.payloads(VISCA_COMMAND) + camera.payloads(VISCA_INQUIRY)


def test_handshake_resets_switches_to_manual_and_reads(camera, driver):
    assert isinstance(driver, FocusDriver)
    assert driver.capabilities == Capabilities("visca", (4096.0, 61440.0), 1.0, reports_position=True)
    assert driver.description == f"visca://127.0.0.1:{camera.port}"
    heard = [(m.payload_type, m.sequence, m.payload) for m in camera.received]
    assert heard == [(CONTROL_COMMAND, 0, b"\x01"), (VISCA_COMMAND, 1, FOCUS_MANUAL), (VISCA_INQUIRY, 2, FOCUS_POSITION_INQUIRY)]
    assert not camera.autofocus
    assert driver.reset_supported is True
    assert driver.position() == 0x1000 and driver.warnings == []


def test_move_returns_at_the_ack_and_the_lens_travels(camera, driver):
    start = time.monotonic()
    driver.move_to(0x8000)
    assert time.monotonic() - start < TIMEOUT + SLACK  # the ACK, not the completion half a second later
    assert camera.moving()
    readings = []
    while (here := driver.position()) != 0x8000:
        readings.append(here)
        assert time.monotonic() - start < 1.5, f"focus stuck at {here:#06x}"
        time.sleep(0.01)
    took = time.monotonic() - start
    assert 0.45 <= took < 1.5  # 0x7000 of 0xE000 at full range per 1.0 s: half a second (upper: stuck)
    assert len(readings) > 10 and readings == sorted(readings)
    assert 0x1000 <= readings[0] < 0x8000


def test_targets_are_clamped_to_the_range_and_rounded(camera):
    with from_spec(f"visca://127.0.0.1:{camera.port}?range=0x2000-0x3000") as drv:
        assert drv.capabilities.limits == (0x2000, 0x3000)
        assert drv.warnings and "outside the range" in drv.warnings[0]  # the lens sits at 0x1000
        for target in (1e9, -5, 0x2400 + 0.6, 0x2400 + 0.4):
            drv.move_to(target)
        with pytest.raises(ValueError):
            drv.move_to(math.nan)
    directs = [p for p in camera.payloads(VISCA_COMMAND) if p.startswith(visca.FOCUS_DIRECT)]
    assert directs == [focus_direct(0x3000), focus_direct(0x2000), focus_direct(0x2401), focus_direct(0x2400)]


def test_stop_halts_the_lens_where_it_is(camera, driver):
    driver.move_to(0xF000)
    time.sleep(0.1)
    driver.stop()
    stopped = driver.position()
    assert 0x1000 + 0x800 <= stopped <= 0x1000 + 0x6000  # ~0.1 s of 0xE000/s, room for a slow machine
    time.sleep(0.1)
    assert driver.position() == stopped == camera.position()
    assert FOCUS_STOP in camera.payloads(VISCA_COMMAND)


def test_auto_focus_switched_back_on_is_undone_once(camera, driver):
    camera.autofocus = True  # someone pressed AF on the remote
    driver.move_to(0x2000)
    assert not camera.autofocus
    tail = camera.received[-3:]
    assert [m.payload for m in tail] == [focus_direct(0x2000), FOCUS_MANUAL, focus_direct(0x2000)]
    assert tail[0].sequence < tail[2].sequence  # sent again under a new number: the first one was answered


def test_not_executable_even_in_manual_is_a_fault(camera, driver):
    camera.inject(h("90 61 41 FF"), times=2, to=visca.FOCUS_DIRECT)
    with pytest.raises(DriverFault, match="command not executable even in manual focus.*menu"):
        driver.move_to(0x2000)


def test_buffer_full_waits_and_sends_again(camera, driver):
    camera.inject(h("90 60 03 FF"), to=visca.FOCUS_DIRECT)
    start = time.monotonic()
    driver.move_to(0x2000)
    assert visca.BUSY_WAIT <= time.monotonic() - start < visca.BUSY_WAIT + SLACK
    assert camera.payloads(VISCA_COMMAND).count(focus_direct(0x2000)) == 2
    camera.inject(h("90 60 03 FF"), times=2, to=visca.FOCUS_DIRECT)
    with pytest.raises(DriverFault, match="command buffer full twice"):
        driver.move_to(0x2000)


def test_syntax_error_on_focus_direct_points_at_the_range(camera, driver):
    camera.inject(h("90 60 02 FF"), to=visca.FOCUS_DIRECT)
    error, elapsed = timed(lambda: driver.move_to(0x9000))
    assert isinstance(error, DriverFault) and "syntax error" in str(error) and "?range=LO-HI" in str(error)
    assert elapsed < TIMEOUT + SLACK  # a refusal is final: no retry
    assert camera.payloads(VISCA_COMMAND).count(focus_direct(0x9000)) == 1


def test_stray_junk_and_late_replies_to_other_messages_are_skipped(camera, driver):
    camera.stray(times=3)  # each reply comes after junk and answers to sequence - 1 and + 1000
    assert driver.position() == 0x1000  # not the stray answer's 0x1234
    driver.move_to(0x1100)
    driver.stop()
    assert driver.stats.stray >= 6 and driver.stats.junk >= 3
    assert driver.stats.retransmits == 0


def test_a_late_reply_to_the_first_try_counts_during_the_retry(camera, driver):
    camera.delay = TIMEOUT * 1.4
    start = time.monotonic()
    assert driver.position() == 0x1000
    assert TIMEOUT <= time.monotonic() - start < 2 * TIMEOUT + SLACK
    inquiries = [m for m in camera.received if m.payload == FOCUS_POSITION_INQUIRY][-2:]
    assert inquiries[0].sequence == inquiries[1].sequence  # Sony: retransmit with the same number
    assert driver.stats.retransmits == 1


# -- sequence numbers ------------------------------------------------------------------


def test_abnormal_sequence_number_resets_and_sends_again():
    with ViscaCamera(strict_sequence=True) as cam, ViscaFocusDriver("127.0.0.1", cam.port) as drv:
        cam.last_sequence = 10**6  # the camera restarted its count elsewhere, or another controller ran
        drv.move_to(0x3000)
        assert drv.stats.resets == 2
        tail = [(m.payload_type, m.sequence, m.payload) for m in cam.received[-3:]]
        assert tail == [(VISCA_COMMAND, 3, focus_direct(0x3000)), (CONTROL_COMMAND, 0, b"\x01"),
                        (VISCA_COMMAND, 1, focus_direct(0x3000))]


def test_a_camera_taking_only_sequence_numbers_1_to_3_keeps_working():
    with ViscaCamera(max_sequence=3) as cam, ViscaFocusDriver("127.0.0.1", cam.port) as drv:
        for target in range(0x2000, 0x2000 + 12):
            drv.move_to(target)
            assert drv.position() is not None
        assert drv.stats.retransmits == 0
        assert drv.stats.resets >= 8  # one each three messages
        assert {m.sequence for m in cam.received if m.payload_type != CONTROL_COMMAND} == {1, 2, 3, 4}


def test_sequence_error_even_after_a_reset_is_a_fault(camera, driver):
    camera.inject(b"\x0f\x01", times=2, to=visca.FOCUS_DIRECT, control=True)
    with pytest.raises(DriverFault, match="abnormal sequence number even after a reset"):
        driver.move_to(0x2000)


def test_a_camera_without_reset_still_opens():
    with ViscaCamera(supports_reset=False) as cam, ViscaFocusDriver("127.0.0.1", cam.port) as drv:
        assert drv.reset_supported is False
        drv.move_to(0x2000)


def test_a_camera_that_does_not_copy_sequence_numbers_is_named():
    with ViscaCamera(reply_sequence=1) as cam:  # like the NewTek NDI PTZ1
        with pytest.raises(DriverFault, match="none with this message's sequence number"):
            ViscaFocusDriver("127.0.0.1", cam.port, timeout=0.02)


# -- a lossy link ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "strict", "fresh_at_least"),
    [(0.02, False, 0.97), (0.2, False, 0.8), (0.2, True, 0.75)],
)
def test_moves_arrive_and_reads_stay_bounded_over_a_lossy_link(loss, strict, fresh_at_least):
    timeout = 0.03
    with ViscaCamera(travel_time=0.25, loss=loss, seed=11, strict_sequence=strict) as cam:
        # stale_after 1 s, not 0.5: a busy test machine must not turn this into a test of its scheduler;
        # the fault after silence is checked on its own below.
        drv = ViscaFocusDriver("127.0.0.1", cam.port, timeout=timeout, stale_after=1.0)

        def call(action, *args):
            """``action(*args)``, its wall time and how many reply waits ran out during it."""
            waits, start = drv.stats.timeouts, time.monotonic()
            result = action(*args)
            return result, time.monotonic() - start, drv.stats.timeouts - waits

        try:
            moves, reads = [], []
            for target in (0x9000, 0x2000, 0xE000, 0x5000, 0xF000, 0x1000):
                moves.append(call(drv.move_to, target)[1:])
                deadline = time.monotonic() + 2.0
                while (read := call(drv.position))[0] != target or cam.position() != target:
                    reads.append(read[1:])
                    assert time.monotonic() < deadline, f"move to {target:#06x} never arrived ({cam.position():#06x})"
                    time.sleep(0.005)
            stale_before = drv.stats.stale_reads
            hold = []
            for _ in range(150):  # the frame loop, holding focus
                value, *cost = call(drv.position)
                assert value == 0x1000
                hold.append(cost)
            fresh = 1 - (drv.stats.stale_reads - stale_before) / len(hold)
        finally:
            drv.close()
    assert fresh >= fresh_at_least, drv.stats  # both tries lost: 1 - (1 - 0.8**2)**2 = 0.87 succeed at 20 %
    # The guarantee: a call waits out at most its tries, plus a RESET's tries on a strict camera, and a
    # read may first send a move left unconfirmed (one try). Wall time adds only round trips, and stays
    # under the guard's watchdog (0.5 s) however unlucky the losses.
    tries = drv.retries + 1
    reset = tries if strict else 0
    assert max(waits for _, waits in moves) <= tries + reset, drv.stats
    assert max(waits for _, waits in reads + hold) <= 1 + reset + tries + reset, drv.stats
    assert max(took for took, _ in moves + reads + hold) < SafetyLimits((0.0, 1.0)).timeout_s
    assert sorted(took for took, _ in hold)[len(hold) // 2] < timeout  # the usual read is one round trip
    if loss >= 0.2:
        assert drv.stats.retransmits > 5 and drv.stats.stale_reads > 0


# -- a silent camera ----------------------------------------------------------------------


def test_a_silent_camera_fails_to_open_in_bounded_time():
    with ViscaCamera() as cam:
        cam.silent = True
        error, elapsed = timed(lambda: ViscaFocusDriver("127.0.0.1", cam.port))
        assert isinstance(error, DriverFault)
        text = str(error)
        assert f"visca://127.0.0.1:{cam.port} did not answer manual focus within 0.2 s (4 tries)" in text
        assert "IP address" in text and "52381" in text and "VISCA over IP is enabled" in text
        patience = visca.HANDSHAKE_TIMEOUT * (visca.DEFAULT_RETRIES + 1 + visca.HANDSHAKE_TRIES)  # RESET, manual focus
        assert patience - 0.01 <= elapsed < patience + 0.3  # six waits, each may overrun on a busy machine


def test_a_camera_going_silent_reads_stale_then_faults(camera):
    with ViscaFocusDriver("127.0.0.1", camera.port, stale_after=0.3) as drv:
        drv.move_to(0x1000)
        assert drv.position() == 0x1000
        camera.silent = True
        went_silent = time.monotonic()
        worst = 0.0
        while True:
            start = time.monotonic()
            try:
                assert drv.position() == 0x1000  # the last reading, while it is fresh
            except DriverFault as fault:
                assert "stopped answering" in str(fault) and "check the network" in str(fault)
                break
            finally:
                worst = max(worst, time.monotonic() - start)
            assert time.monotonic() - went_silent < 1.0
        assert 0.3 <= time.monotonic() - went_silent < 0.3 + 2 * (2 * TIMEOUT) + SLACK
        assert worst < 2 * TIMEOUT + SLACK
        assert drv.stats.stale_reads >= 2
        with pytest.raises(DriverFault, match="stopped answering"):
            drv.move_to(0x2000)


def test_a_lost_move_is_sent_again_with_the_next_read(camera, driver):
    camera.silent = True
    driver.move_to(0x2000)  # lost, but the camera answered moments ago: kept for later
    assert driver.stats.deferred_moves == 1
    camera.silent = False
    driver.position()
    assert camera.payloads(VISCA_COMMAND)[-1] == focus_direct(0x2000)
    driver.position()  # confirmed: not sent a third time
    assert camera.payloads(VISCA_COMMAND).count(focus_direct(0x2000)) == 3  # 2 tries lost, then 1
    camera.silent = True
    driver.move_to(0x3000)
    camera.silent = False
    driver.stop()  # drops the unconfirmed move
    driver.position()
    assert camera.payloads(VISCA_COMMAND)[-1] == FOCUS_STOP
    assert camera.payloads(VISCA_COMMAND).count(focus_direct(0x3000)) == 2  # the lost tries only, never again


# -- addresses, options, closing ---------------------------------------------------------------


def test_parse_spec():
    assert parse_spec("visca://10.0.0.5") == ("10.0.0.5", 52381, (0x1000, 0xF000))
    assert parse_spec("visca://10.0.0.5:1259?range=4096-61440") == ("10.0.0.5", 1259, (4096, 61440))
    assert parse_spec(" VISCA://cam.local/?range=0x0-0xF000 ") == ("cam.local", 52381, (0, 0xF000))
    assert parse_spec("visca://[fe80::1]:52381") == ("fe80::1", 52381, (0x1000, 0xF000))


@pytest.mark.parametrize(
    "spec",
    [
        "visca://",
        "visca://:52381",
        "osc://10.0.0.5:9000",
        "10.0.0.5",
        "visca://10.0.0.5:port",
        "visca://10.0.0.5:70000",
        "visca://10.0.0.5:0",
        "visca://10.0.0.5/focus",
        "visca://10.0.0.5?range=4096",
        "visca://10.0.0.5?range=a-b",
        "visca://10.0.0.5?range=9000-3000",
        "visca://10.0.0.5?range=0-70000",
        "visca://10.0.0.5?speed=3",
    ],
)
def test_bad_specs_are_user_errors_with_an_example(spec):
    with pytest.raises(UserInputError) as caught:
        from_spec(spec)
    assert "visca://" in str(caught.value) or "range=4096-61440" in str(caught.value)


@pytest.mark.parametrize(
    "options",
    [{"timeout": 0}, {"timeout": math.nan}, {"retries": -1}, {"retries": 1.5}, {"stale_after": -1},
     {"port": 0}, {"limits": (5, 5)}, {"limits": (0, 0x10000)}, {"limits": (0.5, 10)}],
)
def test_bad_options_are_user_errors(options):
    options = {"port": 1, **options}
    port = options.pop("port")
    with pytest.raises(UserInputError):
        ViscaFocusDriver("127.0.0.1", port, **options)


def test_close_stops_releases_and_is_safe_twice(camera, driver):
    driver.move_to(0xF000)
    time.sleep(0.05)
    driver.close()
    assert camera.payloads(VISCA_COMMAND)[-1] == FOCUS_STOP and not camera.moving()
    driver.close()
    assert camera.payloads(VISCA_COMMAND).count(FOCUS_STOP) == 1
    with pytest.raises(DriverFault, match="is closed"):
        driver.position()
    assert not camera.autofocus  # the last focus holds


def test_close_on_a_silent_camera_still_releases(camera, driver):
    camera.silent = True
    start = time.monotonic()
    driver.close()
    assert time.monotonic() - start < 2 * TIMEOUT + SLACK
    assert driver._socket.fileno() == -1
