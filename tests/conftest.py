"""Shared fixtures: the replay site on loopback and a way to run `newsmirror` in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
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


def recheck_window(site: ReplaySite) -> str:
    """--recheck-days covering a week of the replay site's calendar, whatever day tests run."""
    behind = dt.datetime.now(dt.UTC) - site.at_phase(2).truth.now
    return f"{behind.total_seconds() / 86400 + 7:.3f}"


def crawl_phases(path: Path, server: ReplayServer, site: ReplaySite) -> None:
    """Crawl phase 1, then phase 2 (a day later: edits on the primary, removals, a seizure)."""
    for phase in (1, 2):
        server.set_phase(phase)
        result = run_newsmirror(
            "crawl", "presstv", "--db", str(path), *connect_args(server), *FAST,
            "--recheck-days", recheck_window(site),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr


def crawl_two_phases(path: Path, site: ReplaySite) -> Path:
    """`crawl_phases` on a replay server of its own; returns `path`."""
    with serve(site) as server:
        crawl_phases(path, server, site)
    return path


def export_cli(db: Path, out: Path, *args: str) -> tuple[int, str, str]:
    """`newsmirror export --db DB --out OUT ARGS` in this process: (exit code, stdout, stderr)."""
    result = CliRunner().invoke(main, ["export", "--db", str(db), "--out", str(out), *args])
    return result.exit_code, result.stdout, result.stderr
