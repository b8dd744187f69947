"""Crash safety: a crawl killed with SIGKILL at several points and resumed with --jobdir ends
with exactly what an uninterrupted crawl gives."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from tests.conftest import FAST, REPO, connect_args

pytestmark = pytest.mark.crawl

# Kill each run once it has opened its run row and added this many captures (a batch may add
# up to NEWSMIRROR_BATCH_SIZE at once, so points are counted from each run's own start).
KILL_POINTS = (1, 40, 80)


def _summary(db: Path) -> dict[str, Any]:
    archive = sqlite_utils.Database(db)
    return {
        "articles": set(
            archive.execute("SELECT key, content_hash, mirrors, version_count FROM articles")
        ),
        "versions": set(archive.execute("SELECT article_key, content_hash, hosts FROM versions")),
        # What each page and story gave on each host (a page fetched twice across a kill
        # is one fact, not two).
        "outcomes": set(
            archive.execute("SELECT coalesce(article_key, url), host, outcome FROM captures")
        ),
        "integrity": archive.execute("PRAGMA integrity_check").fetchone()[0],
    }


def _count(db: Path, table: str) -> int:
    try:
        query = f"SELECT count(*) FROM {table}"  # noqa: S608 - a table name from this file
        return int(sqlite_utils.Database(db).execute(query).fetchone()[0])
    except Exception:  # noqa: BLE001 - not created yet, or mid-migration
        return 0


def test_killed_and_resumed_crawl_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    with serve(build_site(ReplayConfig(stories=120))) as server:
        # Nothing rechecked, so a resumed run asks exactly what was left to ask.
        base = [sys.executable, "-m", "crawler", "crawl", "presstv", *connect_args(server)]
        base += [*FAST, "--recheck-days", "0", "--set", "DOWNLOAD_DELAY=0.01"]
        reference = tmp_path / "reference.db"
        done = subprocess.run(
            [*base, "--db", str(reference)], cwd=REPO, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr

        db, jobdir = tmp_path / "killed.db", tmp_path / "job"
        resumed = [*base, "--db", str(db), "--jobdir", str(jobdir)]
        for runs_before, point in enumerate(KILL_POINTS):
            start = _count(db, "captures")
            crawl = subprocess.Popen(
                resumed, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 90
            while (
                (_count(db, "crawl_runs") <= runs_before or _count(db, "captures") < start + point)
                and crawl.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            crawl.send_signal(signal.SIGKILL)
            crawl.wait()
            assert sqlite_utils.Database(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        final = subprocess.run(resumed, cwd=REPO, capture_output=True, text=True, check=False)
        assert final.returncode == 0, final.stderr

    got, want = _summary(db), _summary(reference)
    for name in want:
        missing = want[name] - got[name] if isinstance(want[name], set) else None
        extra = got[name] - want[name] if isinstance(want[name], set) else None
        assert got[name] == want[name], (name, sorted(missing or [])[:10], sorted(extra or [])[:10])
    runs = [
        row[0]
        for row in sqlite_utils.Database(db).execute("SELECT status FROM crawl_runs ORDER BY id")
    ]
    assert runs == ["interrupted"] * len(KILL_POINTS) + ["finished"]


def test_a_jobdir_torn_by_a_kill_during_close_still_resumes(tmp_path: Path) -> None:
    """A kill while Scrapy writes its queue state at close leaves it torn: the next run
    must still start, and finish the crawl."""
    jobdir = tmp_path / "job"
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / "requests.queue" / "active.json").write_text('{"0": ', encoding="utf-8")
    (jobdir / "spider.state").write_bytes(b"\x80\x04")  # a pickle cut short
    db = tmp_path / "torn.db"
    with serve(build_site(ReplayConfig(stories=20))) as server:
        args = [sys.executable, "-m", "crawler", "crawl", "presstv", *connect_args(server)]
        args += [*FAST, "--db", str(db), "--jobdir", str(jobdir)]
        result = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sqlite_utils.Database(db).table("articles").count > 0
