"""The web monitor's server (``live --serve``): access, bad requests, commands, and many or slow viewers.

Real sockets on 127.0.0.1 with ephemeral ports. Most tests drive the sink
directly with synthetic frame results from a feeder thread (the loop); the
refusal test runs a small real :class:`~assistant.pipeline.Pipeline`, and one
test the full pipeline on the virtual rig.
"""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
import pytest

from assistant.commands import Command
from assistant.errors import ServeError
from assistant.sink import FrameResult, Status
from assistant.types import Event, Frame, SharpnessMap, Subject
from assistant.web.settings import WebConfig
from assistant.web.sink import WebMonitorSink

OPERATOR = "operator-token-1234"
VIEWER = "viewer-token-5678"


def synthetic_result(index: int, image: np.ndarray, fps: float = 30.0) -> FrameResult:
    frame = Frame(image, index / fps, index)
    sharpness = SharpnessMap(np.ones((9, 16)), (), (image.shape[1] / 16, image.shape[0] / 9),
                             np.zeros((4, 4), np.int16))
    subjects = (Subject(1, (100, 80, 60, 60), "A", 2.5, in_focus=True, focus_score=0.9),)
    status = Status("synthetic", frame.t, index, fps=fps, focus_m=2.5, mode="suggest", ticker=("0.00s  hello",))
    return FrameResult(frame=frame, sharpness=sharpness, focus_m=2.5, subjects=subjects, events=(), mode="suggest",
                       fps=fps, annotated=image, status=status)


@dataclass
class Feeder:
    """The loop, without a pipeline: one synthetic result per frame into the sink, commands answered by
    ``refuse`` (None: carried out)."""

    sink: WebMonitorSink
    fps: float = 30.0
    size: tuple[int, int] = (320, 180)
    noise: bool = False
    refuse: Callable[[Command], str | None] = lambda command: None
    commands: list[Command] = field(default_factory=list)
    consume_ms: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        w, h = self.size
        rng = np.random.default_rng(1)
        if self.noise:  # incompressible: about a megabyte of JPEG a frame at 720p
            self.images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(4)]
        else:
            gradient = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None].repeat(h, 0).repeat(3, 2)
            self.images = [np.ascontiguousarray(np.roll(gradient, 7 * i, axis=1)) for i in range(8)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Feeder":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        index, period = 0, 1.0 / self.fps
        due = time.perf_counter()
        while not self._stop.is_set():
            image = self.images[index % len(self.images)].copy()
            cv2.putText(image, str(index), (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
            result = synthetic_result(index, image, self.fps)
            started = time.perf_counter()
            command = self.sink.consume(result)
            if command is not None:
                self.commands.append(command)
                self.sink.on_command_result(command, self.refuse(command))
            self.consume_ms.append((time.perf_counter() - started) * 1000.0)
            self.times.append(started)
            index += 1
            due += period
            time.sleep(max(0.0, due - time.perf_counter()))


@pytest.fixture
def make_sink() -> Iterator[Callable[..., WebMonitorSink]]:
    made: list[WebMonitorSink] = []

    def make(**config: object) -> WebMonitorSink:
        sink = WebMonitorSink("127.0.0.1:0", WebConfig(**config), token=OPERATOR,  # type: ignore[arg-type]
                              viewer_token=VIEWER, say=lambda text: None)
        made.append(sink)
        return sink

    yield make
    for sink in made:
        sink.close()


def request(sink: WebMonitorSink, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", sink.server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        status = response.status
        if response.getheader("Content-Type", "").startswith("multipart/"):
            return status, dict(response.getheaders()), b""
        return status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def command(sink: WebMonitorSink, text: object, token: str = OPERATOR) -> tuple[int, dict]:
    status, _, body = request(sink, "POST", "/command", json.dumps({"command": text}).encode(),
                              {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    return status, json.loads(body)


def state(sink: WebMonitorSink, token: str = OPERATOR) -> dict:
    status, _, body = request(sink, "GET", f"/state?token={token}")
    assert status == 200, body
    return json.loads(body)


def raw(sink: WebMonitorSink, request_text: str) -> tuple[int, bytes]:
    """A request sent byte for byte (HTTP clients would tidy ``..`` away)."""
    with socket.create_connection(("127.0.0.1", sink.server.port), timeout=10) as s:
        s.sendall(request_text.encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head = data.split(b"\r\n", 1)[0].split()
    return int(head[1]), data


class StreamReader:
    """One viewer of /stream.mjpg: the parts' headers and JPEGs, read as they come."""

    def __init__(self, sink: WebMonitorSink, token: str = OPERATOR) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", sink.server.port, timeout=10)
        self.conn.request("GET", f"/stream.mjpg?token={token}")
        self.response = self.conn.getresponse()

    def part(self) -> tuple[dict[str, str], bytes]:
        line = self.response.readline()
        while line.strip() == b"":
            line = self.response.readline()
        assert line.strip() == b"--frame", line
        headers: dict[str, str] = {}
        while (line := self.response.readline().strip()):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.response.read(int(headers["content-length"]))
        return headers, body

    def close(self) -> None:
        self.response.close()  # holds the socket of a Connection: close response
        self.conn.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- access -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path", [("GET", "/state"), ("GET", "/stream.mjpg"), ("POST", "/command")])
@pytest.mark.parametrize("how", ["none", "wrong header", "wrong query", "not bearer"])
def test_data_and_commands_need_a_valid_token(make_sink, method, path, how):
    sink = make_sink()
    headers = {"wrong header": {"Authorization": "Bearer nope-nope-nope"},
               "not bearer": {"Authorization": f"Basic {OPERATOR}"}}.get(how, {})
    query = "?token=nope-nope-nope" if how == "wrong query" else ""
    body = b'{"command": "toggle_mute"}' if method == "POST" else None
    status, headers_back, data = request(sink, method, path + query, body, headers)
    assert status == 401
    assert json.loads(data)["ok"] is False and "token" in json.loads(data)["error"]
    assert headers_back.get("WWW-Authenticate", "").startswith("Bearer")


def test_the_page_and_its_files_load_without_a_token_and_data_with_either_form(make_sink):
    sink = make_sink()
    status, headers, body = request(sink, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"<html" in body.lower()
    assert headers["Referrer-Policy"] == "no-referrer"  # the token in the page's URL goes nowhere else
    assert request(sink, "GET", "/static/index.html")[0] == 200
    assert request(sink, "GET", "/state", headers={"Authorization": f"Bearer {OPERATOR}"})[0] == 200
    assert state(sink)["role"] == "operator" and state(sink, VIEWER)["role"] == "viewer"


def test_a_viewer_may_watch_but_not_command(make_sink):
    sink = make_sink()
    with Feeder(sink) as feeder:
        viewer = StreamReader(sink, VIEWER)
        headers, jpeg = viewer.part()
        assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) is not None
        viewer.close()
        status, answer = command(sink, "toggle_mute", token=VIEWER)
    assert status == 403 and answer["ok"] is False and "viewer" in answer["error"]
    assert feeder.commands == []  # never reached the loop


@pytest.mark.parametrize("target", [
    "/static/../server.py", "/static/%2e%2e/server.py", "/static/%2E%2E/sink.py", "/static/..%2fserver.py",
    "/static/%2e%2e%2fserver.py", "/static/..%5cserver.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/static/", "/static/.", "/static/..", "/../assistant/web/server.py", "/static/../../../../etc/passwd",
    "/static/index.html/..", "/static/app.js%00.html", "/static", "/etc/passwd", "//etc/passwd",
])
def test_nothing_outside_the_static_files_is_served(make_sink, target):
    sink = make_sink()
    status, data = raw(sink, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status in (404, 400), data[:200]  # 400: a request line the parser refuses outright
    assert b"import " not in data and b"root:" not in data


def test_a_body_over_the_limit_is_413(make_sink):
    sink = make_sink(body_limit_bytes=1024)
    body = json.dumps({"command": "x" * 2000}).encode()
    status, _, data = request(sink, "POST", "/command", body, {"Authorization": f"Bearer {OPERATOR}"})
    assert status == 413 and "1024" in json.loads(data)["error"]


@pytest.mark.parametrize("body, says", [
    (b"{not json", "not JSON"), (b"\xff\xfe", "not JSON"), (b'["rack:B"]', "JSON object"), (b"{}", "missing"),
    (b'{"command": "rack:B", "also": 1}', "unexpected keys ['also']"), (b'{"command": 5}', "must be a string"),
    (b'{"command": "bogus"}', "unknown command 'bogus'"), (b'{"command": "select:x"}', "select:x"),
    (b'{"command": "quit"}', "not taken from the web"), (b'{"command": "nudge:+abc"}', "signed step"),
])
def test_malformed_and_unknown_commands_are_400_with_the_reason(make_sink, body, says):
    sink = make_sink()
    status, _, data = request(sink, "POST", "/command", body, {"Authorization": f"Bearer {OPERATOR}"})
    answer = json.loads(data)
    assert status == 400 and answer["ok"] is False and says in answer["error"], answer


def test_the_design_words_are_taken_beside_the_keys_words(make_sink):
    sink = make_sink()
    with Feeder(sink) as feeder:
        for text in ("stop", "go", "nudge:+0.05", "nudge:-0.05", "emergency_stop", "rack:B"):
            assert command(sink, text) == (200, {"ok": True}), text
    assert [str(c) for c in feeder.commands] == ["emergency_stop", "cue_go", "nudge:farther", "nudge:nearer",
                                                 "emergency_stop", "rack:B"]


def test_flooding_commands_is_429(make_sink):
    sink = make_sink(command_rate_per_s=5.0)
    with Feeder(sink, fps=60):
        answers = [command(sink, "toggle_mute")[0] for _ in range(15)]
    assert answers[:5] == [200] * 5  # the burst
    assert answers.count(429) >= 8, answers


def test_a_command_the_loop_does_not_take_in_time_is_503_and_never_carried_out_late(make_sink):
    sink = make_sink(command_timeout_s=0.2)
    status, answer = command(sink, "rack:B")  # no loop running: nothing consumes
    assert status == 503 and "not carried out" in answer["error"]
    image = np.zeros((90, 160, 3), np.uint8)
    assert sink.consume(synthetic_result(0, image)) is None


# -- commands through a real pipeline -----------------------------------------------------------------------


class NoiseSource:
    """Synthetic frames at ``fps`` until stopped."""

    live = True
    description = "synthetic"

    def __init__(self, fps: float = 30.0, size: tuple[int, int] = (640, 360)) -> None:
        self.fps = fps
        rng = np.random.default_rng(2)
        self.images = [rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in range(3)]
        self.index = 0
        self.stop = threading.Event()
        self._due = time.perf_counter()

    def read(self) -> Frame | None:
        if self.stop.is_set():
            return None
        self._due += 1.0 / self.fps
        time.sleep(max(0.0, self._due - time.perf_counter()))
        frame = Frame(self.images[self.index % 3], self.index / self.fps, self.index)
        self.index += 1
        return frame

    def close(self) -> None:
        pass


def test_a_refused_command_is_400_with_the_controls_reason_and_a_taken_one_ok(make_sink):
    from assistant.controls import OperatorControls
    from assistant.pipeline import Pipeline
    from assistant.ui.overlay import OverlayStyle
    from assistant.ui.presenter import OverlayPresenter
    from assistant.vision.sharpness import SharpnessMeter

    sink = make_sink()
    controls = OperatorControls(OverlayStyle())  # no focus director: racks and selections are refused
    source = NoiseSource()
    pipeline = Pipeline(source, SharpnessMeter(), [sink], OverlayPresenter(controls), controls=controls)
    run = threading.Thread(target=pipeline.run, daemon=True)
    run.start()
    try:
        status, answer = command(sink, "rack:B")
        assert status == 400 and answer == {"ok": False, "error": "rack:B: needs a live run (no focus director in analyze)"}
        assert command(sink, "toggle_mute") == (200, {"ok": True})
        assert controls.muted
        assert wait_until(lambda: any("needs a live run" in line for line in state(sink)["ticker"]))
        assert state(sink)["mode"] == "monitor"
    finally:
        source.stop.set()
        run.join(timeout=20)
    assert not run.is_alive()


@pytest.fixture(scope="module")
def rig_run() -> Iterator[WebMonitorSink]:
    """The full pipeline on the virtual rig, serving, in a thread."""
    from assistant.live import LiveOptions, build_pipeline

    pipeline = build_pipeline(LiveOptions(source="sim", serve="127.0.0.1:0", token=OPERATOR, viewer_token=VIEWER,
                                          headless=True, no_audio=True, max_frames=900))
    sink = next(s for s in pipeline.sinks if isinstance(s, WebMonitorSink))
    done: list[object] = []
    run = threading.Thread(target=lambda: done.append(pipeline.run()), daemon=True)
    run.start()
    assert wait_until(lambda: state(sink)["frame"] >= 15, 60)
    yield sink
    pipeline.source.close()
    pipeline.max_frames = 1  # ends at the next frame
    run.join(timeout=60)
    assert done, "the run did not end"


def test_an_operators_command_reaches_the_pipeline_and_its_event_shows_in_state(rig_run):
    sink = rig_run
    now = state(sink)
    assert now["mode"] == "suggest" and now["frame_size"] == [1280, 720] and now["role"] == "operator"
    assert command(sink, "toggle_mode") == (200, {"ok": True})
    assert wait_until(lambda: state(sink)["mode"] == "drive")
    assert command(sink, "stop") == (200, {"ok": True})  # the emergency stop: back to suggest, logged
    assert wait_until(lambda: any(e["type"] == "mode" and "emergency stop" in e.get("detail", "")
                                  for e in state(sink)["events"]))
    assert state(sink)["mode"] == "suggest"
    status, answer = command(sink, "select:99")
    assert status == 400 and answer["error"] == "no subject there to select"


def test_the_rigs_stream_and_state_agree(rig_run):
    sink = rig_run
    reader = StreamReader(sink, VIEWER)
    try:
        headers, jpeg = reader.part()
    finally:
        reader.close()
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (720, 1280, 3)
    assert int(headers["x-frame-index"]) >= 0 and float(headers["x-frame-time"]) <= time.monotonic()
    now = state(sink, VIEWER)
    assert set(now) >= {"t", "frame", "mode", "target", "focus_m", "guidance", "subjects", "frame_size", "driver",
                        "ticker", "events", "fps", "viewers", "role"}
    assert now["role"] == "viewer" and isinstance(now["fps"], float)
    for subject in now["subjects"]:
        assert set(subject) == {"id", "label", "box", "distance_m", "in_focus", "focus_score", "coasting"}
        x, y, w, h = subject["box"]
        assert 0 <= x < 1280 and 0 <= y < 720 and w > 0 and h > 0
    assert now["guidance"] is None or set(now["guidance"]) == {"direction", "delta_m", "delta_dpt", "text"}


# -- many viewers, slow viewers ------------------------------------------------------------------------------


def test_twenty_viewers_each_get_distinct_frames_encoded_once_per_frame(make_sink):
    sink = make_sink()
    received: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def watch(n: int) -> None:
        try:
            reader = StreamReader(sink)
            indices = []
            while len(set(indices)) < 5:
                headers, jpeg = reader.part()
                assert jpeg[:2] == b"\xff\xd8"  # a JPEG
                indices.append(int(headers["x-frame-index"]))
            received[n] = indices
            reader.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    with Feeder(sink, fps=30):
        viewers = [threading.Thread(target=watch, args=(n,)) for n in range(20)]
        for v in viewers:
            v.start()
        assert wait_until(lambda: sink.viewers == 20 or len(received) > 0, 20)
        for v in viewers:
            v.join(timeout=30)
        consumed = sink.frames
    assert not errors, errors[0]
    assert len(received) == 20
    encoded = list(sink.encoder.encoded)
    assert len(encoded) == len(set(encoded)) == sink.encoder.encodes  # each frame encoded at most once ...
    assert sink.encoder.encodes <= consumed  # ... not once per viewer
    for indices in received.values():
        assert indices == sorted(indices) and set(indices) <= set(encoded)
    assert wait_until(lambda: sink.viewers == 0)


def test_no_encoding_without_a_viewer(make_sink):
    sink = make_sink()
    with Feeder(sink, fps=60):
        assert wait_until(lambda: sink.frames >= 20)
    assert sink.encoder.encodes == 0


def test_the_overlay_is_wanted_only_while_a_viewer_watches(make_sink):
    """With --serve and nobody watching, the loop draws no overlay for the web (it costs milliseconds)."""
    sink = make_sink()
    assert sink.wants_picture is False
    viewer = StreamReader(sink)
    try:
        assert wait_until(lambda: sink.wants_picture)
    finally:
        viewer.close()
    assert wait_until(lambda: not sink.wants_picture)


def test_a_viewer_that_stops_reading_is_dropped_without_stalling_the_loop_or_the_others(make_sink):
    sink = make_sink(stall_timeout_s=0.5)
    with Feeder(sink, fps=30, size=(1280, 720), noise=True) as feeder:
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # a tiny window, and never a recv
        stuck.connect(("127.0.0.1", sink.server.port))
        stuck.sendall(f"GET /stream.mjpg?token={OPERATOR} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        good = StreamReader(sink)
        assert wait_until(lambda: sink.viewers == 2, 5)
        frames_before, started = sink.frames, time.monotonic()
        seen = []
        while time.monotonic() - started < 2.0:
            headers, _ = good.part()
            seen.append(int(headers["x-frame-index"]))
        elapsed = time.monotonic() - started
        frames = sink.frames - frames_before
        assert wait_until(lambda: sink.server.dropped == 1 and sink.viewers == 1, 5)
        good.close()
        stuck.close()
    assert frames / elapsed > 20  # the loop kept (about) its 30 fps on a busy machine ...
    assert sorted(feeder.consume_ms)[len(feeder.consume_ms) * 99 // 100] < 20.0  # ... and consume never waited
    assert max(b - a for a, b in zip(feeder.times, feeder.times[1:])) < 0.4  # never the stall timeout
    assert len(set(seen)) >= 20  # the reading viewer kept getting pictures (noise JPEGs are ~1 MB each)


# -- starting and stopping -----------------------------------------------------------------------------------


def test_random_tokens_are_made_and_printed_as_urls_when_none_are_given():
    lines: list[str] = []
    sink = WebMonitorSink("127.0.0.1:0", say=lines.append)
    try:
        base = sink.url
        assert lines[0] == f"web monitor on {base}"
        assert f"{base}?token={sink.tokens.operator}" in lines[1] and "operator" in lines[1]
        assert f"{base}?token={sink.tokens.viewer}" in lines[2] and "viewer" in lines[2]
        assert len(sink.tokens.operator) >= 24 and sink.tokens.operator != sink.tokens.viewer
        assert len(lines) == 3  # loopback: no warning
        assert state(sink, sink.tokens.operator)["role"] == "operator"
    finally:
        sink.close()


def test_serving_every_network_without_tls_warns_once():
    lines: list[str] = []
    sink = WebMonitorSink("0.0.0.0:0", token=OPERATOR, viewer_token=VIEWER, say=lines.append)
    sink.close()
    warnings = [line for line in lines if line.startswith("warning:")]
    assert len(warnings) == 1 and "TLS" in warnings[0]


def test_close_stops_the_server_and_its_threads(make_sink):
    sink = make_sink()
    port = sink.server.port
    reader = StreamReader(sink)
    with Feeder(sink):
        reader.part()
        started = time.monotonic()
        sink.close()
        assert time.monotonic() - started < 5
    reader.close()
    assert not sink.server._thread.is_alive() and not sink.encoder._thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


@pytest.mark.parametrize("kwargs, says", [
    ({"address": "nosuchhost.invalid:0"}, "no such host"),
    ({"address": "8.8.8.8:0"}, "not an address of this machine"),
    ({"address": "70000"}, "port"),
    ({"tls_cert": "cert.pem"}, "go together"),
    ({"tls_cert": "missing.pem", "tls_key": "missing.pem"}, "no such file"),
    ({"tls_cert": "garbage.pem", "tls_key": "garbage.pem"}, "cannot load"),
    ({"token": "short"}, "at least 8"),
    ({"token": "spaces are bad"}, "letters, digits"),
    ({"token": OPERATOR, "viewer_token": OPERATOR}, "viewers could command"),
])
def test_bad_serve_inputs_are_one_clear_error(tmp_path, monkeypatch, kwargs, says):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "garbage.pem").write_text("not a certificate")
    (tmp_path / "cert.pem").write_text("x")
    address = kwargs.pop("address", "127.0.0.1:0")
    with pytest.raises(ServeError, match=says):
        WebMonitorSink(address, say=lambda text: None, **kwargs).close()


def test_a_port_in_use_is_a_serve_error(make_sink):
    sink = make_sink()
    with pytest.raises(ServeError, match="the port is in use"):
        WebMonitorSink(f"127.0.0.1:{sink.server.port}", say=lambda text: None).close()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_serves_https(tmp_path):
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    sink = WebMonitorSink("127.0.0.1:0", token=OPERATOR, viewer_token=VIEWER, tls_cert=cert, tls_key=key,
                          say=lambda text: None)
    try:
        assert sink.url.startswith("https://")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        conn = http.client.HTTPSConnection("127.0.0.1", sink.server.port, context=context, timeout=10)
        conn.request("GET", f"/state?token={OPERATOR}")
        assert json.loads(conn.getresponse().read())["role"] == "operator"
        conn.close()
    finally:
        sink.close()


def run_cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True, timeout=timeout)


def test_cli_serves_headless_and_prints_the_urls():
    run = run_cli("live", "--source", "sim", "--headless", "--no-audio", "--max-frames", "5", "--serve", "127.0.0.1:0")
    assert run.returncode == 0, run.stderr
    assert "web monitor on http://127.0.0.1:" in run.stderr and "?token=" in run.stderr
    assert "5 frames" in run.stderr  # the status line and the summary as ever


def test_cli_rejects_bad_serve_options_in_one_line_with_exit_code_2():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        for args, says in [
            (["--serve", f"127.0.0.1:{taken.getsockname()[1]}"], "the port is in use"),
            (["--serve", "127.0.0.1:0", "--tls-cert", "x.pem"], "--tls-cert and --tls-key go together"),
            (["--serve", "host:port"], "port"),
            (["--token", OPERATOR], "add --serve"),
        ]:
            run = run_cli("live", "--source", "sim", "--headless", "--no-audio", "--max-frames", "1", *args)
            lines = run.stderr.strip().splitlines()
            assert run.returncode == 2 and len(lines) == 1 and says in lines[0], (args, run.stderr)
    finally:
        taken.close()


def test_events_reach_state_newest_last_and_at_most_ten(make_sink):
    sink = make_sink()
    for n in range(12):
        sink.on_event(Event("rack", n, n + 0.5, n * 30, n * 30 + 15, "observed", from_id=1, to_id=2))
    events = state(sink)["events"]
    assert len(events) == 10 and events[0]["start"] == 2 and events[-1]["start"] == 11
    assert events[-1]["type"] == "rack" and events[-1]["from"] == 1


def test_while_the_feed_is_gone_viewers_see_no_signal_and_state_says_so(make_sink):
    from assistant.types import NoSignal

    sink = make_sink()
    reader = StreamReader(sink)
    try:
        assert wait_until(lambda: sink.viewers == 1)
        picture = np.full((180, 320, 3), 40, np.uint8)
        sink.idle(picture, NoSignal("camera:0", 5.0, 2.5, reconnects=1))
        headers, jpeg = reader.part()
    finally:
        reader.close()
    assert headers["x-frame-index"] == "-1"
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (180, 320, 3)
    assert state(sink)["no_signal"] == {"silent_s": 2.5, "reconnects": 1}
    sink.consume(synthetic_result(1, picture))
    assert state(sink)["no_signal"] is None


def test_a_head_request_for_the_stream_is_not_a_viewer(make_sink):
    sink = make_sink()
    status, headers, _ = request(sink, "HEAD", f"/stream.mjpg?token={OPERATOR}")
    assert status == 200 and headers["Content-Type"].startswith("multipart/x-mixed-replace")
    assert sink.viewers == 0


def test_a_new_viewer_never_gets_a_picture_from_before_nobody_watched(make_sink):
    sink = make_sink()
    image = np.zeros((90, 160, 3), np.uint8)
    first = StreamReader(sink)
    assert wait_until(lambda: sink.viewers == 1)
    sink.consume(synthetic_result(1, image))
    assert first.part()[0]["x-frame-index"] == "1"
    first.close()
    assert wait_until(lambda: sink.viewers == 0)
    second = StreamReader(sink)  # frame 1 is old now: it waits for the next
    try:
        assert wait_until(lambda: sink.viewers == 1)
        sink.consume(synthetic_result(2, image))
        assert second.part()[0]["x-frame-index"] == "2"
    finally:
        second.close()
