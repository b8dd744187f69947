"""Crawl options over the replay site: mirror policies, date window, page budget, scrapy crawl."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayServer, ReplaySite
from tests.conftest import FAST, REPO, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING = "www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _crawl(db: Path, server: ReplayServer, *extra: str) -> sqlite_utils.Database:
    result = run_newsmirror(
        "crawl", "presstv", "--db", str(db), *connect_args(server), *FAST, *extra
    )
    assert result.returncode == 0, result.stderr
    return sqlite_utils.Database(db)


def _mirrors(db: sqlite_utils.Database) -> dict[str, list[str]]:
    return {
        row["key"]: json.loads(row["mirrors"])
        for row in db.query("SELECT key, mirrors FROM articles")
    }


def test_first_policy_fetches_each_story_from_the_primary_only(
    tmp_path: Path, replay_server: ReplayServer, replay_site: ReplaySite
) -> None:
    db = _crawl(tmp_path / "a.db", replay_server, "--mirror-policy", "first")
    mirrors = _mirrors(db)
    assert set(mirrors) == {s.key for s in replay_site.stories}
    assert set(map(tuple, mirrors.values())) == {(PRIMARY,)}
    (row,) = db.query(
        "SELECT count(*) AS n FROM captures WHERE page_type = 'article' AND host != ?", [PRIMARY]
    )
    assert row["n"] == 0


def test_first_policy_falls_back_to_an_alternate_when_the_primary_is_down(
    tmp_path: Path, replay_server: ReplayServer, replay_site: ReplaySite
) -> None:
    routes = [r for r in replay_server.connect_to() if not r.startswith(PRIMARY + "=")]
    routes.append(f"{PRIMARY}=http://127.0.0.1:{_closed_port()}")
    args = [arg for route in routes for arg in ("--connect-to", route)]
    db_path = tmp_path / "b.db"
    result = run_newsmirror(
        "crawl",
        "presstv",
        "--db",
        str(db_path),
        "--mirror-policy",
        "first",
        *args,
        *FAST,
        "--set",
        "RETRY_TIMES=0",
    )
    assert result.returncode == 0, result.stderr
    db = sqlite_utils.Database(db_path)
    mirrors = _mirrors(db)
    assert set(mirrors) == {s.key for s in replay_site.stories}
    assert set(map(tuple, mirrors.values())) == {(MIRROR,)}
    assert db.table("mirrors").get(PRIMARY)["state"] == "down"
    # The story rows still name the primary: identity does not depend on who served it.
    urls = [row["canonical_url"] for row in db.query("SELECT canonical_url FROM articles")]
    assert all(url.startswith(f"https://{PRIMARY}/") for url in urls)


def test_since_and_until_keep_only_stories_of_those_days(
    tmp_path: Path, replay_server: ReplayServer, replay_site: ReplaySite
) -> None:
    days = sorted({s.published.date() for s in replay_site.stories})
    since, until = days[3], days[8]
    db = _crawl(tmp_path / "c.db", replay_server, "--since", str(since), "--until", str(until))
    wanted = {s.key for s in replay_site.stories if since <= s.published.date() <= until}
    assert wanted
    assert set(_mirrors(db)) == wanted
    (outside,) = db.query(
        "SELECT count(*) AS n FROM captures WHERE page_type = 'article' "
        "AND article_key NOT IN (SELECT key FROM articles)"
    )
    assert outside["n"] == 0, "stories outside the window are not even fetched"


def test_max_pages_bounds_the_run(tmp_path: Path, replay_server: ReplayServer) -> None:
    db = _crawl(tmp_path / "d.db", replay_server, "--max-pages", "12")
    assert 0 < db.table("captures").count <= 12
    (run,) = db.query("SELECT status FROM crawl_runs")
    assert run["status"] == "finished"


def test_scrapy_crawl_presstv_works_from_the_repo_root(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    db_path = tmp_path / "e.db"
    settings = {
        "NEWSMIRROR_DB": str(db_path),
        "NEWSMIRROR_CONNECT_TO": ",".join(replay_server.connect_to()),
        "AUTOTHROTTLE_ENABLED": "0",
        "DOWNLOAD_DELAY": "0",
        "NEWSMIRROR_MAX_PAGES": "150",
        "NEWSMIRROR_PROGRESS": "off",
        "LOG_LEVEL": "WARNING",
    }
    args = [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "presstv", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    db = sqlite_utils.Database(db_path)
    assert db.table("articles").count > 0
    assert "ScrapyDeprecationWarning" not in result.stderr


def test_sigusr1_prints_where_a_crawl_is_and_the_crawl_goes_on(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    db = tmp_path / "dump.db"
    args = ["crawl", "presstv", "--db", str(db), "--max-pages", "40", *connect_args(replay_server)]
    slow = [*FAST, "--set", "DOWNLOAD_DELAY=0.1"]
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler", *args, *slow],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not db.exists() and time.monotonic() < deadline:  # the handler is set by then
            time.sleep(0.05)
        crawl.send_signal(signal.SIGUSR1)
        _, errors = crawl.communicate(timeout=120)
    finally:
        if crawl.poll() is None:
            crawl.kill()
            crawl.communicate()
    assert crawl.returncode == 0, errors[-2000:]
    assert "most recent call first" in errors  # every thread's stack, the run unharmed
    assert sqlite_utils.Database(db)["captures"].count == 40
