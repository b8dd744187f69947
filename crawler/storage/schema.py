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


@MIGRATIONS(name="0002_incremental_runs")
def add_incremental_state(db: Database) -> None:
    """What scheduled runs need to ask less and remember more.

    `story_checks`: each host's last answer for each story, served or not (a lagging mirror's
    404 included), with the validators of its last 200 for conditional requests; an
    incremental run skips stories every host has answered for. No foreign key: a host may
    answer for a story before any host has served it. `page_validators`: the same for
    home, feed, sitemap and listing URLs. `mirror_events`: every change of a host's state,
    a dated timeline of each outlet's domains. `mirror_candidates`: hosts outside the profile
    that look like mirrors, for a person to judge.
    """
    db.table("story_checks").create(
        {
            "article_key": str,
            "host": str,
            "url": str,
            "last_checked_at": str,
            "last_status": int,
            "last_outcome": str,
            "etag": str,
            "last_modified": str,
        },
        pk=("article_key", "host"),
        not_null=["url", "last_checked_at", "last_outcome"],
    )
    db.table("story_checks").create_index(["host"])
    db.table("page_validators").create(
        {"url": str, "checked_at": str, "etag": str, "last_modified": str, "raw_sha256": str},
        pk="url",
        not_null=["checked_at"],
    )
    db.table("mirror_events").create(
        {
            "id": int,
            "host": str,
            "site": str,
            "at": str,
            "old_state": str,
            "new_state": str,
            "detail": str,
            "run_id": int,
        },
        pk="id",
        not_null=["host", "at", "new_state"],
    )
    db.table("mirror_events").create_index(["host", "at"])
    db.table("mirror_candidates").create(
        {
            "host": str,
            "site": str,
            "evidence": str,
            "example_url": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "times_seen": int,
        },
        pk="host",
        not_null=["site", "evidence", "first_seen_at", "last_seen_at"],
    )


# The near-duplicate index of crawler.dedupe (its module docstring has the rule). The bands
# table's primary key leads with the publication-time bucket, then the band hash: candidates
# must be published within the window, so a lookup only reads the few buckets around the
# story, and a crawl moving through time works on the same few pages however large the table
# grows. WITHOUT ROWID keeps each entry to one b-tree cell. story_id has no foreign key on
# purpose: SQLite would check it on every insert, and a rebuild deletes the bands first.
_NEAR_DUPLICATE_TABLES = (
    """
    CREATE TABLE near_duplicate_config (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      threshold REAL NOT NULL,
      shingle_words INTEGER NOT NULL,
      num_perm INTEGER NOT NULL,
      bands INTEGER NOT NULL,
      band_rows INTEGER NOT NULL,
      window_days REAL NOT NULL,
      min_shingles INTEGER NOT NULL,
      method TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE near_duplicate_stories (
      id INTEGER PRIMARY KEY,
      article_key TEXT NOT NULL UNIQUE REFERENCES articles (key),
      content_hash TEXT,
      published_at TEXT,
      published_ts INTEGER,
      bands BLOB
    )
    """,
    """
    CREATE TABLE near_duplicate_bands (
      bucket INTEGER NOT NULL,
      band_hash INTEGER NOT NULL,
      story_id INTEGER NOT NULL,
      PRIMARY KEY (bucket, band_hash, story_id)
    ) WITHOUT ROWID
    """,
    # Relinking the copies of a story whose text changed, and "what republished this story".
    """
    CREATE INDEX idx_articles_duplicate_of ON articles (duplicate_of)
    WHERE duplicate_of IS NOT NULL
    """,
    # "On how many days was this title published": the series rule of crawler.dedupe.
    "CREATE INDEX idx_articles_title ON articles (title)",
)


@MIGRATIONS(name="0003_near_duplicates")
def add_near_duplicate_index(db: Database) -> None:
    """Tables of the near-duplicate index, empty: the first update() indexes every story."""
    # One execute() each: executescript() would commit the migration's transaction midway.
    for statement in _NEAR_DUPLICATE_TABLES:
        db.execute(statement)


@MIGRATIONS(name="0004_capture_delivery_ids")
def add_capture_delivery_ids(db: Database) -> None:
    """A fleet's items carry an id given once by the worker; a capture delivered twice (a
    writer restarted before it acknowledged a batch) is stored once."""
    db.execute("ALTER TABLE captures ADD COLUMN delivery_id TEXT")
    db.execute(
        "CREATE UNIQUE INDEX idx_captures_delivery_id ON captures (delivery_id) "
        "WHERE delivery_id IS NOT NULL"
    )
