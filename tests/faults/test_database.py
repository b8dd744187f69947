"""Database faults: a full disk, a read-only file, a writer holding the lock past busy_timeout.
Each gives one clear line on stderr, a non-zero exit, no traceback and no partial rows."""

from __future__ import annotations

import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from tests.conftest import FAST, REPO
from tests.faults.conftest import TIMEOUT, small_site
from tests.faults.server import FaultServer

pytestmark = pytest.mark.crawl


def _run(
    server: FaultServer, db: Path, limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    def cap_file_size() -> None:  # runs in the child: writes past the cap fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # type: ignore[arg-type]

    args = [sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(db)]
    return subprocess.run(
        [*args, *server.connect_args(), *FAST, *TIMEOUT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=cap_file_size if limit else None,
    )


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert any(line.startswith("newsmirror:") for line in result.stderr.splitlines()), (
        result.stderr[-2000:]
    )


def _consistent(db: Path) -> sqlite_utils.Database:
    archive = sqlite_utils.Database(db)
    assert archive.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if archive.table("versions").exists():
        # No story without its version, no version without its story: no half-written batch.
        orphans = archive.execute(
            "SELECT count(*) FROM articles WHERE key NOT IN (SELECT article_key FROM versions)"
        ).fetchone()[0]
        assert orphans == 0
        lost = archive.execute(
            "SELECT count(*) FROM versions WHERE article_key NOT IN (SELECT key FROM articles)"
        ).fetchone()[0]
        assert lost == 0
    return archive


@pytest.fixture(scope="module")
def server() -> object:
    with FaultServer(small_site(), {}) as running:
        yield running


def test_disk_full_fails_the_run_cleanly(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    result = _run(server, db, limit=400 * 1024)
    _one_clear_line(result)
    _consistent(db)


def test_database_locked_beyond_busy_timeout_fails_the_run(
    server: FaultServer, tmp_path: Path
) -> None:
    db = tmp_path / "locked.db"
    sqlite_utils.Database(db).execute("CREATE TABLE held (x)")  # a database, not yet ours
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = _run(server, db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _one_clear_line(result)
    assert "lock" in result.stderr.lower()
    _consistent(db)


def test_read_only_database_fails_the_run(server: FaultServer, tmp_path: Path) -> None:
    db = tmp_path / "readonly.db"
    first = _run(server, db)
    assert first.returncode == 0, first.stderr
    before = _consistent(db).execute("SELECT count(*) FROM captures").fetchone()[0]
    readonly = tmp_path / "ro"
    readonly.mkdir()
    shutil.copy(db, readonly / "readonly.db")
    target = readonly / "readonly.db"
    # root ignores file modes; an immutable flag binds even root, where the filesystem has it.
    made = subprocess.run(["chattr", "+i", str(target)], capture_output=True, check=False)
    if made.returncode != 0:
        target.chmod(0o444)
        readonly.chmod(0o555)
        if sys.platform != "win32" and __import__("os").geteuid() == 0:
            pytest.skip("running as root without chattr +i: no way to make a file read-only")
    try:
        result = _run(server, target)
    finally:
        subprocess.run(["chattr", "-i", str(target)], capture_output=True, check=False)
        readonly.chmod(0o755)
    _one_clear_line(result)
    after = _consistent(target).execute("SELECT count(*) FROM captures").fetchone()[0]
    assert after == before
