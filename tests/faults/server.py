"""A loopback server for fault tests: the replay site, with chosen paths answered by faults.

    faults = {("www.presstv.ir", "/rss.xml"): status(503), ("*", story.path): reset_mid_body()}
    with FaultServer(build_site(config), faults) as server:
        args = server.connect_args()            # --connect-to for every profile host
        ...                                     # crawl
        server.hosts_asked()                    # every Host header any request carried

A fault key is (host, path prefix); "*" stands for every host, and a prefix matches the request
path case-insensitively (a story path matches with or without its slug). Every request is
logged with its Host header before anything is answered, so a test can prove that nothing
outside the profile was asked, even a request that was then reset or left hanging.
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Self

from crawler.replay import ReplaySite
from crawler.replay.server import LoopbackServer
from crawler.replay.site import resolve_host

LOOPBACK = "127.0.0.1"

Fault = Callable[["_Handler", str, str], None]  # (handler, logical host, path) -> answers


@dataclass(frozen=True)
class Request:
    host_header: str  # as sent, port and all
    host: str  # the logical host this server stands for
    path: str


@dataclass
class FaultServer:
    """One loopback server per host of the site (and per extra host), faults first."""

    site: ReplaySite
    faults: dict[tuple[str, str], Fault] = field(default_factory=dict)
    extra_hosts: tuple[str, ...] = ()  # hosts outside the profile that get a server too
    down_hosts: tuple[str, ...] = ()  # routed to a port nothing listens on: refused
    requests: list[Request] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.servers: dict[str, _HostServer] = {}
        self.origins: dict[str, str] = {}
        for host in [*self.site.hosts, *self.extra_hosts]:
            if host in self.down_hosts:
                self.origins[host] = f"http://{LOOPBACK}:{_closed_port()}"
                continue
            server = _HostServer(host, self)
            self.servers[host] = server
            self.origins[host] = f"http://{LOOPBACK}:{server.server_address[1]}"
            threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()

    def connect_args(self, with_extra: bool = True) -> list[str]:
        args: list[str] = []
        for host, origin in self.origins.items():
            if with_extra or host in self.site.hosts:
                args += ["--connect-to", f"{host}={origin}"]
        return args

    def fault_for(self, host: str, path: str) -> Fault | None:
        lowered = path.lower()
        for (fault_host, prefix), fault in self.faults.items():
            if fault_host in ("*", host) and _under(lowered, prefix.lower()):
                return fault
        return None

    def log(self, request: Request) -> int:
        """Record a request; how many times this (host, path) has been asked, this one too."""
        with self.lock:
            self.requests.append(request)
            key = (request.host, request.path)
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]

    def hosts_asked(self) -> set[str]:
        """Every host a request named in its Host header, port dropped."""
        with self.lock:
            return {r.host_header.split(":", 1)[0].lower() for r in self.requests}

    def asked(self, host: str, prefix: str) -> int:
        with self.lock:
            return sum(
                1
                for r in self.requests
                if r.host == host and _under(r.path.lower(), prefix.lower())
            )

    def stop(self) -> None:
        self.stopping.set()
        for server in self.servers.values():
            server.shutdown()
            server.cut_connections()
            server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _under(path: str, prefix: str) -> bool:
    """Whether a path is the prefix or lies below it (by whole segments, or with a query)."""
    if path == prefix or path.startswith(prefix + "?"):
        return True
    return prefix != "/" and path.startswith(prefix.rstrip("/") + "/")


def _closed_port() -> int:
    """A loopback port that was free a moment ago and has nothing listening: refused."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


class _HostServer(LoopbackServer):
    def __init__(self, host: str, owner: FaultServer) -> None:
        self.logical_host = host
        self.owner = owner
        super().__init__(0, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HostServer
    protocol_version = "HTTP/1.1"
    timeout = 30

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        named = self.headers.get("Host", "")
        host = resolve_host(named) or self.server.logical_host
        path = self.path
        count = self.server.owner.log(Request(named, self.server.logical_host, path))
        self.ask_count = count
        fault = self.server.owner.fault_for(host, path)
        if fault is not None:
            fault(self, host, path)
        else:
            self.replay(host, path)

    def replay(self, host: str, path: str) -> None:
        status, headers, body = self.server.owner.site.respond(
            host, path, self.command, dict(self.headers.items())
        )
        self.answer(status, headers, body)

    def answer(
        self, status: int, headers: list[tuple[str, str]], body: bytes, length: int | None = None
    ) -> None:
        self.send_response_only(status)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- faults ---------------------------------------------------------------------------------


def status(code: int, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> Fault:
    """Answer with a status, headers and body (an error page, a redirect...)."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        body_out = body or f"<html><body>status {code} at {path}</body></html>".encode()
        handler.answer(code, [("Content-Type", "text/html"), *headers], body_out)

    return fault


def redirect(location: str | Callable[[str], str], code: int = 302) -> Fault:
    def fault(handler: _Handler, host: str, path: str) -> None:
        target = location(path) if callable(location) else location
        handler.answer(code, [("Location", target)], b"")

    return fault


def redirect_to_origin(host: str, spelled: str = LOOPBACK) -> Fault:
    """Redirect to the loopback address the host is really served from (its connect-to
    origin), the address spelled as given (127.0.0.1, localhost...)."""

    def fault(handler: _Handler, asked: str, path: str) -> None:
        origin = handler.server.owner.origins[host].replace(LOOPBACK, spelled)
        handler.answer(302, [("Location", origin + path)], b"")

    return fault


def body(
    payload: bytes, content_type: str = "text/html", headers: tuple[tuple[str, str], ...] = ()
) -> Fault:
    """Answer 200 with these exact bytes."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        handler.answer(200, [("Content-Type", content_type), *headers], payload)

    return fault


def rendered(make: Callable[[dict[str, str], bytes], bytes], content_type: str) -> Fault:
    """Answer 200 with a body made when asked, from the loopback origin of every host (known
    only once the servers listen) and the replay site's own answer for the path."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        owner = handler.server.owner
        _, _, original = owner.site.respond(host, path)
        handler.answer(200, [("Content-Type", content_type)], make(owner.origins, original))

    return fault


def transform(change: Callable[[bytes], bytes], content_type: str | None = None) -> Fault:
    """The replay site's own answer, its body changed (truncated, re-encoded...)."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        code, headers, original = handler.server.owner.site.respond(host, path)
        dropped = ("content-type", "content-length", "etag")
        kept = [(k, v) for k, v in headers if k.lower() not in dropped]
        kind = content_type or dict(headers).get("Content-Type", "text/html")
        handler.answer(code, [("Content-Type", kind), *kept], change(original))

    return fault


def reset_mid_body() -> Fault:
    """Promise a long body, send part of it, then reset the connection (RST, not FIN)."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        _, _, original = handler.server.owner.site.respond(host, path)
        handler.send_response_only(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(original) + 10_000))
        handler.end_headers()
        handler.wfile.write(original[: len(original) // 2])
        handler.wfile.flush()
        _reset(handler)

    return fault


def hang() -> Fault:
    """Accept the request and never answer (until the server stops)."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        handler.server.owner.stopping.wait(60)
        _reset(handler)

    return fault


def flaky(failures: int, first: Fault) -> Fault:
    """`first` for the first `failures` asks of a path, then the real page."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        if handler.ask_count <= failures:
            first(handler, host, path)
        else:
            handler.replay(host, path)

    return fault


def slow_drip(seconds: float) -> Fault:
    """Headers at once, then the body a byte at a time, slower than any timeout allows."""

    def fault(handler: _Handler, host: str, path: str) -> None:
        handler.send_response_only(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        deadline = time.monotonic() + seconds
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline and not handler.server.owner.stopping.is_set():
                handler.wfile.write(b"<")
                handler.wfile.flush()
                time.sleep(0.2)
        _reset(handler)

    return fault


def _reset(handler: _Handler) -> None:
    with contextlib.suppress(OSError):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    handler.close_connection = True


# --- bombs ----------------------------------------------------------------------------------


def gzip_bomb(unpacked: int) -> bytes:
    """A gzip stream of `unpacked` zero bytes (about a thousandth of that on the wire)."""
    out = gzip.compress(b"\0" * (1024 * 1024), compresslevel=9)
    whole, rest = divmod(unpacked, 1024 * 1024)
    return out * whole + gzip.compress(b"\0" * rest)  # concatenated members are one stream


def deflate_bomb(unpacked: int) -> bytes:
    packer = zlib.compressobj(9)
    chunk = b"\0" * (1024 * 1024)
    parts = [packer.compress(chunk) for _ in range(unpacked // len(chunk))]
    return b"".join(parts) + packer.flush()
