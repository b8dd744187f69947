"""`--connect-to HOST=ORIGIN` routes: parse and check them, rewrite a URL onto its origin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


class ConnectToError(ValueError):
    """A `--connect-to` value that cannot be used."""


@dataclass(frozen=True)
class Route:
    """Where the transport for one logical host really goes."""

    host: str
    scheme: str
    netloc: str

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self.scheme, self.netloc, parts.path or "/", parts.query, ""))


def parse_connect_to(values: Iterable[str]) -> dict[str, Route]:
    """Parse `HOST=ORIGIN` pairs (ORIGIN like `http://127.0.0.1:8001`); raise ConnectToError."""
    routes: dict[str, Route] = {}
    for value in values:
        host, sep, origin = value.partition("=")
        host = host.strip().lower()
        origin = origin.strip()
        if not sep or not host or not origin:
            raise ConnectToError(f"--connect-to {value!r}: expected HOST=ORIGIN")
        if "/" in host or ":" in host:
            raise ConnectToError(f"--connect-to {value!r}: HOST must be a bare host name")
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConnectToError(
                f"--connect-to {value!r}: ORIGIN must look like http://127.0.0.1:8001"
            )
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:
            raise ConnectToError(f"--connect-to {value!r}: bad port in ORIGIN") from None
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConnectToError(f"--connect-to {value!r}: ORIGIN must have no path or query")
        if host in routes:
            raise ConnectToError(f"--connect-to {host}: given twice")
        routes[host] = Route(host=host, scheme=parts.scheme, netloc=parts.netloc)
    return routes


def logical_text(text: str, routes: dict[str, Route], scheme: str = "https") -> str:
    """A message naming transport addresses (`http://127.0.0.1:8001/x`, `127.0.0.1:8001`)
    with the logical hosts instead, so errors stored in the archive name the site's URLs."""
    for route in routes.values():
        text = text.replace(f"{route.scheme}://{route.netloc}", f"{scheme}://{route.host}")
        text = text.replace(route.netloc, route.host)
    return text
