"""A throwaway redis-server on a free loopback port, for tests, benchmarks and trying a fleet
on one machine. It keeps nothing on disk and stops when the block ends."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import redis


class RedisServerMissingError(RuntimeError):
    """redis-server is not installed (`make test` installs it with apt-get)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Start redis-server on 127.0.0.1 and yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RedisServerMissingError(
            "redis-server is not installed: `make test` installs it (apt-get)"
        )
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="newsmirror-redis-") as workdir:
        args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        server = subprocess.Popen(  # noqa: S603 - the installed redis-server, fixed arguments
            [binary, *args, "--dir", workdir], stdout=subprocess.DEVNULL
        )
        client = redis.Redis(port=port)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            client.close()
            server.terminate()
            server.wait(timeout=10)
