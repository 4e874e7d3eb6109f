"""The reference firmware (examples/firmware/focus_motor) running in simavr, for tests.

``make firmware`` builds the sketch with avr-gcc for an Arduino Uno and builds
``avr_harness`` (examples/firmware/sim/), which runs it in simavr at real-time
speed, exposes the AVR's UART as a pseudo-terminal and counts the pulses on
the STEP pin. :class:`AvrSim` starts one harness process: open a serial
driver on :attr:`AvrSim.port`, read the motor's step count with
:meth:`AvrSim.steps` and close the limit switch with :meth:`AvrSim.set_limit`.
The firmware itself is the same binary that would be flashed to a board.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build" / "firmware"
FIRMWARE = BUILD / "focus_motor.elf"
HARNESS = BUILD / "avr_harness"
SIMAVR_HEADER = Path("/usr/include/simavr/sim_avr.h")


def missing_toolchain() -> str | None:
    """Why the firmware test cannot run here (no avr-gcc or no simavr headers), or ``None``.

    Anything else missing (the Arduino core, avr-libc, a C compiler) fails ``make firmware``
    with its own message instead: only the two big optional pieces are a reason to skip.
    """
    missing = [
        what
        for what, present in (
            ("avr-gcc", shutil.which("avr-gcc") is not None),
            (f"simavr headers ({SIMAVR_HEADER})", SIMAVR_HEADER.is_file()),
        )
        if not present
    ]
    if not missing:
        return None
    return f"install gcc-avr, avr-libc, arduino-core-avr and libsimavr-dev (make setup does); no {' or '.join(missing)}"


def build_firmware() -> None:
    """Run ``make firmware``, which rebuilds only what changed; raises with make's output on failure."""
    done = subprocess.run(["make", "-C", str(REPO), "firmware"], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"make firmware failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


@dataclass(frozen=True)
class Steps:
    """What the harness saw on the motor pins."""

    net: int  # STEP pulses signed by DIR: where the motor really is
    pulses: int  # all STEP pulses, either way
    energised: bool  # EN low: the driver holds the motor
    sim_time: float  # the AVR's clock, seconds since it started
    # The AVR's clock at the first and the last STEP edge since the previous steps() (None: no
    # steps): the firmware's own timing, unaffected by how busy the test machine is.
    first_step_time: float | None
    last_step_time: float | None
    shortest_pulse_us: float | None  # the shortest STEP high time so far
    shortest_dir_setup_us: float | None  # the shortest time from a DIR change to the next STEP edge


class AvrSim:
    """One harness process running the firmware; its UART is the pty at :attr:`port`.

    ``boot_delay`` holds the AVR in reset for that many seconds after the pty
    appears, as an Uno's bootloader does after the port opens.
    """

    def __init__(self, *, boot_delay: float = 0.0, start_timeout: float = 5.0) -> None:
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            [str(HARNESS), "--boot-delay", str(boot_delay), str(FIRMWARE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._buffer = bytearray()
        try:
            self.port = self._expect("pty ", start_timeout).removeprefix("pty ")
        except BaseException:
            self.close()
            raise

    def steps(self) -> Steps:
        """The step counters and the EN pin, now."""
        fields = dict(field.split("=", 1) for field in self._ask("steps?", "steps ").split()[1:])

        def seen(name: str) -> float | None:  # the harness says -1 for "not yet"
            value = float(fields[name])
            return value if value >= 0 else None

        return Steps(
            net=int(fields["net"]),
            pulses=int(fields["pulses"]),
            energised=fields["en"] == "0",
            sim_time=float(fields["t"]),
            first_step_time=seen("first_t"),
            last_step_time=seen("last_t"),
            shortest_pulse_us=seen("high_us"),
            shortest_dir_setup_us=seen("setup_us"),
        )

    def set_limit(self, closed: bool) -> None:
        """Close (pull D5 to ground) or open the limit switch."""
        level = 0 if closed else 1
        self._ask(f"limit {level}", f"limit {level}")

    def close(self) -> None:
        """Stop the harness: ``quit``, and a kill when it does not exit at once; safe to call twice."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.write(b"quit\n")
                self._proc.stdin.flush()
                self._proc.wait(1.0)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(5.0)
        for stream in (self._proc.stdin, self._proc.stdout, self._stderr):
            stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the harness's control lines -------------------------------------------

    def _ask(self, command: str, reply_prefix: str, timeout: float = 2.0) -> str:
        self._proc.stdin.write(f"{command}\n".encode("ascii"))
        self._proc.stdin.flush()
        return self._expect(reply_prefix, timeout)

    def _expect(self, prefix: str, timeout: float) -> str:
        """The next stdout line starting with ``prefix``; other lines are skipped."""
        deadline = time.monotonic() + timeout
        fd = self._proc.stdout.fileno()
        while True:
            while (end := self._buffer.find(b"\n")) >= 0:
                line = self._buffer[:end].decode("ascii", "replace")
                del self._buffer[: end + 1]
                if line.startswith(prefix):
                    return line
                if line.startswith("error"):
                    raise RuntimeError(f"avr_harness: {line}")
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                self._stderr.seek(0)
                why = "exited" if ready else f"sent no {prefix.strip()!r} line within {timeout} s"
                raise RuntimeError(f"avr_harness {why}; its stderr:\n{self._stderr.read().decode(errors='replace')}")
            self._buffer += chunk
