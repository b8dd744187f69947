"""SIGKILL at random points of a crawl and of an export: the database stays consistent, nothing
is stored twice, and a resumed crawl ends where an uninterrupted one does.

Trials per test: NEWSMIRROR_CRASH_TRIALS (default 20, as the issue asks). Kill points are
drawn from a seeded random stream (NEWSMIRROR_CRASH_SEED), so a failure can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from tests.conftest import FAST, REPO
from tests.faults.conftest import CRASH_TRIALS, Tally, small_site
from tests.faults.server import FaultServer
from tests.test_resume import _count, _summary

pytestmark = pytest.mark.crawl

SEED = int(os.environ.get("NEWSMIRROR_CRASH_SEED", "6"))


def _no_duplicates(db: Path) -> None:
    archive = sqlite_utils.Database(db)
    assert archive.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if archive.table("versions").exists():
        (dupes,) = archive.execute(
            "SELECT count(*) FROM (SELECT 1 FROM versions GROUP BY article_key, content_hash "
            "HAVING count(*) > 1)"
        ).fetchone()
        assert dupes == 0


def test_sigkill_during_crawl_then_resume_equals_uninterrupted(
    tmp_path: Path, trials: Tally
) -> None:
    chance = random.Random(SEED)
    with FaultServer(small_site(stories=40), {}) as server:
        base = [sys.executable, "-m", "crawler", "crawl", "presstv", *server.connect_args()]
        base += [*FAST, "--recheck-days", "0", "--set", "DOWNLOAD_DELAY=0.01"]
        reference = tmp_path / "reference.db"
        done = subprocess.run(
            [*base, "--db", str(reference)], cwd=REPO, capture_output=True, check=False
        )
        assert done.returncode == 0, done.stderr
        total = _count(reference, "captures")
        db, jobdir = tmp_path / "killed.db", tmp_path / "job"
        resumed = [*base, "--db", str(db), "--jobdir", str(jobdir)]
        for runs_before in range(CRASH_TRIALS):
            trials.extra_trials += 1
            start = _count(db, "captures")
            point = chance.randint(0, max(1, (total - start) // 3))
            crawl = subprocess.Popen(
                resumed, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 30
            while (
                (_count(db, "crawl_runs") <= runs_before or _count(db, "captures") < start + point)
                and crawl.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            crawl.send_signal(signal.SIGKILL)
            crawl.wait()
            _no_duplicates(db)
            trials.extra_passed += 1
        final = subprocess.run(resumed, cwd=REPO, capture_output=True, text=True, check=False)
        assert final.returncode == 0, final.stderr
    assert _summary(db) == _summary(reference)


def test_sigkill_during_export_leaves_the_database_and_a_rerun_whole(
    tmp_path: Path, trials: Tally
) -> None:
    chance = random.Random(SEED + 1)
    db = tmp_path / "archive.db"
    with FaultServer(small_site(stories=40), {}) as server:
        args = [sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(db)]
        done = subprocess.run(
            [*args, *server.connect_args(), *FAST], cwd=REPO, capture_output=True, check=False
        )
    assert done.returncode == 0, done.stderr
    before = _summary(db)
    out = tmp_path / "stories.jsonl"
    export = [sys.executable, "-m", "crawler", "export", "--format", "jsonl", "--db", str(db)]
    export += ["--out", str(out), "--overwrite"]
    for _ in range(CRASH_TRIALS):
        trials.extra_trials += 1
        running = subprocess.Popen(
            export, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(chance.uniform(0.2, 1.5))
        running.send_signal(signal.SIGKILL)
        running.wait()
        assert _summary(db) == before  # an export never writes the archive
        trials.extra_passed += 1
    rerun = subprocess.run(export, cwd=REPO, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    keys = [json.loads(line)["key"] for line in lines]
    assert len(keys) == len(set(keys)) == len(before["articles"])
