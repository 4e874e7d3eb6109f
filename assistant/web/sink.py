"""``live --serve``: the web monitor's sink, the loop's side of it.

Per frame ``consume`` does three cheap things and never waits for a browser:
it keeps the result for ``/state`` (a reference; the server builds the JSON
when asked), hands the annotated picture to the encoder when at least one
stream is open, and returns at most one command posted by an operator, which
the pipeline then carries out like a key and reports back through
:meth:`WebMonitorSink.on_command_result`.

Threads: the loop (``consume``), the encoder (JPEG once per frame, newest
picture only: while it encodes, newer pictures replace the one waiting), and
the server's event loop (``assistant.web.server``). Every hand-over is a
"latest value" slot or the small command inbox: nothing grows.
"""

from __future__ import annotations

import hmac
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from assistant.errors import ServeError
from assistant.sink import Command, FrameResult, Sink
from assistant.types import Event, NoSignal
from assistant.web.address import parse_address
from assistant.web.inbox import Inbox, PendingCommand
from assistant.web.server import BOUNDARY, MonitorServer, Snapshot, Tokens, ssl_context
from assistant.web.settings import WebConfig
from assistant.web.state import EVENTS_KEPT

MIN_TOKEN_CHARS = 8
TOKEN_PUNCTUATION = "-._~"


def _say(text: str) -> None:
    print(f"focus-assistant: {text}", file=sys.stderr, flush=True)


class WebMonitorSink(Sink):
    """Serves the live view on ``address`` (``[HOST:]PORT``) while the run lasts."""


    def __init__(self, address: str, config: WebConfig | None = None, token: str | None = None,
                 viewer_token: str | None = None, tls_cert: Path | None = None, tls_key: Path | None = None,
                 say: Callable[[str], None] = _say, clock: Callable[[], float] = time.monotonic) -> None:
        try:
            host, port = parse_address(address)
        except ValueError as exc:
            raise ServeError(f"--serve: {exc}") from None
        self.config = config or WebConfig()
        tls = ssl_context(tls_cert, tls_key)
        made = {"operator": token is None, "viewer": viewer_token is None}
        tokens = Tokens(check_token("--token", token) if token is not None else secrets.token_urlsafe(24),
                        check_token("--viewer-token", viewer_token) if viewer_token is not None
                        else secrets.token_urlsafe(24))
        if hmac.compare_digest(tokens.operator.encode(), tokens.viewer.encode()):
            raise ServeError("--viewer-token is the operator's token: viewers could command; give them another")
        self._clock = clock
        self._lock = threading.Lock()
        self._result: FrameResult | None = None
        self._no_signal: NoSignal | None = None
        self._events: deque[dict] = deque(maxlen=EVENTS_KEPT)
        self._inbox = Inbox()
        self._in_flight: PendingCommand | None = None
        self._next_picture = 0.0
        self.frames = 0
        """Frames consumed (for tests and the benchmark)."""
        self.server = MonitorServer(host, port, self.config, tokens, self._snapshot, self._inbox, tls)
        self.server.start()
        self.encoder = JpegEncoder(self.config, self.server.publish)
        self.encoder.start()
        self.tokens = tokens
        base = self.server.base_url
        say(f"web monitor on {base}")
        for role, what in (("operator", "may command"), ("viewer", "watch only")):
            if made[role]:
                say(f"  {role} ({what}): {base}?token={getattr(tokens, role)}")
            else:
                option = "--token" if role == "operator" else "--viewer-token"
                say(f"  {role} ({what}): {base}?token=... (the {option} given)")
        if self.server.exposed_in_clear:
            say(f"warning: the web monitor listens on {host} without TLS: anyone on the network can read the "
                "pictures and tokens in transit; give --tls-cert and --tls-key, or serve on 127.0.0.1")

    @property
    def url(self) -> str:
        """The server's address as a browser opens it, e.g. ``http://127.0.0.1:8080/``."""
        return self.server.base_url

    @property
    def viewers(self) -> int:
        """Picture streams open now."""
        return self.server.stream_clients

    @property
    def wants_picture(self) -> bool:  # type: ignore[override]
        """The overlay is drawn for the web only while someone watches the picture."""
        return self.server.stream_clients > 0

    # -- the loop's thread ---------------------------------------------------------------------------

    def consume(self, result: FrameResult) -> Command | None:
        left = self._clock()
        self.frames += 1
        self._settle_unreported()
        with self._lock:
            self._result = result
            self._no_signal = None
        self._offer_picture(result.annotated, result.frame.index, left)
        pending = self._inbox.take()
        if pending is None:
            return None
        self._in_flight = pending
        return pending.command

    def on_command_result(self, command: Command, refusal: str | None) -> None:
        pending = self._in_flight
        if pending is not None and pending.command == command:
            self._in_flight = None
            pending.finish(refusal)

    def on_event(self, event: Event) -> None:
        record = event.to_json()
        with self._lock:
            self._events.append(record)

    def idle(self, picture: np.ndarray, report: NoSignal) -> Command | None:
        """The feed is gone: the NO SIGNAL picture goes out, ``/state`` says so; commands wait."""
        with self._lock:
            self._no_signal = report
        self._offer_picture(picture, -1, self._clock())
        return None

    def close(self) -> None:
        self._settle_unreported()
        for pending in self._inbox.drain():
            pending.finish("the run ended before the command was carried out")
        self.encoder.close()
        self.server.close()

    # -- helpers ---------------------------------------------------------------------------------------

    def _settle_unreported(self) -> None:
        """A command whose outcome the pipeline did not report (a pipeline without the hook): carried out."""
        pending, self._in_flight = self._in_flight, None
        if pending is not None:
            pending.finish(None)

    def _offer_picture(self, picture: np.ndarray, index: int, left: float) -> None:
        if self.server.stream_clients <= 0:
            return  # nobody watching: no encoding at all
        period = 1.0 / self.config.max_fps
        if left < self._next_picture - period:  # at most max_fps (one picture's slack for jitter)
            return
        self._next_picture = max(self._next_picture, left) + period
        self.encoder.offer(picture, index, left)

    def _snapshot(self) -> Snapshot:
        """For ``/state``, on the server's thread."""
        with self._lock:
            return Snapshot(self._result, tuple(self._events), self._no_signal)


class JpegEncoder:
    """Encodes the newest offered picture on its own thread and publishes it as one multipart part.

    ``offer`` never waits: a picture not yet taken is replaced by the newer one,
    so each frame is encoded at most once and a slow encode drops frames, not time.
    """

    def __init__(self, config: WebConfig, publish: Callable[[bytes], None]) -> None:
        self.config = config
        self._publish = publish
        self._cond = threading.Condition()
        self._slot: tuple[np.ndarray, int, float] | None = None
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="web-monitor-jpeg", daemon=True)
        self.encodes = 0
        """Pictures encoded so far."""
        self.encoded: deque[int] = deque(maxlen=10000)
        """The frame index of each picture encoded (tests count them)."""
        self.encode_ms: deque[float] = deque(maxlen=1000)

    def start(self) -> None:
        self._thread.start()

    def offer(self, picture: np.ndarray, index: int, left: float) -> None:
        with self._cond:
            self._slot = (picture, index, left)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._slot is None and not self._stop:
                    self._cond.wait()
                if self._stop:
                    return
                picture, index, left = self._slot  # type: ignore[misc]
                self._slot = None
            started = time.perf_counter()
            part = self.part(picture, index, left)
            self.encode_ms.append((time.perf_counter() - started) * 1000.0)
            if part is not None:
                self.encodes += 1
                self.encoded.append(index)
                self._publish(part)

    def part(self, picture: np.ndarray, index: int, left: float) -> bytes | None:
        """One part of the multipart stream: headers and the JPEG. ``X-Frame-Index``; ``X-Frame-Time`` the
        ``time.monotonic()`` the frame left the pipeline and ``X-Encoded-Time`` when its JPEG was ready, for a
        viewer on the same machine to measure the delay (and where it went); -1: the NO SIGNAL picture."""
        height, width = picture.shape[:2]
        if width > self.config.max_width:
            size = (self.config.max_width, max(1, round(height * self.config.max_width / width)))
            picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, self.config.jpeg_quality])
        if not ok:
            return None
        data = jpeg.tobytes()
        head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
                f"X-Frame-Index: {index}\r\nX-Frame-Time: {left:.6f}\r\n"
                f"X-Encoded-Time: {time.monotonic():.6f}\r\n\r\n").encode("ascii")
        return head + data + b"\r\n"


def check_token(option: str, token: str) -> str:
    """A token given on the command line or in the environment, refused when too easy to guess or to break."""
    if len(token) < MIN_TOKEN_CHARS:
        raise ServeError(f"{option}: a token is at least {MIN_TOKEN_CHARS} characters (better 20 or more); "
                         "leave it out to have a random one made")
    if not all(c.isascii() and (c.isalnum() or c in TOKEN_PUNCTUATION) for c in token):
        raise ServeError(f"{option}: a token is made of letters, digits and {TOKEN_PUNCTUATION} only "
                         "(it rides in URLs as ?token=)")
    return token
