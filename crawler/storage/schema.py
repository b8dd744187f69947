"""The database schema: tables, indexes, triggers and the full-text index, as ordered migrations."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("newsmirror")

# Columns holding JSON text. Lists are always stored as a list, never NULL.
JSON_LIST_COLUMNS = ("authors", "tags", "mirrors", "hosts")
FTS_COLUMNS = ("title", "lead", "body")
# Porter stemming so `sanction` finds `sanctions`; diacritics folded so `Tehran` finds
# `Tehrān`. Both only widen matches; bm25 still ranks exact words the same way.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

# What extraction gives a story and what every version keeps, so a version alone can
# rebuild the story row.
EXTRACTED_COLUMNS: dict[str, type] = {
    "canonical_url": str,
    "title": str,
    "lead": str,
    "body": str,
    "section": str,
    "published_at": str,
    "modified_at": str,
    "authors": str,
    "tags": str,
    "image_url": str,
    "image_caption": str,
    "language": str,
    "word_count": int,
    "extraction": str,
    "field_sources": str,
}

# External-content FTS5 needs its own triggers. sqlite-utils' enable_fts(create_triggers=True)
# re-indexes a row on every UPDATE; these skip updates that leave title, lead and body
# alone, which is most of them (a re-crawl only moves last_seen_at and mirrors).
_FTS_TRIGGERS = """
CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
  INSERT INTO articles_fts (rowid, title, lead, body)
  VALUES (new.rowid, new.title, new.lead, new.body);
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
  INSERT INTO articles_fts (articles_fts, rowid, title, lead, body)
  VALUES ('delete', old.rowid, old.title, old.lead, old.body);
END;
CREATE TRIGGER articles_au AFTER UPDATE OF title, lead, body ON articles
WHEN old.title IS NOT new.title OR old.lead IS NOT new.lead OR old.body IS NOT new.body
BEGIN
  INSERT INTO articles_fts (articles_fts, rowid, title, lead, body)
  VALUES ('delete', old.rowid, old.title, old.lead, old.body);
  INSERT INTO articles_fts (rowid, title, lead, body)
  VALUES (new.rowid, new.title, new.lead, new.body);
END;
"""


@MIGRATIONS(name="0001_initial")
def create_initial_schema(db: Database) -> None:
    """Every table of the first release."""
    db.table("crawl_runs").create(
        {
            "id": int,
            "site": str,
            "started_at": str,
            "finished_at": str,
            "status": str,
            "params": str,
            "stats": str,
            "error": str,
        },
        pk="id",
        not_null=["site", "started_at", "status"],
    )
    db.table("mirrors").create(
        {
            "host": str,
            "site": str,
            "role": str,
            "state": str,
            "last_checked_at": str,
            "last_ok_at": str,
            "detail": str,
        },
        pk="host",
        not_null=["state"],
        defaults={"state": "unknown"},
    )
    db.table("raw_pages").create(
        {
            "sha256": str,
            "body": bytes,
            "compression": str,
            "size": int,
            "content_type": str,
            "headers": str,
            "first_seen_at": str,
        },
        pk="sha256",
        not_null=["body", "compression", "size", "first_seen_at"],
    )
    db.table("articles").create(
        {
            "key": str,
            "site": str,
            "source_id": str,
            **EXTRACTED_COLUMNS,
            "content_hash": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "mirrors": str,
            "version_count": int,
            "duplicate_of": str,
            "host": str,
            "url": str,
        },
        pk="key",
        not_null=[
            "site",
            "authors",
            "tags",
            "content_hash",
            "first_seen_at",
            "last_seen_at",
            "mirrors",
            "version_count",
        ],
    )
    db.table("articles").create_index(["published_at"])
    db.table("versions").create(
        {
            "id": int,
            "article_key": str,
            "content_hash": str,
            **EXTRACTED_COLUMNS,
            "hosts": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "url": str,
        },
        pk="id",
        foreign_keys=[("article_key", "articles", "key")],
        not_null=[
            "article_key",
            "content_hash",
            "authors",
            "tags",
            "hosts",
            "first_seen_at",
            "last_seen_at",
        ],
    )
    db.table("versions").create_index(["article_key", "content_hash"], unique=True)
    db.table("article_hosts").create(
        {
            "article_key": str,
            "host": str,
            "url": str,
            "content_hash": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "last_checked_at": str,
            "last_status": int,
            "last_outcome": str,
        },
        pk=("article_key", "host"),
        foreign_keys=[("article_key", "articles", "key")],
        not_null=[
            "url",
            "content_hash",
            "first_seen_at",
            "last_seen_at",
            "last_checked_at",
            "last_outcome",
        ],
    )
    db.table("captures").create(
        {
            "id": int,
            "run_id": int,
            "url": str,
            "requested_url": str,
            "host": str,
            "fetched_at": str,
            "status": int,
            "outcome": str,
            "page_type": str,
            "article_key": str,
            "content_hash": str,
            "raw_sha256": str,
            "error": str,
            "content_type": str,
            "headers": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs", "id"), ("raw_sha256", "raw_pages", "sha256")],
        not_null=["run_id", "url", "host", "fetched_at", "outcome"],
    )
    db.table("captures").create_index(["article_key"])
    db.table("captures").create_index(["host", "outcome"])
    db.table("captures").create_index(["run_id"])
    # Partial: "the last errors" reads a handful of rows, not every capture ever made.
    db.execute("CREATE INDEX idx_captures_errors ON captures (id) WHERE error IS NOT NULL")
    db.table("articles").enable_fts(list(FTS_COLUMNS), tokenize=FTS_TOKENIZER)
    db.executescript(_FTS_TRIGGERS)
