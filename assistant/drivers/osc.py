"""A focus motor on the network, driven with Open Sound Control over UDP.

The driver takes focus in **dioptres** (``capabilities.units == "dioptres"``,
the engine's own unit, so the lens map in front of it is the identity) and
puts one float on the wire in the unit the receiver wants, chosen with
``units``:

- ``"metres"``: the focus distance, ``1 / dioptres``. Metres cannot say
  infinity, so the far limit must be above 0 dioptres (default 0.01 = 100 m);
- ``"dioptres"``: the value as given (0 = infinity);
- ``"normalized"``: 0..1 linearly over ``limits``: 0 at the far limit
  (``limits[0]``), 1 at the near limit (``limits[1]``).

``limits`` are (far, near) in dioptres, the range the receiver accepts;
commands outside it are clamped.

OSC over UDP is fire-and-forget: the driver cannot read the device, so
``position()`` echoes the last value it sent (``reports_position`` is False).
To spare the network it sends only when the wire value moves by more than
``epsilon``, but it repeats the value at least every ``keepalive_s`` whenever
it is called (``move_to``, ``stop`` or ``keepalive``), so a receiver that
drops a silent sender keeps hearing it. ``position()`` (read every frame by
the assistant) sends the keepalive, so a held focus is repeated too.

``from_spec("osc://host:port/address")`` builds a driver from one string.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any

from pythonosc.udp_client import SimpleUDPClient

from assistant.drivers.address import host_port, parse_address
from assistant.drivers.base import Capabilities
from assistant.errors import ConfigError, DriverFault

DEFAULT_ADDRESS = "/focus/distance"
WIRE_UNITS = ("metres", "dioptres", "normalized")
SPEC_EXAMPLE = "osc://127.0.0.1:9000/focus/distance"

# (far, near) in dioptres when none are given. Metres need a far limit above 0.
DEFAULT_LIMITS = {
    "metres": (0.01, 10.0),
    "dioptres": (0.0, 10.0),
    "normalized": (0.0, 10.0),
}


class OscFocusDriver:
    """Sends focus as one OSC float to ``host:port`` at ``address``.

    ``clock`` (seconds, monotonic) is injectable for tests; ``epsilon`` is in
    wire units.
    """

    def __init__(self, host: str, port: int, address: str = DEFAULT_ADDRESS, *,
                 units: str = "metres", limits: tuple[float, float] | None = None,
                 keepalive_s: float = 0.5, epsilon: float = 1e-4,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if units not in WIRE_UNITS:
            raise ConfigError(f"OSC units {units!r} is not known; use one of {', '.join(WIRE_UNITS)}")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"OSC port {port!r} is out of range; give a UDP port between 1 and 65535")
        if not address.startswith("/") or any(c in address for c in " #*?,[]{}"):
            raise ConfigError(f"OSC address {address!r} is not valid; give a path like {DEFAULT_ADDRESS}")
        if not (keepalive_s > 0 and math.isfinite(keepalive_s)):
            raise ConfigError(f"OSC keepalive_s must be a positive number of seconds, got {keepalive_s!r}")
        if not epsilon >= 0:
            raise ConfigError(f"OSC epsilon must be >= 0, got {epsilon!r}")
        far, near = limits if limits is not None else DEFAULT_LIMITS[units]
        try:
            self.capabilities = Capabilities(units="dioptres", limits=(float(far), float(near)))
        except ValueError as exc:
            raise ConfigError(f"OSC limits {limits!r} are not valid; give (far, near) in dioptres with far < near, e.g. (0.1, 5.0)") from exc
        if units == "metres" and far <= 0:
            raise ConfigError(f"OSC limits {limits!r}: metres cannot express infinity; set the far limit above 0 dioptres, e.g. 0.01 (100 m)")
        if far < 0:
            raise ConfigError(f"OSC limits {limits!r}: dioptres cannot be negative; set the far limit to 0 (infinity) or more")

        self.host = host
        self.port = port
        self.address = address
        self.units = units
        self.keepalive_s = float(keepalive_s)
        self.epsilon = float(epsilon)
        self.sent_count = 0
        self._clock = clock
        self._lock = threading.Lock()
        self._last_wire: float | None = None
        self._last_native: float | None = None
        self._last_sent_at = -math.inf
        self._closed = False
        try:
            self._client: Any = SimpleUDPClient(host, port)
        except OSError as exc:
            raise DriverFault(f"OSC {self.target}: cannot reach the receiver ({exc}); check the host name and network") from exc

    @property
    def target(self) -> str:
        return host_port(self.host, self.port)

    @property
    def description(self) -> str:
        return f"osc://{self.target}{self.address}"

    def wire_value(self, dioptres: float) -> float:
        """What goes on the wire for a focus of ``dioptres`` (clamped to the limits)."""
        value = self.capabilities.clamp(dioptres)
        if self.units == "metres":
            return 1.0 / value
        if self.units == "normalized":
            far, near = self.capabilities.limits
            return (value - far) / (near - far)
        return value

    def move_to(self, native: float) -> None:
        """Send focus ``native`` dioptres if it changed or the keepalive is due."""
        if not math.isfinite(native):
            raise ValueError(f"focus command must be a finite number of dioptres, got {native}")
        with self._lock:
            wire = self.wire_value(native)
            changed = self._last_wire is None or abs(wire - self._last_wire) > self.epsilon
            if changed or self._keepalive_due():
                self._send(wire)
                self._last_native = self.capabilities.clamp(native)

    def keepalive(self) -> None:
        """Resend the last value if ``keepalive_s`` has passed since anything was sent."""
        with self._lock:
            if self._last_wire is not None and self._keepalive_due():
                self._send(self._last_wire)

    def position(self) -> float | None:
        """The last value sent, in dioptres (None before the first send): an echo, not a reading.

        The frame loop reads the position every frame, so this is also where
        the keepalive goes out when a held value is due to be repeated.
        """
        self.keepalive()
        return self._last_native

    def stop(self) -> None:
        """Hold: resend the current value so the receiver stays where it is."""
        with self._lock:
            if self._last_wire is not None and not self._closed:
                self._send(self._last_wire)

    def close(self) -> None:
        """Hold and release the socket; later calls do nothing."""
        if self._closed:
            return
        try:
            self.stop()
        finally:
            self._closed = True
            self._client.close()

    def _keepalive_due(self) -> bool:
        return self._clock() - self._last_sent_at >= self.keepalive_s

    def _send(self, wire: float) -> None:
        if self._closed:
            raise DriverFault(f"OSC {self.target}: the driver is closed; open a new one to send focus")
        try:
            self._client.send_message(self.address, float(wire))
        except OSError as exc:
            raise DriverFault(f"OSC {self.target}: cannot send ({exc}); check the host, port and network route to the receiver") from exc
        self._last_wire = wire
        self._last_sent_at = self._clock()
        self.sent_count += 1


def from_spec(text: str, **options: Any) -> OscFocusDriver:
    """A driver from ``osc://host:port/address`` (address optional, default ``/focus/distance``).

    ``?units=dioptres`` and ``?keepalive_s=1.0`` may follow; keyword
    ``options`` are passed to :class:`OscFocusDriver` and win over the query.
    """
    hint = f"write it like {SPEC_EXAMPLE}"
    parts = parse_address(text, "osc", "OSC spec", hint, path_allowed=True)
    if parts.port is None:
        raise ConfigError(f"OSC spec {text!r} has no port; {hint}")
    address = parts.path if parts.path not in ("", "/") else DEFAULT_ADDRESS
    query: dict[str, Any] = {}
    for key, value in parts.options:
        if key == "units":
            query["units"] = value
        elif key == "keepalive_s":
            try:
                query["keepalive_s"] = float(value)
            except ValueError as exc:
                raise ConfigError(f"OSC spec {text!r}: keepalive_s={value!r} is not a number; write e.g. ?keepalive_s=0.5") from exc
        else:
            raise ConfigError(f"OSC spec {text!r}: unknown option {key!r}; only units= and keepalive_s= may follow '?'")
    return OscFocusDriver(parts.host, parts.port, address, **{**query, **options})
