"""Loopback HTTP servers for the replay site: one per logical host, each on its own free port."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from crawler.replay.site import ReplaySite, resolve_host

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Hit:
    """One request as a server saw it, for tests that assert what a crawl fetched."""

    host: str  # the logical host that answered
    method: str
    path: str  # path and query as sent
    status: int
    user_agent: str = ""
    at: float = field(default_factory=time.monotonic, compare=False)  # when it arrived

    @property
    def not_modified(self) -> bool:
        """Answered 304: the client's validators still matched."""
        return self.status == 304


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 that keeps its open connections, so that they
    can be cut (a host going down mid-crawl, or stop()), and says nothing when a client
    hangs up mid-response (routine in a crawl)."""

    daemon_threads = True
    block_on_close = False  # keep-alive connections must not hold up stop()
    # socketserver listens with a backlog of 5: a crawler opening its 32 connections at once
    # overflows it, and each dropped SYN costs a second or more before the client retries.
    request_queue_size = 128

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler]) -> None:
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.accepted = 0  # connections accepted so far (a client reusing its own adds none)
        super().__init__((LOOPBACK, port), handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass

    def cut_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _HostServer(LoopbackServer):
    """Serves one logical host of the replay site."""

    def __init__(self, host: str, replay: ReplayServer, port: int = 0) -> None:
        self.logical_host = host
        self.replay = replay
        super().__init__(port, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HostServer
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "newsmirror-replay"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as two writes; no 40 ms stalls
    timeout = 60  # an idle keep-alive connection gives its thread back after this long

    def do_GET(self) -> None:  # the name http.server dispatches to
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._discard_body()
        self._serve()

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length", "")
        if length.isdigit():
            self.rfile.read(int(length))

    def _serve(self) -> None:
        target = self.path
        named = self.headers.get("Host", "")
        if target.startswith(("http://", "https://")):  # absolute-form request target
            parts = urlsplit(target)
            named = parts.netloc
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        # The Host header names the logical host (as --connect-to sends it); anything else,
        # such as 127.0.0.1:PORT, means the host this server stands for.
        host = resolve_host(named) or self.server.logical_host
        status, headers, body = self.server.replay.site.respond(
            host, target or "/", self.command, dict(self.headers.items())
        )
        agent = self.headers.get("User-Agent", "")
        self.server.replay.record(Hit(host, self.command, target, status, agent))
        if self.server.replay.latency:
            time.sleep(self.server.replay.latency)  # a distant server's round trip
        # send_response() would add Date, which would make answers differ from run to run.
        self.send_response_only(status)
        self.send_header("Server", self.server_version)
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class ReplayServer:
    """The replay site on loopback, one server per host; a context manager.

    `set_phase(n)` switches the running servers to another phase of the same site; hosts that
    phase brings (the candidate hosts of phase 2) get servers of their own then, and keep them.
    """

    def __init__(self, site: ReplaySite, ports: dict[str, int] | None = None) -> None:
        self.site = site
        self.requests: list[Hit] = []
        self.latency = 0.0  # seconds each answer waits, as a server far away would
        self._ports = dict(ports or {})
        self._lock = threading.Lock()
        self._servers: dict[str, _HostServer] = {}
        self._threads: list[threading.Thread] = []
        self._stopped = False
        # Where each host listens: (address, port); the address is always 127.0.0.1.
        self.addresses: dict[str, tuple[str, int]] = {}
        self.origins: dict[str, str] = {}
        try:
            self._listen([*site.hosts, *site.candidate_hosts])
        except OSError:
            self._close_all()
            raise

    def _listen(self, hosts: list[str]) -> None:
        started = []
        for host in hosts:
            if host not in self._servers:
                server = _HostServer(host, self, self._ports.get(host, 0))
                self._servers[host] = server
                address, port = str(server.server_address[0]), int(server.server_address[1])
                self.addresses[host] = (address, port)
                self.origins[host] = f"http://{address}:{port}"
                started.append((host, server))
        for host, server in started:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"replay {host}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def set_phase(self, phase: int) -> None:
        """Serve another phase of the site from now on (same ports; new hosts get new ones)."""
        if self._stopped:
            raise RuntimeError("the replay server has been stopped")
        site = self.site.at_phase(phase)
        self._listen(list(site.candidate_hosts))
        self.site = site

    def connect_to(self, candidates: bool = False) -> list[str]:
        """`HOST=ORIGIN` values for --connect-to: the profile's hosts, and on request the
        candidate hosts outside the profile that are being served."""
        return [
            f"{host}={origin}"
            for host, origin in self.origins.items()
            if candidates or host in self.site.hosts
        ]

    @property
    def connections_accepted(self) -> int:
        """TCP connections the site's servers have accepted, every host together."""
        return sum(server.accepted for server in self._servers.values())

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.requests.append(hit)

    def clear_requests(self) -> None:
        """Forget the requests logged so far, so that the next run's can be counted alone."""
        with self._lock:
            self.requests.clear()

    def stop(self) -> None:
        """Stop serving, cut open connections and close the listening sockets (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        # shutdown() waits out a poll interval; asking all servers at once waits only once.
        stoppers = [threading.Thread(target=s.shutdown) for s in self._servers.values()]
        for thread in stoppers:
            thread.start()
        for thread in [*stoppers, *self._threads]:
            thread.join(timeout=5)
        self._close_all()

    def _close_all(self) -> None:
        for server in self._servers.values():
            server.cut_connections()
            server.server_close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve(site: ReplaySite, ports: dict[str, int] | None = None) -> ReplayServer:
    """Start serving every host of the site on 127.0.0.1 (free ports unless `ports` names them)."""
    return ReplayServer(site, ports)
