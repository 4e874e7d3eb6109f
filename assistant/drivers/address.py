"""``scheme://host[:port][/path][?query]`` driver addresses: the checks every network driver makes.

``osc://``, ``visca://`` and ``bmd://`` differ only in their default port, whether a path means
something and which query options they take; the parsing and its messages are here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

from assistant.errors import ConfigError


@dataclass(frozen=True)
class Address:
    """A parsed driver address; ``port`` is None when the address gives none."""

    host: str
    port: int | None
    path: str
    options: tuple[tuple[str, str], ...]


def parse_address(spec: str, scheme: str, what: str, hint: str, *, path_allowed: bool = False) -> Address:
    """``spec`` split and checked; :class:`ConfigError` naming ``what`` (e.g. "VISCA address") and ``hint``."""
    try:
        parts = urlsplit(spec.strip())
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{what} {spec!r}: bad port ({exc}); {hint}") from exc
    if parts.scheme.lower() != scheme:
        raise ConfigError(f"{what} {spec!r} does not start with {scheme}://; {hint}")
    if not parts.hostname:
        raise ConfigError(f"{what} {spec!r} has no host; {hint}")
    if port == 0:
        raise ConfigError(f"{what} {spec!r}: port 0 is not a port; {hint}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{what} {spec!r}: a user name or password in the address is not supported; {hint}")
    if parts.fragment:
        raise ConfigError(f"{what} {spec!r}: '#' is not allowed; {hint}")
    if not path_allowed and parts.path not in ("", "/"):
        raise ConfigError(f"{what} {spec!r} has more than a host, a port and options; {hint}")
    options = tuple(parse_qsl(parts.query, keep_blank_values=True))
    return Address(unquote(parts.hostname), port, parts.path, options)


def bracketed(host: str) -> str:
    """``host`` as written in an address: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host


def host_port(host: str, port: int) -> str:
    """``host:port`` as written in an address."""
    return f"{bracketed(host)}:{port}"
