"""Unattended runs: one at a time, killed runs marked, failing runs reported and announced."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlite_utils

from crawler.lock import RunLock
from crawler.replay import ReplayServer
from tests.conftest import FAST, REPO, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl


def _crawl(db: Path, server: ReplayServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_newsmirror("crawl", "presstv", "--db", str(db), *connect_args(server), *FAST, *extra)


def test_a_second_run_on_the_same_database_exits_75(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    db = tmp_path / "a.db"
    assert _crawl(db, replay_server, "--max-pages", "5").returncode == 0
    before = sqlite_utils.Database(db).table("captures").count
    with RunLock(db) as lock:
        lock.acquire("a run in another process")
        result = _crawl(db, replay_server)
    assert result.returncode == 75
    assert "another run holds" in result.stderr
    assert "a run in another process" in result.stderr
    assert sqlite_utils.Database(db).table("captures").count == before


def test_a_lock_left_by_a_killed_run_is_taken_over(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    db = tmp_path / "b.db"
    args = [sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(db)]
    args += [*connect_args(replay_server), *FAST, "--set", "DOWNLOAD_DELAY=0.2"]
    victim = subprocess.Popen(args, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_captures(db)
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    assert Path(f"{db}.lock").exists()
    result = _crawl(db, replay_server)
    assert result.returncode == 0, result.stderr
    runs = list(
        sqlite_utils.Database(db).query("SELECT id, status, error FROM crawl_runs ORDER BY id")
    )
    assert [r["status"] for r in runs] == ["interrupted", "finished"]
    assert "killed" in runs[0]["error"]


def _wait_for_captures(db: Path, at_least: int = 1, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                count = (
                    sqlite_utils.Database(db).execute("SELECT count(*) FROM captures").fetchone()[0]
                )
            except Exception:  # noqa: BLE001 - the schema may not exist yet
                count = 0
            if count >= at_least:
                return
        time.sleep(0.05)
    raise AssertionError("the crawl wrote no capture in time")


def _undated_profile(tmp_path: Path) -> Path:
    """The Press TV profile without the visible-date fallback: undated pages lack a date."""
    text = resources.files("crawler.sites").joinpath("presstv.toml").read_text("utf-8")
    lines = [
        line
        for line in text.splitlines()
        if not line.startswith(("published_at =", "date_formats ="))
    ]
    path = tmp_path / "presstv-undated.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:  # the name http.server dispatches to
        length = int(self.headers["Content-Length"])
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_run_missing_required_fields_fails_and_says_so(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    hook = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    marker = tmp_path / "failed.txt"
    command = (
        f'{sys.executable} -c "import os, pathlib; pathlib.Path({str(marker)!r})'
        ".write_text(os.environ['NEWSMIRROR_STATUS'] + ' ' + os.environ['NEWSMIRROR_REASON'])\""
    )
    db = tmp_path / "c.db"
    try:
        result = run_newsmirror(
            "crawl",
            str(_undated_profile(tmp_path)),
            "--db",
            str(db),
            *connect_args(replay_server),
            *FAST,
            "--max-missing-share",
            "0.05",
            "--on-failure",
            command,
            "--webhook",
            f"http://127.0.0.1:{hook.server_port}/hook",
        )
    finally:
        hook.shutdown()
        hook.server_close()
    assert result.returncode == 1
    assert "published_at missing on" in result.stderr
    (run,) = sqlite_utils.Database(db).query("SELECT status, error, stats FROM crawl_runs")
    assert run["status"] == "failed"
    assert "layout" in run["error"]
    stats = json.loads(run["stats"])
    assert stats["fields_complete"]["title"] == 1.0
    assert stats["fields_complete"]["published_at"] < 0.95
    assert marker.read_text().startswith("failed published_at missing")
    assert _Hook.received
    assert _Hook.received[-1]["status"] == "failed"


def test_the_same_run_passes_with_the_default_share(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    result = run_newsmirror(
        "crawl",
        str(_undated_profile(tmp_path)),
        "--db",
        str(tmp_path / "d.db"),
        *connect_args(replay_server),
        *FAST,
    )
    assert result.returncode == 0, result.stderr


def test_lock_file_names_its_holder(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with RunLock(db) as lock:
        lock.acquire("crawl presstv")
        info = json.loads(Path(f"{db}.lock").read_text())
    assert info["pid"] == os.getpid()
    assert info["purpose"] == "crawl presstv"
