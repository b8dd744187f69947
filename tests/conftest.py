"""Shared fixtures: the replay site on loopback and a way to run `newsmirror` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.replay import ReplayConfig, ReplayServer, ReplaySite, build_site, serve

REPO = Path(__file__).resolve().parent.parent
# Test settings: no delays or throttling, and a safety net so a stuck crawl still ends.
FAST = [
    "--progress",
    "off",
    "--set",
    "AUTOTHROTTLE_ENABLED=false",
    "--set",
    "DOWNLOAD_DELAY=0",
    "--set",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    "--set",
    "CLOSESPIDER_TIMEOUT=120",
]


@pytest.fixture(scope="session")
def replay_site() -> ReplaySite:
    return build_site(ReplayConfig())


@pytest.fixture(scope="session")
def replay_server(replay_site: ReplaySite) -> Iterator[ReplayServer]:
    with serve(replay_site) as server:
        yield server


def connect_args(server: ReplayServer) -> list[str]:
    args: list[str] = []
    for route in server.connect_to():
        args += ["--connect-to", route]
    return args


def run_newsmirror(
    *args: str, cwd: Path = REPO, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process (each crawl needs its own Twisted reactor)."""
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
