"""The storage pipeline writes beside the crawl: a slow write does not stop the fetching."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from tests.conftest import FAST, REPO, connect_args

pytestmark = pytest.mark.crawl

HOLD_SECONDS = 1.5


def _captures(path: Path) -> int:
    with sqlite3.connect(path, timeout=10) as db:
        try:
            return int(db.execute("SELECT count(*) FROM captures").fetchone()[0])
        except sqlite3.OperationalError:
            return 0  # not created yet


def test_the_crawl_goes_on_fetching_while_a_write_waits(tmp_path: Path) -> None:
    site = build_site(ReplayConfig(stories=120))
    path = tmp_path / "a.db"
    with serve(site) as server:
        server.latency = 0.02  # a crawl that lasts long enough to be held up in its middle
        crawl = subprocess.Popen(
            [
                sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(path),
                *connect_args(server), *FAST, "--set", "NEWSMIRROR_BATCH_SIZE=20",
                "--set", "CONCURRENT_REQUESTS_PER_DOMAIN=2", "--page-workers", "0",
            ],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while _captures(path) < 20 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _captures(path) >= 20, "no batch was written"
            # Another writer holds the database: the crawl's next write must wait for it.
            holder = sqlite3.connect(path, timeout=10, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            stored = holder.execute("SELECT count(*) FROM captures").fetchone()[0]
            asked_before = len(server.requests)
            time.sleep(HOLD_SECONDS)
            asked_during = len(server.requests) - asked_before
            holder.execute("ROLLBACK")
            holder.close()
            _, stderr = crawl.communicate(timeout=120)
        finally:
            if crawl.poll() is None:
                crawl.kill()
    assert crawl.returncode == 0, stderr
    # Held for 1.5 s at 2 requests per host at once, 20 ms each: a crawl that waited for its
    # write would have asked next to nothing meanwhile.
    assert asked_during >= 30, asked_during
    db = sqlite_utils.Database(path)
    (stats,) = db.execute("SELECT stats FROM crawl_runs").fetchone()
    assert db["captures"].count > stored
    assert db["captures"].count == json.loads(stats)["pages"]  # nothing lost to the wait
