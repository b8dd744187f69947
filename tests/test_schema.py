"""The migrations build every table and column the spec names, once, with WAL and FTS5."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from crawler.storage import Store
from crawler.storage.schema import MIGRATIONS

SPEC_COLUMNS = {
    "articles": [
        "key", "site", "source_id", "canonical_url", "title", "lead", "body", "section",
        "published_at", "modified_at", "authors", "tags", "image_url", "image_caption",
        "language", "word_count", "content_hash", "first_seen_at", "last_seen_at", "mirrors",
        "version_count", "extraction", "duplicate_of", "url", "host", "field_sources",
    ],
    "versions": [
        "id", "article_key", "content_hash", "title", "body", "hosts", "first_seen_at",
        "last_seen_at", "lead", "section", "published_at", "modified_at", "authors", "tags",
        "image_url", "image_caption", "language", "word_count", "extraction", "canonical_url",
        "field_sources", "url",
    ],
    "article_hosts": [
        "article_key", "host", "url", "content_hash", "first_seen_at", "last_seen_at",
        "last_checked_at", "last_status", "last_outcome",
    ],
    "captures": [
        "id", "run_id", "url", "requested_url", "host", "fetched_at", "status", "outcome",
        "page_type", "article_key", "content_hash", "raw_sha256", "error", "headers",
        "content_type",
    ],
    "raw_pages": [
        "sha256", "body", "compression", "size", "content_type", "headers", "first_seen_at",
    ],
    "mirrors": ["host", "site", "role", "state", "last_checked_at", "last_ok_at", "detail"],
    "crawl_runs": [
        "id", "site", "started_at", "finished_at", "status", "stats", "params", "error",
    ],
}  # fmt: skip
PRIMARY_KEYS = {
    "articles": ["key"],
    "versions": ["id"],
    "article_hosts": ["article_key", "host"],
    "captures": ["id"],
    "raw_pages": ["sha256"],
    "mirrors": ["host"],
    "crawl_runs": ["id"],
}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    Store(path).close()
    return path


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_migrations_create_every_spec_column(db_path: Path, table: str) -> None:
    db = sqlite_utils.Database(db_path)
    assert db.table(table).exists()
    assert set(SPEC_COLUMNS[table]) <= set(db.table(table).columns_dict)
    assert db.table(table).pks == PRIMARY_KEYS[table]


def test_migrations_create_the_indexes_queries_rely_on(db_path: Path) -> None:
    db = sqlite_utils.Database(db_path)
    capture_indexes = {tuple(index.columns) for index in db.table("captures").indexes}
    assert {("article_key",), ("host", "outcome"), ("run_id",)} <= capture_indexes
    unique = {tuple(i.columns) for i in db.table("versions").indexes if i.unique}
    assert ("article_key", "content_hash") in unique


def test_articles_have_an_fts5_index_with_triggers(db_path: Path) -> None:
    db = sqlite_utils.Database(db_path)
    assert db.table("articles").detect_fts() == "articles_fts"
    assert "fts5" in db.table("articles_fts").schema.lower()
    triggers = {trigger.name for trigger in db.table("articles").triggers}
    assert {"articles_ai", "articles_ad", "articles_au"} <= triggers


def test_reopening_does_not_reapply_migrations(db_path: Path) -> None:
    def tables(db: sqlite_utils.Database) -> list[str]:
        # sqlite_stat* hold the planner's statistics (PRAGMA optimize), not our schema.
        return [line for line in db.schema.splitlines() if "sqlite_stat" not in line]

    db = sqlite_utils.Database(db_path)
    applied = [m.name for m in MIGRATIONS.applied(db)]
    schema = tables(db)
    db.close()
    Store(db_path).close()
    db = sqlite_utils.Database(db_path)
    assert [m.name for m in MIGRATIONS.applied(db)] == applied
    assert not MIGRATIONS.pending(db)
    assert tables(db) == schema


def test_database_uses_wal_normal_sync_and_a_busy_timeout(tmp_path: Path) -> None:
    with Store(tmp_path / "news.db") as store:
        conn = store.db.conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_readonly_store_cannot_be_written_through_sqlite(db_path: Path) -> None:
    with Store(db_path, readonly=True) as store, pytest.raises(sqlite3.OperationalError):
        store.db.conn.execute("INSERT INTO mirrors (host, state) VALUES ('x', 'up')")
