"""A Blackmagic camera's lens focus over the camera's REST API (``bmd://HOST``).

Native units are the camera's normalised focus (``capabilities.units ==
"bmd"``): 0.0 near .. 1.0 far, resolution 1/2048 (the camera keeps lens
values as 5.11 fixed point, see :mod:`assistant.drivers.bmd_protocol`); a
lens file maps dioptres to it.

One HTTP/1.1 connection is kept open and reused, so a move costs one request
on an open socket (the assistant sends one per frame); a connection the
camera dropped while idle is reopened once, which is safe because every
request here is an idempotent GET or PUT. A request that times out is not
repeated: at 30 frames a second the next frame's command supersedes it.

Confirmed in Blackmagic's published REST documentation:

- "REST API for Blackmagic Cameras" (August 2025), Lens Control API:
  ``GET /control/api/v1/lens/focus`` answers ``{"normalised": number}``;
  ``PUT`` takes ``{"normalised": number}`` (or ``focusDistance``) and answers
  204, or 400 for an out-of-range value; ``PUT /lens/focus/doAutoFocus``
  triggers autofocus (403 when the lens focus is not controllable).
- "Blackmagic Camera Control" (December 2023), the earlier edition, names the
  same field ``focus`` (``{"focus": number}``, "Normalised value") and
  answers PUT with 200. Cameras on that firmware may still use it, so the
  driver writes whichever field the camera's own GET returns, ``normalised``
  when it returns neither (``field=`` overrides).
- Both: the API is at ``/control/api/v1/`` under the camera's web media
  manager address and works only when the web media manager is enabled in
  Blackmagic Camera Setup ("network access"); the cameras listed are Cinema
  Camera 6K, URSA Broadcast G2, Micro Studio Camera 4K G2, Studio Camera 4K
  Plus/Pro (and G2), Studio Camera 6K Pro, and in 2025 also the URSA Cine
  models and PYXIS 6K. The Pocket Cinema Cameras are not on either list.
- HTTPS and login: the camera manuals (e.g. Micro Studio Camera 4K G2, "Secure
  Login Settings", "Secure Certificate") say the REST API shares the web media
  manager's HTTP; with "enabled with security" it asks for a username and
  password, and HTTPS needs a certificate (often self-signed). The REST
  document's example URLs use ``https://``. Plain HTTP is the default here;
  ``https=True`` (spec ``?https=1``, and ``verify=0`` for a self-signed
  certificate) uses TLS. This driver does not log in (the documents found do
  not say which HTTP authentication scheme the camera uses); a 401 says to
  turn off "enabled with security".
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, Protocol, Self

from assistant.drivers.address import bracketed, parse_address
from assistant.drivers.base import Capabilities
from assistant.errors import ConfigError, DriverFault

FOCUS_PATH = "/control/api/v1/lens/focus"
AUTOFOCUS_PATH = "/control/api/v1/lens/focus/doAutoFocus"
FIELDS = ("normalised", "focus")  # newest documented name first
DEFAULT_TIMEOUT = 0.5
RESOLUTION = 1 / 2048
SPEC_EXAMPLE = "bmd://studio-camera-6k-pro.local"
SETUP_HINT = "enable the web media manager under 'network access' in Blackmagic Camera Setup"


class Connection(Protocol):
    """The part of :class:`http.client.HTTPConnection` the driver uses (injectable for tests)."""

    def request(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] = ...) -> None: ...

    def getresponse(self) -> http.client.HTTPResponse: ...

    def close(self) -> None: ...


# Failures of a connection that sat idle: the camera closed it, open a new one and send again.
_STALE = (http.client.RemoteDisconnected, http.client.CannotSendRequest, http.client.ResponseNotReady,
          http.client.BadStatusLine, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)


class BmdRestFocusDriver:
    """Lens focus on a Blackmagic camera at ``host`` over its REST API.

    The constructor reads the focus once: that proves the camera answers,
    picks the JSON field it speaks and decides ``reports_position`` (True when
    the read returned a number). ``connection_factory`` (no arguments, returns
    an unopened ``HTTPConnection``-like object) replaces the built-in one.
    """

    capabilities: Capabilities

    def __init__(self, host: str, *, port: int | None = None, https: bool = False, verify_tls: bool = True,
                 timeout: float = DEFAULT_TIMEOUT, field: str | None = None,
                 connection_factory: Callable[[], Connection] | None = None) -> None:
        if not host or any(c in host for c in "/?#@ "):
            raise ConfigError(f"Blackmagic camera host {host!r} is not a host name or IP address; "
                              f"write it like {SPEC_EXAMPLE}")
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise ConfigError(f"Blackmagic camera port {port!r} is out of range; give a TCP port between 1 and 65535")
        if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
            raise ConfigError(f"Blackmagic REST timeout must be a positive number of seconds, got {timeout!r}")
        if field is not None and field not in FIELDS:
            raise ConfigError(f"Blackmagic REST focus field {field!r} is not known; use one of {', '.join(FIELDS)}")
        self.host = host
        self.port = port or (443 if https else 80)
        self.https = https
        self.timeout = float(timeout)
        self.request_count = 0
        self.connection_count = 0
        self._factory = connection_factory or self._default_factory(verify_tls)
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._last: float | None = None
        self._last_sent: float | None = None

        reading, found_field = self._probe()
        self.field = field or found_field or FIELDS[0]
        self._last = reading
        self.capabilities = Capabilities(units="bmd", limits=(0.0, 1.0), resolution=RESOLUTION,
                                         reports_position=reading is not None)

    @property
    def target(self) -> str:
        host = bracketed(self.host)
        default = 443 if self.https else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def description(self) -> str:
        return f"bmd://{self.target}" + ("?https=1" if self.https else "")

    # -- FocusDriver ---------------------------------------------------------

    def move_to(self, native: float) -> None:
        """PUT focus ``native`` (clamped to 0..1); a value equal to the last one sent is not sent again."""
        if not math.isfinite(native):
            raise ValueError(f"focus command must be a finite number (0 near .. 1 far), got {native}")
        value = self.capabilities.clamp(native)
        with self._lock:
            if value == self._last_sent:
                return
            self._put(value)

    def position(self) -> float | None:
        """The camera's focus (a GET) when it reports one, else the last value sent."""
        if not self.capabilities.reports_position:
            return self._last
        with self._lock:
            status, body = self._request("GET", FOCUS_PATH)
            self._check(status, body, "GET")
            reading, _ = self._parse_focus(body)
            if reading is not None:
                if self._last_sent is not None and abs(reading - self._last_sent) > RESOLUTION:
                    self._last_sent = None  # moved by someone else (or still travelling): send the next command
                self._last = reading
            return self._last

    def stop(self) -> None:
        """Hold: put back the focus the camera reads now (a lens the camera drives has no other stop)."""
        if not self.capabilities.reports_position:
            return  # the lens settles on the last value sent; there is nothing to read back and hold
        here = self.position()
        if here is not None:
            with self._lock:
                self._put(here)

    def close(self) -> None:
        """Release the connection; later calls raise DriverFault. Safe to call twice."""
        with self._lock:
            self._closed = True
            self._drop()

    # -- extras --------------------------------------------------------------

    def autofocus(self) -> None:
        """Ask the camera for one instantaneous autofocus."""
        with self._lock:
            status, body = self._request("PUT", AUTOFOCUS_PATH, b"{}")
            self._check(status, body, "PUT autofocus")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- HTTP ----------------------------------------------------------------

    def _default_factory(self, verify_tls: bool) -> Callable[[], Connection]:
        if not self.https:
            return lambda: http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        context = ssl.create_default_context()
        if not verify_tls:  # the camera's own "create certificate" makes a self-signed one
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return lambda: http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=context)

    def _probe(self) -> tuple[float | None, str | None]:
        with self._lock:
            try:
                status, body = self._request("GET", FOCUS_PATH)
                self._check(status, body, "GET")
                return self._parse_focus(body)
            except BaseException:
                self._drop()  # a driver that is never made keeps no socket open
                raise

    def _put(self, value: float) -> None:
        body = json.dumps({self.field: value}).encode()
        status, reply = self._request("PUT", FOCUS_PATH, body)
        self._check(status, reply, "PUT", value)
        self._last = self._last_sent = value

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """``(status, body)`` of one request on the kept connection; reopens it once if it went stale."""
        if self._closed:
            raise DriverFault(f"Blackmagic camera {self.target}: the driver is closed; open a new one to drive focus")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            fresh = self._conn is None
            if fresh:
                self._conn = self._factory()
                self.connection_count += 1
            try:
                self._conn.request(method, path, body=body, headers=headers)
                response = self._conn.getresponse()
                data = response.read()
                if response.will_close:
                    self._drop()
                self.request_count += 1
                return response.status, data
            except _STALE as exc:
                self._drop()
                if fresh or attempt == 2:
                    raise self._unreachable(exc) from exc
            except (OSError, http.client.HTTPException) as exc:  # timeouts, refusals, DNS, TLS
                self._drop()
                raise self._unreachable(exc) from exc
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    # -- answers ---------------------------------------------------------------

    def _unreachable(self, exc: BaseException) -> DriverFault:
        where = f"Blackmagic camera {self.target}"
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return DriverFault(f"{where} did not answer within {self.timeout:g} s; check the network "
                               f"(a wired link is best) or raise the timeout (?timeout=1.0)")
        if isinstance(exc, socket.gaierror):
            return DriverFault(f"{where}: cannot find that host name ({exc.strerror or exc}); check the name "
                               f"(Blackmagic Camera Setup shows the camera's web media manager address) "
                               f"or give its IP address")
        if isinstance(exc, ssl.SSLError):
            return DriverFault(f"{where}: HTTPS failed ({exc}); for the camera's self-signed certificate add "
                               f"?verify=0, or drop ?https=1")
        if isinstance(exc, ConnectionRefusedError):
            return DriverFault(f"{where} refused the connection on port {self.port}; {SETUP_HINT} "
                               f"and check the port")
        return DriverFault(f"{where} is unreachable ({exc}); check that it is on and on this network, "
                           f"and {SETUP_HINT}")

    def _check(self, status: int, body: bytes, what: str, value: float | None = None) -> None:
        if 200 <= status < 300:
            return
        where = f"Blackmagic camera {self.target}"
        if status == 404:
            raise DriverFault(f"{where} has no REST lens focus ({what} {FOCUS_PATH} answered 404); the camera "
                              f"firmware is too old or the model has no REST API: update it with Blackmagic "
                              f"Camera Setup and {SETUP_HINT}")
        if status == 401:
            raise DriverFault(f"{where} asks for a login (401): its web media manager is 'enabled with "
                              f"security'; this driver does not log in, so set it to 'enabled' in Blackmagic "
                              f"Camera Setup")
        if status == 403:
            raise DriverFault(f"{where} says its lens focus is not controllable (403); fit an electronic lens "
                              f"the camera can focus and set the lens's AF/MF switch to AF")
        if status == 400 and value is not None:
            raise DriverFault(f"{where} refused focus {value:g} (400 {_snippet(body)}); check the lens is "
                              f"electronic and the camera firmware is current")
        raise DriverFault(f"{where} answered {what} {FOCUS_PATH} with HTTP {status} {_snippet(body)}; "
                          f"check the camera's network settings and firmware")

    def _parse_focus(self, body: bytes) -> tuple[float | None, str | None]:
        """``(focus, field)`` from a GET body; ``(None, None)`` when the JSON has no focus number."""
        try:
            doc: Any = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise DriverFault(f"Blackmagic camera {self.target} answered GET {FOCUS_PATH} with something that "
                              f"is not JSON ({_snippet(body)}); check that {self.target} is a Blackmagic "
                              f"camera and not another web server") from exc
        if not isinstance(doc, dict):
            return None, None
        for name in FIELDS:
            value = doc.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return float(value), name
        return None, None


def _snippet(body: bytes, limit: int = 60) -> str:
    text = body[:limit].decode("utf-8", "replace")
    return repr(text + ("..." if len(body) > limit else ""))


def from_spec(text: str, **options: Any) -> BmdRestFocusDriver:
    """A driver from ``bmd://HOST[:PORT]``, e.g. ``bmd://192.168.1.50`` or ``bmd://studio-camera.local:8080``.

    ``?timeout=0.5``, ``?https=1`` and ``?verify=0`` may follow; keyword
    ``options`` go to :class:`BmdRestFocusDriver` and win over the query.
    """
    hint = (f"write it like {SPEC_EXAMPLE}; a camera asking for a login needs its web media manager set to "
            f"'enabled' (without security) in Blackmagic Camera Setup")
    parts = parse_address(text, "bmd", "Blackmagic address", hint)
    query: dict[str, Any] = {}
    for key, value in parts.options:
        if key == "timeout":
            try:
                query["timeout"] = float(value)
            except ValueError as exc:
                raise ConfigError(f"Blackmagic spec {text!r}: timeout={value!r} is not a number; "
                                  f"write e.g. ?timeout=0.5") from exc
        elif key in ("https", "verify"):
            if value not in ("0", "1"):
                raise ConfigError(f"Blackmagic spec {text!r}: {key}={value!r} must be 0 or 1")
            query["https" if key == "https" else "verify_tls"] = value == "1"
        else:
            raise ConfigError(f"Blackmagic spec {text!r}: unknown option {key!r}; only timeout=, https= and "
                              f"verify= may follow '?'")
    return BmdRestFocusDriver(parts.host, port=parts.port, **{**query, **options})
