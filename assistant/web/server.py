"""The web monitor's HTTP side: an aiohttp app on its own thread and event loop.

Routes (README, "Web monitor"): ``GET /`` the page and ``GET /static/{name}``
its files (no token: they hold no data); ``GET /state`` JSON, ``GET
/stream.mjpg`` the annotated picture as ``multipart/x-mixed-replace`` JPEG,
``POST /command`` (token needed; commands only with the operator's).

The loop never waits for this thread. Pictures arrive already encoded through
:meth:`MonitorServer.publish`, which keeps only the newest; each stream client
is its own task that sends the newest picture whenever its last write is done,
so a slow client skips pictures, and one that takes nothing for
``stall_timeout_s`` is dropped. Commands go to the loop through an
:class:`~assistant.web.inbox.Inbox`; the request waits for their outcome.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import mimetypes
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from assistant.errors import ServeError
from assistant.sink import FrameResult
from assistant.types import NoSignal
from assistant.web.address import is_loopback, url_host
from assistant.web.inbox import Inbox, PendingCommand, web_command
from assistant.web.settings import WebConfig
from assistant.web.state import frame_state, full_state

STATIC_DIR = Path(__file__).resolve().parent / "static"
BOUNDARY = "frame"
BODY_LIMIT = web.AppKey("body_limit", int)
STARTUP_TIMEOUT_S = 15.0
OUTCOME_GRACE_S = 5.0
"""A command the loop took just as its request gave up: how long the outcome may still take."""


@dataclass(frozen=True)
class Snapshot:
    """What ``/state`` is made from, handed over by the sink (every part immutable or a copy)."""

    result: FrameResult | None
    events: Sequence[dict]
    no_signal: NoSignal | None = None


@dataclass(frozen=True)
class Tokens:
    operator: str
    viewer: str

    def role(self, supplied: Sequence[str]) -> str | None:
        """operator, viewer or None for the tokens a request carries; compared in constant time."""
        operator, viewer = self.operator.encode(), self.viewer.encode()
        role = None
        for token in supplied:
            given = token.encode("utf-8", "replace")
            is_operator = hmac.compare_digest(given, operator)
            is_viewer = hmac.compare_digest(given, viewer)
            if is_operator:
                return "operator"
            if is_viewer:
                role = "viewer"
        return role


class TokenBucket:
    """``rate`` a second with a burst of as many (at least one)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self._clock = clock
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


def ssl_context(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """TLS from ``--tls-cert`` and ``--tls-key`` (both or neither); ServeError naming the file at fault."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ServeError("--tls-cert and --tls-key go together: give both (PEM files), or neither for plain HTTP")
    for option, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            raise ServeError(f"{option} {path}: no such file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ServeError(f"--tls-cert {cert} / --tls-key {key}: cannot load them as a PEM certificate and its "
                         f"key ({getattr(exc, 'reason', None) or exc})") from exc
    return context


class MonitorServer:
    """The HTTP server: started bound (or ServeError), stopped by :meth:`close`."""

    def __init__(self, host: str, port: int, config: WebConfig, tokens: Tokens, snapshot: Callable[[], Snapshot],
                 inbox: Inbox, tls: ssl.SSLContext | None = None, static_dir: Path = STATIC_DIR) -> None:
        self.host = host
        self.requested_port = port
        self.port = port
        self.config = config
        self.tokens = tokens
        self.tls = tls
        self.static_dir = static_dir
        self._snapshot = snapshot
        self._inbox = inbox
        self.stream_clients = 0
        """Open picture streams (read by the loop's thread: encode only when some are open)."""
        self.dropped = 0
        """Stream clients dropped for taking no data within ``stall_timeout_s``."""
        self.served_parts = 0
        self._static: dict[str, Path] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._latest: tuple[int, bytes] | None = None
        self._seq = 0
        self._cached: tuple[int, int, dict[str, Any]] | None = None  # (id(result), frame, state)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._fresh: asyncio.Event | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._streams: set[asyncio.Task] = set()

    # -- the loop's and the encoder's side (any thread) -----------------------------------------

    def start(self) -> None:
        """Bind and serve on a thread of its own; ServeError when the address cannot be used."""
        self._static = {p.name: p for p in sorted(self.static_dir.iterdir()) if p.is_file()} \
            if self.static_dir.is_dir() else {}
        self._thread = threading.Thread(target=self._run, name="web-monitor", daemon=True)
        self._thread.start()
        if not self._ready.wait(STARTUP_TIMEOUT_S):
            raise ServeError(f"--serve {self.host}:{self.requested_port}: the server did not start within "
                             f"{STARTUP_TIMEOUT_S:.0f} s")
        if self._error is not None:
            self._thread.join()
            raise ServeError(self._bind_problem(self._error)) from self._error

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{url_host(self.host)}:{self.port}/"

    @property
    def exposed_in_clear(self) -> bool:
        """Reachable from other machines without TLS: tokens and pictures travel readable."""
        return self.tls is None and not is_loopback(self.host)

    def publish(self, part: bytes) -> None:
        """A new picture, already one multipart part; replaces any not yet sent. Thread-safe, never waits."""
        loop = self._loop
        if loop is None or self._closing:
            return
        try:
            loop.call_soon_threadsafe(self._set_latest, part)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def close(self) -> None:
        """Stop serving: streams end, connections close, the thread is joined."""
        loop, thread = self._loop, self._thread
        if thread is None or loop is None or not thread.is_alive():
            return
        try:
            done = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            done.result(timeout=10.0)
        except Exception:  # the loop died or shutdown hung: stop it anyway
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10.0)

    # -- the server's thread ---------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:  # bind failed: reported by start()
            self._error = exc
            loop.run_until_complete(self._cleanup())
            loop.close()
            self._ready.set()
            return
        self._loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start(self) -> None:
        self._fresh = asyncio.Event()
        app = web.Application(client_max_size=self.config.body_limit_bytes, middlewares=[_json_errors])
        app[BODY_LIMIT] = self.config.body_limit_bytes
        app.on_response_prepare.append(_common_headers)
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static_file)
        app.router.add_get("/state", self._state)
        app.router.add_get("/stream.mjpg", self._stream)
        app.router.add_post("/command", self._command)
        # handler_cancellation: a viewer that hangs up ends its stream task at once, even between pictures
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0, handle_signals=False,
                                     handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.requested_port, ssl_context=self.tls,
                           reuse_address=True, backlog=128)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _shutdown(self) -> None:
        self._closing = True
        if self._fresh is not None:
            self._fresh.set()  # streams waiting for a picture wake up and end
        for task in list(self._streams):
            task.cancel()
        await self._cleanup()
        asyncio.get_running_loop().stop()

    def _set_latest(self, part: bytes) -> None:
        self._seq += 1
        self._latest = (self._seq, part)
        assert self._fresh is not None
        fresh, self._fresh = self._fresh, asyncio.Event()
        fresh.set()

    def _bind_problem(self, exc: BaseException) -> str:
        where = f"--serve {self.host}:{self.requested_port}"
        errno = getattr(exc, "errno", None)
        text = str(exc).lower()
        if errno == 98 or "address already in use" in text or "in use" in text:
            return f"{where}: the port is in use (another program, or another focus-assistant); pick another port"
        if errno == 99 or "assign requested address" in text:
            return f"{where}: {self.host} is not an address of this machine; give one of its own, or 0.0.0.0"
        if errno == 13 or "permission denied" in text:
            return f"{where}: not allowed to listen on port {self.requested_port} (ports below 1024 need root); " \
                   "pick one above 1024"
        if "name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text \
                or errno in (-2, -3, -5, 8):
            return f"{where}: no such host {self.host!r}; give an address of this machine, or 0.0.0.0 for all"
        return f"{where}: cannot listen there ({exc})"

    # -- requests ----------------------------------------------------------------------------------

    def _role(self, request: web.Request) -> str | None:
        supplied = []
        auth = request.headers.get("Authorization", "")
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            supplied.append(value.strip())
        supplied.extend(request.query.getall("token", []))
        return self.tokens.role(supplied)

    def _authorised(self, request: web.Request) -> str:
        role = self._role(request)
        if role is None:
            raise _error(401, "a valid token is needed: open the URL printed at start (?token=...) or send "
                              "Authorization: Bearer TOKEN", headers={"WWW-Authenticate": 'Bearer realm="focus-assistant"'})
        return role

    async def _page(self, request: web.Request) -> web.StreamResponse:
        return self._file_response("index.html")

    async def _static_file(self, request: web.Request) -> web.StreamResponse:
        return self._file_response(request.match_info["name"])

    def _file_response(self, name: str) -> web.Response:
        path = self._static.get(name)  # only files that were in static/ at start; nothing else is reachable
        if path is None:
            raise _error(404, "not found")
        try:
            body = path.read_bytes()
        except OSError:
            raise _error(404, "not found") from None
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/json", "image/svg+xml"):
            kind += "; charset=utf-8"
        if name.endswith((".js", ".mjs")):
            kind = "text/javascript; charset=utf-8"
        return web.Response(body=body, headers={"Content-Type": kind, "Cache-Control": "no-cache"})

    async def _state(self, request: web.Request) -> web.Response:
        role = self._authorised(request)
        snap = self._snapshot()
        result = snap.result
        key = (id(result), -1 if result is None else result.frame.index)
        if self._cached is None or self._cached[:2] != key:
            self._cached = (*key, frame_state(result))
        state = full_state(self._cached[2], snap.events, self.stream_clients, role, snap.no_signal)
        return web.json_response(state, headers={"Cache-Control": "no-store"}, dumps=_dumps)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        self._authorised(request)
        if self.stream_clients >= self.config.max_viewers:
            raise _error(503, f"{self.config.max_viewers} viewers are watching already (web.max_viewers)")
        headers = {"Content-Type": f"multipart/x-mixed-replace; boundary={BOUNDARY}", "Cache-Control": "no-store",
                   "Pragma": "no-cache", "Connection": "close"}
        if request.method == "HEAD":
            return web.Response(headers=headers)
        response = web.StreamResponse(headers=headers)
        task = asyncio.current_task()
        assert task is not None
        self._streams.add(task)
        self.stream_clients += 1
        try:
            await response.prepare(request)
            await self._send_pictures(request, response)
        except ConnectionError:
            pass  # the viewer left
        finally:
            self._streams.discard(task)
            self.stream_clients -= 1
            if self.stream_clients == 0:
                self._latest = None  # no encoding while nobody watches: the next viewer must not get an old picture
        return response

    async def _send_pictures(self, request: web.Request, response: web.StreamResponse) -> None:
        seen = 0
        timeout = self.config.stall_timeout_s
        while not self._closing:
            latest = self._latest
            if latest is None or latest[0] <= seen:
                assert self._fresh is not None
                await self._fresh.wait()
                continue
            seen, part = latest
            try:
                await asyncio.wait_for(response.write(part), timeout)
            except asyncio.TimeoutError:  # takes nothing: drop it, never let it hold a picture back
                self.dropped += 1
                if request.transport is not None:
                    request.transport.abort()
                return
            self.served_parts += 1

    async def _command(self, request: web.Request) -> web.Response:
        role = self._authorised(request)
        if role != "operator":
            raise _error(403, "this token may watch, not command (a viewer token); use the operator's")
        client = request.remote or "?"
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) > 1000:
                self._buckets.clear()
            bucket = self._buckets[client] = TokenBucket(self.config.command_rate_per_s)
        if not bucket.take():
            raise _error(429, f"too many commands: at most {self.config.command_rate_per_s:g} a second",
                         headers={"Retry-After": "1"})
        body = await request.read()  # over client_max_size: 413, by the middleware
        try:
            command = web_command(_command_text(body))
        except ValueError as exc:  # malformed, unknown, or not for the web
            raise _error(400, str(exc)) from None
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[str | None] = loop.create_future()

        def answer(refusal: str | None) -> None:  # on the loop's thread
            try:
                loop.call_soon_threadsafe(_settle, outcome, refusal)
            except RuntimeError:  # this server's loop closed
                pass

        pending = PendingCommand(command, answer)
        if not self._inbox.post(pending):
            raise _error(429, "too many commands waiting for the run", headers={"Retry-After": "1"})
        try:
            refusal = await asyncio.wait_for(asyncio.shield(outcome), self.config.command_timeout_s)
        except asyncio.CancelledError:  # the client hung up: not carried out unless already taken
            pending.expire()
            raise
        except asyncio.TimeoutError:
            if pending.expire():
                raise _error(503, f"the run took no command within {self.config.command_timeout_s:g} s "
                                  "(no frames: no signal, or the run is ending); not carried out") from None
            refusal = await asyncio.wait_for(outcome, OUTCOME_GRACE_S)
        if refusal is not None:
            raise _error(400, refusal)
        return web.json_response({"ok": True}, headers={"Cache-Control": "no-store"})


def _command_text(body: bytes) -> str:
    """The command word of a ``{"command": "rack:B"}`` body; ValueError with what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f'the body is not JSON ({exc}); send {{"command": "rack:B"}}') from None
    if not isinstance(data, dict):
        raise ValueError('expected a JSON object like {"command": "rack:B"}')
    if set(data) != {"command"}:
        extra = sorted(set(data) - {"command"})
        raise ValueError(f'unexpected keys {extra}; send only "command"' if extra else 'missing key "command"')
    text = data["command"]
    if not isinstance(text, str):
        raise ValueError(f'"command" must be a string like "rack:B", got {type(text).__name__}')
    return text


def _settle(future: asyncio.Future, refusal: str | None) -> None:
    if not future.done():
        future.set_result(refusal)


class _Answer(web.HTTPException):
    """An error answered as JSON ``{"ok": false, "error": ...}``."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        super().__init__(headers=headers, text=_dumps({"ok": False, "error": reason}),
                         content_type="application/json")


def _error(status: int, reason: str, headers: dict[str, str] | None = None) -> web.HTTPException:
    return _Answer(status, reason, headers)


@web.middleware
async def _json_errors(request: web.Request, handler: Callable) -> web.StreamResponse:
    """Every error as ``{"ok": false, "error": reason}``: ours, and aiohttp's own (404, 405, 413)."""
    try:
        return await handler(request)
    except _Answer:
        raise
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[BODY_LIMIT]
        return web.json_response({"ok": False, "error": f"the body is too large: at most {limit} bytes"},
                                 status=413, dumps=_dumps)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response({"ok": False, "error": exc.reason.lower()}, status=exc.status,
                                 headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
                                 dumps=_dumps)


async def _common_headers(request: web.Request, response: web.StreamResponse) -> None:
    # The token rides in page URLs: never hand it on as a Referer; nothing sniffed, nothing framed elsewhere.
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)
