"""``--serve [HOST:]PORT``: the address text read, checked, and written back as a URL."""

from __future__ import annotations

import ipaddress
import socket

DEFAULT_HOST = "127.0.0.1"
WILDCARDS = ("0.0.0.0", "::")


def parse_address(text: str) -> tuple[str, int]:
    """``"8080"`` -> ("127.0.0.1", 8080); ``"0.0.0.0:8080"``, ``"[::]:8080"``, ``"stage.local:8080"``.

    ValueError, saying what was expected, for anything else; port 0 asks for any free port.
    """
    text = text.strip()
    if text.startswith("["):  # [IPv6]:PORT
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"expected [HOST:]PORT like 8080, 0.0.0.0:8080 or [::]:8080, got {text!r}")
    elif text.count(":") > 1:
        raise ValueError(f"an IPv6 host goes in brackets, like [::1]:8080; got {text!r}")
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            host = DEFAULT_HOST
    host = host.strip()
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise ValueError(f"expected [HOST:]PORT like 8080, 0.0.0.0:8080 or [::]:8080, got {text!r}")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"the port is a number from 1 to 65535 (0: any free port), got {port!r} in {text!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Only this machine can reach ``host`` (127.x, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """Where a browser elsewhere finds a server bound to ``host``: for 0.0.0.0 / ::, this machine's own
    address on its network (found without sending anything; IPv4 first), else its name; IPv6 in brackets."""
    if host in WILDCARDS:
        families = (socket.AF_INET, socket.AF_INET6) if host == "::" else (socket.AF_INET,)
        host = next((a for a in map(_own_address, families) if a is not None), socket.gethostname())
    return f"[{host}]" if ":" in host else host


def _own_address(family: socket.AddressFamily) -> str | None:
    probe = ("10.255.255.255", 1) if family == socket.AF_INET else ("fd00::1", 1)
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.connect(probe)  # UDP connect: picks the outgoing interface, sends nothing
            return str(s.getsockname()[0])
    except OSError:
        return None
