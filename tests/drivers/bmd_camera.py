"""Blackmagic cameras this machine does not have: the REST focus endpoint on 127.0.0.1, and a BLE link.

Shaped like the real ones (see assistant/drivers/bmd_rest.py and bmd_ble.py for the published facts):
the REST camera answers PUT with 204 (the 2023 firmware: 200 and the older ``focus`` field), can be slow,
hang up an idle connection, or answer like a router; the BLE camera reads the packets it is sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from assistant.drivers.bmd_ble import INCOMING_CONTROL_UUID, BleError, BleNotFound, BleNotPaired
from assistant.drivers.bmd_protocol import decode_packet, focus_packet
from assistant.drivers.bmd_rest import FOCUS_PATH


class CameraServer(ThreadingHTTPServer):
    """A Blackmagic camera's focus endpoint. ``mode``: ok, old, nofocus, 404, garbage, login, slow, drop."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), CameraHandler)
        self.mode = "ok"
        self.delay = 0.0
        self.focus = 0.5
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.connections = 0

    def handle_error(self, request, client_address) -> None:
        pass  # a client that timed out and hung up is expected in these tests

    def puts(self) -> list[dict]:
        return [json.loads(body) for method, path, _, body in self.requests if method == "PUT" and path == FOCUS_PATH]


class CameraHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    server: CameraServer

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        camera = self.server
        camera.requests.append((method, self.path, dict(self.headers), body))
        if camera.mode == "slow":
            time.sleep(camera.delay)
        if camera.mode == "404" or not self.path.startswith(FOCUS_PATH):
            return self._reply(404, b"<html>Not Found</html>", "text/html")
        if camera.mode == "garbage":
            return self._reply(200, b"<html><body>router login</body></html>", "text/html")
        if camera.mode == "login":
            return self._reply(401, b"", "text/plain")
        field = "focus" if camera.mode == "old" else "normalised"
        if method == "GET":
            doc = {} if camera.mode == "nofocus" else {field: camera.focus}
            return self._reply(200, json.dumps(doc).encode(), "application/json")
        if self.path == FOCUS_PATH:
            value = json.loads(body).get(field)
            if not (isinstance(value, (int, float)) and 0 <= value <= 1):
                return self._reply(400, b'{"error": "out of range"}', "application/json")
            camera.focus = value
        if camera.mode == "old":
            return self._reply(200, b"", "application/json")  # the 2023 firmware answers PUT with 200
        self._reply(204)
        if camera.mode == "drop":
            self.close_connection = True  # hang up silently, as an idle camera may

    def _reply(self, status: int, body: bytes = b"", kind: str = "") -> None:
        self.send_response(status)
        if status != 204:
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)


class RestCamera:
    """A :class:`CameraServer` serving on its own thread from construction until :meth:`close`."""

    def __init__(self) -> None:
        self.server = CameraServer()
        self.port = self.server.server_address[1]
        self.server.port = self.port
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2.0)


@contextmanager
def running_camera() -> Iterator[CameraServer]:
    """A REST camera serving on 127.0.0.1 (its port in ``.port``) until the block ends."""
    camera = RestCamera()
    try:
        yield camera.server
    finally:
        camera.close()


class FakeBleCamera:
    """A transport shaped like BleakTransport, with a camera behind it that reads the packets."""

    def __init__(self, *, name: str = "A:12345678", present: bool = True, paired: bool = True,
                 echo: bool = False) -> None:
        self.name = name
        self.present, self.paired, self.echo = present, paired, echo
        self.connected = False
        self.closed = 0
        self.writes: list[tuple[str, bytes]] = []
        self.subscribers: dict[str, object] = {}
        self.on_disconnect = None
        self.focus: float | None = None
        self.fail_writes = False

    def connect(self, on_disconnect) -> None:
        if not self.present:
            raise BleNotFound(f"no Bluetooth camera named {self.name!r} seen within 10 s")
        self.on_disconnect = on_disconnect
        self.connected = True

    def subscribe(self, characteristic: str, on_data) -> None:
        if not self.paired:
            raise BleNotPaired("subscribe: Insufficient Authentication")
        self.subscribers[characteristic] = on_data

    def write(self, characteristic: str, data: bytes) -> None:
        if not self.connected or self.fail_writes:
            raise BleError("write: Not connected")
        self.writes.append((characteristic, bytes(data)))
        packet = decode_packet(data)
        if packet.focus is not None:
            self.focus = packet.focus
            if self.echo:
                self.notify(focus_packet(packet.focus))

    def close(self) -> None:
        self.closed += 1
        self.connected = False

    def notify(self, data: bytes) -> None:
        """Send a notification from another thread, as bleak's loop thread would."""
        thread = threading.Thread(target=self.subscribers[INCOMING_CONTROL_UUID], args=(data,))
        thread.start()
        thread.join()

    def drop(self) -> None:
        self.connected = False
        thread = threading.Thread(target=self.on_disconnect)
        thread.start()
        thread.join()
