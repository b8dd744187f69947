"""The archive database: opening it, writing captures as stories and versions, and reading it back."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

from sqlite_utils import Database

from crawler.clock import to_utc, utc_now
from crawler.dedupe import NearDuplicateIndex, Sketch, content_hash_and_word_count
from crawler.items import ARTICLE, GONE, LISTING, OUTCOMES, UNCHANGED, Capture, MirrorCandidate
from crawler.sql_params import chunks, marks
from crawler.storage.schema import EXTRACTED_COLUMNS, MIGRATIONS
from crawler.storage.stories import HostRecord, Story, Version, sort_hosts
from crawler.storage.wal import Checkpointer, wal_bytes

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the standard library's module, backported (Scrapy needs it too before 3.14)
    from backports import zstd

BUSY_TIMEOUT_MS = 10_000
CACHE_SIZE = -8_192  # KiB when negative: a batch's FTS and index pages stay in memory
WAL_CHECKPOINT_PAGES = 10_000  # checkpointed in a thread (crawler/storage/wal.py) past this
# SQLite's own checkpoint in the commit, for a writer that leaves that thread no time.
WAL_AUTOCHECKPOINT_PAGES = 4 * WAL_CHECKPOINT_PAGES
RECENT = 10  # runs and errors that stats() reports
# New raw pages are zstd frames (RFC 8878, content size in the header): at level 3 about twice
# as fast as zlib's default level 6 on news pages, and smaller. Pages stored as zlib by
# earlier releases stay as they are; `compression` says how to read each row.
COMPRESSION = "zstd"
ZSTD_LEVEL = 3
DECOMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "zstd": zstd.decompress,
    "zlib": zlib.decompress,
}
ROLES = ("primary", "alternate", "retired")
STATES = ("up", "down", "seized", "redirecting", "unknown")
RUN_STATUSES = ("running", "finished", "failed", "interrupted")
GONE_STATUSES = (404, 410)
# bm25 weights for title, lead, body: a word in the headline says more than one in the text.
RANK_WEIGHTS = (10.0, 4.0, 1.0)
SNIPPET_TOKENS = 16

_FIELDS = tuple(EXTRACTED_COLUMNS)
_ARTICLE_COLUMNS = (
    "key",
    "site",
    "source_id",
    *_FIELDS,
    "content_hash",
    "first_seen_at",
    "last_seen_at",
    "mirrors",
    "version_count",
    "duplicate_of",
    "host",
    "url",
)
_VERSION_COLUMNS = (
    "article_key",
    "content_hash",
    *_FIELDS,
    "hosts",
    "first_seen_at",
    "last_seen_at",
    "url",
)
_HOST_COLUMNS = (
    "article_key",
    "host",
    "url",
    "content_hash",
    "first_seen_at",
    "last_seen_at",
    "last_checked_at",
    "last_status",
    "last_outcome",
)
_CAPTURE_COLUMNS = (
    "run_id",
    "url",
    "requested_url",
    "host",
    "fetched_at",
    "status",
    "outcome",
    "page_type",
    "article_key",
    "content_hash",
    "raw_sha256",
    "error",
    "content_type",
    "headers",
    "delivery_id",
)


def _insert_sql(table: str, columns: Sequence[str], suffix: str = "", verb: str = "INSERT") -> str:
    """Statement text from the constant table and column names above; values stay parameters."""
    names = ", ".join(columns)
    return f"{verb} INTO {table} ({names}) VALUES ({marks(columns)}){suffix}"


def _upsert_sql(
    table: str,
    columns: Sequence[str],
    conflict: Sequence[str],
    overrides: dict[str, str] | None = None,
) -> str:
    """INSERT ... ON CONFLICT DO UPDATE of every column but the key (or its override)."""
    overrides = overrides or {}
    updates = ", ".join(
        f"{c} = {overrides.get(c, f'excluded.{c}')}" for c in columns if c not in conflict
    )
    return _insert_sql(
        table, columns, f" ON CONFLICT({', '.join(conflict)}) DO UPDATE SET {updates}"
    )


# duplicate_of is set by near-duplicate detection, which may run apart from the crawl.
_UPSERT_ARTICLE = _upsert_sql(
    "articles",
    _ARTICLE_COLUMNS,
    ["key"],
    {"duplicate_of": "COALESCE(excluded.duplicate_of, articles.duplicate_of)"},
)
# A batch's rebuilt story rows go through a temporary table of this connection (never in the
# database file), so that one statement moves them into articles: SQLite then indexes every
# text for FTS in a single call that holds no GIL, while a thread works out the texts' MinHash
# bands, instead of taking the GIL back after each row.
_STAGED = "temp.staged_articles"
_CREATE_STAGED = f"CREATE TEMP TABLE IF NOT EXISTS staged_articles ({', '.join(_ARTICLE_COLUMNS)})"
_STAGE_ARTICLE = _insert_sql(_STAGED, _ARTICLE_COLUMNS)
_UPSERT_STAGED = _UPSERT_ARTICLE.replace(
    f"VALUES ({', '.join('?' for _ in _ARTICLE_COLUMNS)})",
    f"SELECT {', '.join(_ARTICLE_COLUMNS)} FROM {_STAGED} WHERE true ORDER BY rowid",  # noqa: S608
)
_UPDATE_ARTICLE_SEEN = """
UPDATE articles SET mirrors = ?, version_count = ?, first_seen_at = ?, last_seen_at = ?,
  host = ?, url = ?, duplicate_of = COALESCE(?, duplicate_of)
WHERE key = ?
"""
_INSERT_VERSION = _insert_sql("versions", _VERSION_COLUMNS)
_UPDATE_VERSION = "UPDATE versions SET hosts = ?, first_seen_at = ?, last_seen_at = ? WHERE id = ?"
_UPSERT_HOST = _upsert_sql("article_hosts", _HOST_COLUMNS, ["article_key", "host"])
_INSERT_CAPTURE = _insert_sql("captures", _CAPTURE_COLUMNS)
# The newest answer wins (captures may arrive out of order). Validators come from a 200 and
# survive a 304; any other answer means the page we had is not what the host serves now.
_UPSERT_CHECK = """
INSERT INTO story_checks
  (article_key, host, url, last_checked_at, last_status, last_outcome, etag, last_modified)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(article_key, host) DO UPDATE SET
  url = excluded.url, last_checked_at = excluded.last_checked_at,
  last_status = excluded.last_status, last_outcome = excluded.last_outcome,
  etag = CASE excluded.last_status WHEN 304 THEN story_checks.etag ELSE excluded.etag END,
  last_modified = CASE excluded.last_status
    WHEN 304 THEN story_checks.last_modified ELSE excluded.last_modified END
WHERE excluded.last_checked_at >= story_checks.last_checked_at
"""
_UPSERT_PAGE_VALIDATORS = """
INSERT INTO page_validators (url, checked_at, etag, last_modified, raw_sha256)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT(url) DO UPDATE SET checked_at = excluded.checked_at, etag = excluded.etag,
  last_modified = excluded.last_modified, raw_sha256 = excluded.raw_sha256
WHERE excluded.checked_at >= page_validators.checked_at
"""
_INSERT_RAW = _insert_sql(
    "raw_pages",
    ("sha256", "body", "compression", "size", "content_type", "headers", "first_seen_at"),
    verb="INSERT OR IGNORE",
)
_SEARCH = f"""
SELECT articles.key, articles.title, articles.canonical_url, articles.published_at,
  articles.section, snippet(articles_fts, -1, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet,
  bm25(articles_fts, {", ".join(map(str, RANK_WEIGHTS))}) AS rank
FROM articles_fts JOIN articles ON articles.rowid = articles_fts.rowid
WHERE articles_fts MATCH ?
ORDER BY rank, articles.key
LIMIT ?
"""  # noqa: S608 - only numeric constants are formatted in


class StoreError(Exception):
    """The database cannot be opened or written; the message is one line for the user."""


@dataclass(frozen=True)
class WriteResult:
    """What one write_captures() call added."""

    captures: int = 0
    new_stories: int = 0
    updated_stories: int = 0  # existing stories whose row now shows other content
    new_versions: int = 0
    gone: int = 0
    new_raw_pages: int = 0

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(
            *(getattr(self, f.name) + getattr(other, f.name) for f in dataclasses.fields(self))
        )


def _describe(path: Path, exc: sqlite3.Error) -> str:
    message = str(exc)
    lowered = message.lower()
    if "not a database" in lowered:
        return f"{path} is not a SQLite database"
    if "readonly" in lowered or "read-only" in lowered:
        return f"cannot write {path}: readonly"
    if "locked" in lowered or "busy" in lowered:
        return f"{path} is locked by another process"
    if "unable to open" in lowered:
        return f"cannot open {path}"
    if "malformed" in lowered:
        return f"{path} is damaged: {message}"
    return f"{path}: {message}"


@contextmanager
def _sqlite_errors(path: Path) -> Iterator[None]:
    """Turn the failures a user can cause (wrong file, permissions, locks, full disk) into
    StoreError; integrity and programming errors are bugs and keep their own type."""
    try:
        yield
    except (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except sqlite3.DatabaseError as exc:
        raise StoreError(_describe(path, exc)) from exc


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if path.is_dir():
        raise StoreError(f"{path} is a directory")
    if readonly:
        if not path.exists():
            raise StoreError(f"{path} does not exist")
        # mode=ro never creates the file, and refuses every write.
        target, uri = path.resolve().as_uri() + "?mode=ro", True
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
        target, uri = str(path), False
    with _sqlite_errors(path):
        # The crawl hands batches to a writer thread; one thread uses a Store at a time.
        conn = sqlite3.connect(target, uri=uri, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Reading the schema is what fails on a file that is not a database.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error:
            conn.close()
            raise
    return conn


# json.dumps() with these options would build a new encoder for every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _json_list(value: Any) -> str:
    if value is None:
        return "[]"
    if isinstance(value, str):
        value = [value]
    return _dumps([str(v) for v in value])


def _version_fields(article: dict[str, Any], word_count: int) -> dict[str, Any]:
    """The extracted fields of an article dict, as stored in versions and articles;
    `word_count` (of the body, split on whitespace) when extraction gave none."""
    fields = {name: article.get(name) for name in _FIELDS}
    fields["authors"] = _json_list(fields["authors"])
    fields["tags"] = _json_list(fields["tags"])
    if fields["field_sources"] is not None:
        fields["field_sources"] = _dumps(fields["field_sources"])
    if fields["word_count"] is None and fields["body"]:
        fields["word_count"] = word_count
    return fields


@dataclass
class _Batch:
    """One write_captures() call while it is planned: stories by key and rows to write."""

    roles: dict[str, str]
    stories: dict[str, Story] = field(default_factory=dict)
    identity: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # site, source_id
    duplicate_of: dict[str, str] = field(default_factory=dict)
    captures: list[tuple[Any, ...]] = field(default_factory=list)
    checks: list[tuple[Any, ...]] = field(default_factory=list)  # story_checks rows
    page_validators: list[tuple[Any, ...]] = field(default_factory=list)
    # sha256 -> the first capture with it, its fetched_at in UTC and its headers as JSON
    raw: dict[str, tuple[Capture, str, str]] = field(default_factory=dict)
    # (title, body) -> content_hash and the body's word count
    hashes: dict[tuple[str | None, str | None], tuple[str, int]] = field(default_factory=dict)
    new_versions: int = 0
    gone: int = 0

    def content_hash(self, title: str | None, body: str | None) -> tuple[str, int]:
        # Mirrors mostly serve the same text: normalise each distinct text once per batch.
        known = self.hashes.get((title, body))
        if known is None:
            known = self.hashes[title, body] = content_hash_and_word_count(title, body)
        return known


_BODY = 3 + _FIELDS.index("body")  # in an articles row: key, site, source_id, then the fields


class _Planned(NamedTuple):
    """What _plan_capture() made of a capture."""

    key: str | None
    outcome: str
    content_hash: str | None
    at: str  # fetched_at in UTC


class _StoryRows(NamedTuple):
    """The rows _write_stories() writes, planned first so their texts can be sketched."""

    touched: list[Story]
    full: list[tuple[Any, ...]]  # rebuilt rows: _ARTICLE_COLUMNS
    seen: list[tuple[Any, ...]]  # rows whose text stays: _UPDATE_ARTICLE_SEEN parameters
    new: int
    updated: int


class Store:
    """An archive database, created and migrated on open unless `readonly`."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._pool: ThreadPoolExecutor | None = None
        self._checkpointer: Checkpointer | None = None
        conn = _connect(self.path, readonly)
        try:
            with _sqlite_errors(self.path):
                self.db = Database(conn, execute_plugins=False)
                if readonly:
                    self._check_schema()
                else:
                    self.db.enable_wal()
                    # NORMAL is durable across process crashes in WAL mode; only power loss
                    # can take back the last commits, and never corrupts.
                    conn.execute("PRAGMA synchronous = NORMAL")
                    conn.execute("PRAGMA foreign_keys = ON")
                    conn.execute(f"PRAGMA cache_size = {CACHE_SIZE}")
                    # Checkpoints fsync the database file; at ~35 KB a story the default
                    # (1000 pages) would do so every hundred stories. They run beside the
                    # writer, not in its commits (see Checkpointer).
                    (page_size,) = conn.execute("PRAGMA page_size").fetchone()
                    limit = wal_bytes(WAL_CHECKPOINT_PAGES, page_size)
                    conn.execute(f"PRAGMA journal_size_limit = {limit}")
                    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
                    self._checkpointer = Checkpointer(self.path, limit, BUSY_TIMEOUT_MS)
                    MIGRATIONS.apply(self.db)
        except BaseException:
            conn.close()
            raise

    def _check_schema(self) -> None:
        if not MIGRATIONS.applied(self.db):
            raise StoreError(f"{self.path} is not a newsmirror database")
        if MIGRATIONS.pending(self.db):
            raise StoreError(
                f"{self.path} has an older schema; open it once for writing to upgrade it"
            )

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction, holding the write lock from its start (BEGIN IMMEDIATE).

        A deferred BEGIN (sqlite-utils' atomic()) reads first and asks for the write lock at
        its first write; when another connection is writing then, SQLite cannot wait for it
        (the wait could deadlock) and fails at once instead of waiting busy_timeout. Inside a
        transaction already, a savepoint.
        """
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise

    def close(self) -> None:
        try:
            if not self.readonly:
                # Lets the query planner refresh statistics it found stale; cheap otherwise.
                with _sqlite_errors(self.path):
                    self.db.execute("PRAGMA optimize")
        finally:
            if self._pool is not None:
                self._pool.shutdown()
            if self._checkpointer is not None:
                self._checkpointer.close()
            self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_writable(self) -> None:
        if self.readonly:
            raise StoreError(f"cannot write {self.path}: opened read-only")

    # --- mirrors and runs -------------------------------------------------------------------

    def sync_hosts(self, site: str, roles: dict[str, str]) -> None:
        """Record the profile's hosts and their roles; a host's state is kept."""
        self._require_writable()
        bad = sorted(f"{host}={role}" for host, role in roles.items() if role not in ROLES)
        if bad:
            raise ValueError(f"unknown host roles: {', '.join(bad)}")
        with _sqlite_errors(self.path), self._transaction():
            self.db.conn.executemany(
                "INSERT INTO mirrors (host, site, role) VALUES (?, ?, ?) "
                "ON CONFLICT(host) DO UPDATE SET site = excluded.site, role = excluded.role",
                [(host, site, role) for host, role in sorted(roles.items())],
            )

    def set_mirror_state(
        self,
        host: str,
        state: str,
        detail: str | None,
        checked_at: str,
        run_id: int | None = None,
    ) -> None:
        """Record a probe of one host; `last_ok_at` moves only when the host is up, and a
        change of state is kept in `mirror_events`."""
        self._require_writable()
        if state not in STATES:
            raise ValueError(f"unknown mirror state {state!r}")
        checked_at = to_utc(checked_at)
        with _sqlite_errors(self.path), self._transaction():
            row = self._query_one("SELECT state, site FROM mirrors WHERE host = ?", [host])
            old_state, site = row if row else (None, None)
            if old_state != state:
                self.db.execute(
                    "INSERT INTO mirror_events (host, site, at, old_state, new_state, detail, "
                    "run_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [host, site, checked_at, old_state, state, detail, run_id],
                )
            self.db.execute(
                "INSERT INTO mirrors (host, state, detail, last_checked_at, last_ok_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(host) DO UPDATE SET state = excluded.state, "
                "detail = excluded.detail, last_checked_at = excluded.last_checked_at, "
                "last_ok_at = COALESCE(excluded.last_ok_at, mirrors.last_ok_at)",
                [host, state, detail, checked_at, checked_at if state == "up" else None],
            )

    def record_candidates(self, candidates: Sequence[MirrorCandidate]) -> None:
        """Remember hosts outside the profile that look like mirrors (see `newsmirror
        mirrors`); a host seen again keeps its first evidence and counts the sighting."""
        self._require_writable()
        with _sqlite_errors(self.path), self._transaction():
            self.db.conn.executemany(
                "INSERT INTO mirror_candidates (host, site, evidence, example_url, "
                "first_seen_at, last_seen_at, times_seen) VALUES (?, ?, ?, ?, ?, ?, 1) "
                "ON CONFLICT(host) DO UPDATE SET last_seen_at = max(last_seen_at, "
                "excluded.last_seen_at), times_seen = times_seen + 1",
                [
                    (c.host, c.site, c.evidence, c.url, to_utc(c.at), to_utc(c.at))
                    for c in candidates
                ],
            )

    def begin_run(self, site: str, params: dict[str, Any]) -> int:
        """Open a crawl_runs row in state `running`; returns its id."""
        self._require_writable()
        with _sqlite_errors(self.path):
            cursor = self.db.execute(
                "INSERT INTO crawl_runs (site, started_at, status, params, stats) "
                "VALUES (?, ?, 'running', ?, '{}')",
                [site, utc_now(), _dumps(params)],
            )
        if cursor.lastrowid is None:  # cannot happen for an INSERT into a rowid table
            raise StoreError(f"{self.path}: no id for the new crawl run")
        return cursor.lastrowid

    def finish_run(
        self, run_id: int, status: str, stats: dict[str, Any], error: str | None = None
    ) -> None:
        self._require_writable()
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with _sqlite_errors(self.path):
            cursor = self.db.execute(
                "UPDATE crawl_runs SET finished_at = ?, status = ?, stats = ?, error = ? "
                "WHERE id = ?",
                [utc_now(), status, _dumps(stats), error, run_id],
            )
        if cursor.rowcount == 0:
            raise StoreError(f"{self.path} has no crawl run {run_id}")

    def interrupt_stale_runs(self) -> list[int]:
        """Mark runs still `running` as `interrupted`: call it holding the run lock, when no
        run can be alive, so a run killed with SIGKILL does not stay `running` forever."""
        self._require_writable()
        with _sqlite_errors(self.path), self._transaction():
            ids = [
                row[0]
                for row in self.db.conn.execute(
                    "SELECT id FROM crawl_runs WHERE status = 'running' ORDER BY id"
                )
            ]
            self.db.conn.executemany(
                "UPDATE crawl_runs SET status = 'interrupted', finished_at = ?, "
                "error = 'the process ended without finishing the run (killed?)' WHERE id = ?",
                [(utc_now(), run_id) for run_id in ids],
            )
        return ids

    # --- what a crawl reads when it opens ---------------------------------------------------

    def last_run_status(self, site: str, jobdir: str | None = None) -> str | None:
        """Status of the site's latest run (with that --jobdir, when given)."""
        sql = "SELECT status FROM crawl_runs WHERE site = ?"
        params: list[Any] = [site]
        if jobdir is not None:
            sql += " AND json_extract(params, '$.jobdir') = ?"
            params.append(jobdir)
        with _sqlite_errors(self.path):
            row = self._query_one(sql + " ORDER BY id DESC LIMIT 1", params)
        return row[0] if row else None

    def answered_keys(self, host: str) -> Iterator[str]:
        """Story keys this host has answered for (any HTTP status), in no particular order."""
        with _sqlite_errors(self.path):
            for (key,) in self.db.conn.execute(
                "SELECT article_key FROM story_checks WHERE host = ?", [host]
            ):
                yield key

    def recent_stories(
        self, site: str, since: str, after: str = "", limit: int = 1000
    ) -> list[tuple[str, str]]:
        """(key, canonical_url) of the site's stories published (or, undated, first seen) at
        or after `since` (ISO 8601), in key order after `after`, `limit` at a time: the ones a
        run checks again for edits and takedowns. Pages keep each read short while a crawl
        writes beside it."""
        with _sqlite_errors(self.path):
            rows = self.db.conn.execute(
                "SELECT key, canonical_url FROM articles WHERE site = ? AND key > ? "
                "AND canonical_url IS NOT NULL "
                "AND datetime(coalesce(published_at, first_seen_at)) >= datetime(?) "
                "ORDER BY key LIMIT ?",
                [site, after, since, limit],
            )
            return [(key, url) for key, url in rows]

    def latest_story(self, site: str) -> str | None:
        """The canonical URL of the site's newest story (what `mirrors` asks every host)."""
        with _sqlite_errors(self.path):
            row = self._query_one(
                "SELECT canonical_url FROM articles WHERE site = ? AND canonical_url IS NOT NULL "
                "ORDER BY datetime(coalesce(published_at, first_seen_at)) DESC, key DESC LIMIT 1",
                [site],
            )
        return row[0] if row else None

    def story_validators(self, key: str, host: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the host's last 200 for the story, for a conditional
        request; (None, None) when there are none."""
        with _sqlite_errors(self.path):
            row = self._query_one(
                "SELECT etag, last_modified FROM story_checks WHERE article_key = ? AND host = ?",
                [key, host],
            )
        return (row[0], row[1]) if row else (None, None)

    def page_body(self, url: str) -> bytes | None:
        """The body a discovery page had when its validators were taken (for a 304)."""
        with _sqlite_errors(self.path):
            row = self._query_one("SELECT raw_sha256 FROM page_validators WHERE url = ?", [url])
        return self.raw_page(row[0]) if row and row[0] else None

    def page_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of a discovery page's last 200."""
        with _sqlite_errors(self.path):
            row = self._query_one(
                "SELECT etag, last_modified FROM page_validators WHERE url = ?", [url]
            )
        return (row[0], row[1]) if row else (None, None)

    # --- captures ---------------------------------------------------------------------------

    def write_captures(self, run_id: int, captures: Sequence[Capture]) -> WriteResult:
        """Store a batch of captures, and the stories and versions they show, in one transaction."""
        self._require_writable()
        for capture in captures:
            if capture.outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {capture.outcome!r} for {capture.url}")
        with _sqlite_errors(self.path), self._transaction():
            if not self._query_one("SELECT 1 FROM crawl_runs WHERE id = ?", [run_id]):
                raise StoreError(f"{self.path} has no crawl run {run_id}")
            captures = self._undelivered(captures)
            batch = _Batch(roles=self._roles())
            self._load_stories(batch, captures)
            for capture in captures:
                self._plan_rows(batch, run_id, capture, self._plan_capture(batch, capture))
            rows = self._story_rows(batch)
            # The new raw pages are compressed, and the new texts' shingles and MinHash bands
            # worked out, in two threads while SQLite writes the story rows; what needs their
            # results comes last. The sketches start just before the one long statement that
            # indexes the texts for FTS without the GIL, which is when their Python can run
            # without making this thread wait for the GIL between statements.
            raw_rows = self._compress_raw_pages(batch)
            self._stage(rows.full)
            index = NearDuplicateIndex(self.db)
            sketches = self._workers().submit(_sketch_rows, index, rows.full)
            self._write_stories(batch, rows)
            conn = self.db.conn
            conn.executemany(_UPSERT_CHECK, batch.checks)
            conn.executemany(_UPSERT_PAGE_VALIDATORS, batch.page_validators)
            # Captures reference raw_pages, so the bodies go in first.
            conn.executemany(_INSERT_RAW, raw_rows.result())
            conn.executemany(_INSERT_CAPTURE, batch.captures)
            # Links near-duplicates of the new and changed story rows, in this transaction.
            index.update((k for k, s in batch.stories.items() if s.touched), sketches.result())
        if self._checkpointer is not None:
            self._checkpointer.committed()
        return WriteResult(
            captures=len(batch.captures),
            new_stories=rows.new,
            updated_stories=rows.updated,
            new_versions=batch.new_versions,
            gone=batch.gone,
            new_raw_pages=len(raw_rows.result()),
        )

    def _query_one(self, sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.db.conn.execute(sql, params).fetchone()
        return row

    def _roles(self) -> dict[str, str]:
        rows = self.db.conn.execute("SELECT host, role FROM mirrors WHERE role IS NOT NULL")
        return dict(rows.fetchall())

    def _load_stories(self, batch: _Batch, captures: Sequence[Capture]) -> None:
        """Read what the database knows about every story the batch names, a chunk at a time."""
        keys: set[str] = set()
        for capture in captures:
            key = (capture.article or {}).get("key") or capture.article_key
            if key:
                keys.add(key)
        ordered = sorted(keys)
        batch.stories = {key: Story(key) for key in ordered}
        conn = self.db.conn
        for chunk in chunks(ordered):
            places = marks(chunk)
            for key, row_hash in conn.execute(
                f"SELECT key, content_hash FROM articles WHERE key IN ({places})",  # noqa: S608
                chunk,
            ):
                batch.stories[key].row_hash = row_hash
            sql = (
                "SELECT id, article_key, content_hash, hosts, first_seen_at, last_seen_at, url "  # noqa: S608
                f"FROM versions WHERE article_key IN ({places})"
            )
            for vid, key, chash, hosts, first, last, url in conn.execute(sql, chunk):
                batch.stories[key].versions[chash] = Version(
                    chash, json.loads(hosts), first, last, url=url, id=vid
                )
            for row in conn.execute(
                f"SELECT {', '.join(_HOST_COLUMNS)} FROM article_hosts "  # noqa: S608
                f"WHERE article_key IN ({places})",
                chunk,
            ):
                record = HostRecord(*row[1:])
                batch.stories[row[0]].hosts[record.host] = record

    def _plan_capture(self, batch: _Batch, capture: Capture) -> _Planned:
        """What a capture says about its story; its rows are written by _plan_rows()."""
        at = to_utc(capture.fetched_at)
        outcome = capture.outcome
        key = capture.article_key
        chash: str | None = None
        article = capture.article
        if outcome == ARTICLE and article is not None:
            key = article.get("key") or key
            if not key:
                raise ValueError(f"article capture of {capture.url} has no story key")
            chash, words = batch.content_hash(article.get("title"), article.get("body"))
            story = batch.stories[key]
            before = story.hosts.get(capture.host)
            if before is not None and before.content_hash == chash:
                # The host serves what it served last time: a check, not news.
                outcome = UNCHANGED
            if story.served(
                capture.host,
                capture.url,
                chash,
                at,
                status=capture.status,
                fields=lambda: _version_fields(article, words),
            ):
                batch.new_versions += 1
            site = article.get("site") or capture.site
            batch.identity[key] = (site, article.get("source_id"))
            if article.get("duplicate_of"):
                batch.duplicate_of[key] = article["duplicate_of"]
        elif key and capture.host in batch.stories[key].hosts:
            story = batch.stories[key]
            if capture.status in GONE_STATUSES:
                # A story this host served before is gone from it: a takedown, kept as data.
                outcome = GONE
                batch.gone += 1
            if outcome == UNCHANGED:
                chash = story.unchanged(capture.host, at, capture.status)
            else:
                story.hosts[capture.host].checked(at, capture.status, outcome)
        return _Planned(key, outcome, chash, at)

    @staticmethod
    def _plan_rows(batch: _Batch, run_id: int, capture: Capture, planned: _Planned) -> None:
        """The capture's own rows: captures, story_checks or page_validators, raw_pages."""
        key, outcome, chash, at = planned
        raw_sha = None
        if capture.body is not None:
            raw_sha = hashlib.sha256(capture.body).hexdigest()
        _plan_checks(batch, capture, planned, raw_sha)
        headers = _dumps(capture.headers)
        if raw_sha is not None and raw_sha not in batch.raw:
            batch.raw[raw_sha] = (capture, at, headers)
        batch.captures.append(
            (
                run_id,
                capture.url,
                capture.requested_url,
                capture.host,
                at,
                capture.status,
                outcome,
                capture.page_type,
                key,
                chash,
                raw_sha,
                capture.error,
                capture.content_type,
                headers,
                capture.delivery_id,
            )
        )

    def _undelivered(self, captures: Sequence[Capture]) -> Sequence[Capture]:
        """The captures not stored yet: one with a delivery id (a fleet's) that a batch
        already stored, or that comes twice in this batch, is left out."""
        ids = [c.delivery_id for c in captures if c.delivery_id]
        if not ids:
            return captures
        stored: set[str] = set()
        for chunk in chunks(sorted(set(ids))):
            stored.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT delivery_id FROM captures WHERE delivery_id IN ({marks(chunk)})",  # noqa: S608
                    chunk,
                )
            )
        fresh = []
        for capture in captures:
            if capture.delivery_id:
                if capture.delivery_id in stored:
                    continue
                stored.add(capture.delivery_id)
            fresh.append(capture)
        return fresh

    def _compress_raw_pages(self, batch: _Batch) -> Future[list[tuple[Any, ...]]]:
        """Start compressing the bodies not stored yet, in a worker thread.

        zstd lets go of the GIL, so compression runs beside the story writes (SQLite lets
        go of it too) instead of after them.
        """
        shas = sorted(batch.raw)
        known: set[str] = set()
        for chunk in chunks(shas):
            sql = f"SELECT sha256 FROM raw_pages WHERE sha256 IN ({marks(chunk)})"  # noqa: S608
            known.update(row[0] for row in self.db.conn.execute(sql, chunk))
        new = [(sha, batch.raw[sha]) for sha in shas if sha not in known]
        return self._workers().submit(_raw_page_rows, new)

    def _workers(self) -> ThreadPoolExecutor:
        """Two threads for the work of a batch that needs no database: zstd and MinHash."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="newsmirror-writer")
        return self._pool

    def _story_rows(self, batch: _Batch) -> _StoryRows:
        """The articles rows the batch rewrites whole, and those whose text stays."""
        touched = [story for story in batch.stories.values() if story.touched]
        chosen = {story.key: story.choose(batch.roles) for story in touched}
        self._load_fields(
            version
            for story in touched
            if (version := chosen[story.key][0]).fields is None
            and story.row_hash != version.content_hash
        )
        full_rows, seen_rows = [], []
        new_stories = updated = 0
        for story in touched:
            version, record = chosen[story.key]
            versions = story.versions.values()
            mirrors = _dumps(story.mirrors(batch.roles))
            first = min(v.first_seen_at for v in versions)
            last = max(v.last_seen_at for v in versions)
            host = record.host if record else None
            url = record.url if record else version.url
            duplicate_of = batch.duplicate_of.get(story.key)
            if story.row_hash == version.content_hash:
                row = (mirrors, len(story.versions), first, last, host, url, duplicate_of)
                seen_rows.append((*row, story.key))
                continue
            if story.row_hash is None:
                new_stories += 1
            else:
                updated += 1
            site, source_id = batch.identity.get(story.key) or self._identity(story.key)
            values = version.fields or {}
            full_rows.append(
                (
                    story.key,
                    site,
                    source_id,
                    *(values.get(name) for name in _FIELDS),
                    version.content_hash,
                    first,
                    last,
                    mirrors,
                    len(story.versions),
                    duplicate_of,
                    host,
                    url,
                )
            )
        return _StoryRows(touched, full_rows, seen_rows, new_stories, updated)

    def _stage(self, rows: list[tuple[Any, ...]]) -> None:
        self.db.conn.execute(_CREATE_STAGED)
        self.db.conn.executemany(_STAGE_ARTICLE, rows)

    def _write_stories(self, batch: _Batch, rows: _StoryRows) -> None:
        """Write the story rows, versions and article_hosts."""
        conn = self.db.conn
        # Parents before children: versions and article_hosts reference articles.
        conn.execute(_UPSERT_STAGED)
        conn.execute(f"DELETE FROM {_STAGED}")  # noqa: S608 - a constant name
        conn.executemany(_UPDATE_ARTICLE_SEEN, rows.seen)
        self._write_versions(batch, rows.touched)
        conn.executemany(
            _UPSERT_HOST,
            [
                (story.key, *_host_row(record))
                for story in batch.stories.values()
                for record in story.hosts.values()
                if record.changed
            ],
        )

    def _load_fields(self, versions: Iterable[Version]) -> None:
        """Fetch the extracted fields of stored versions (that a story row must now show)."""
        wanted = {version.id: version for version in versions if version.id is not None}
        ids = sorted(wanted)
        for chunk in chunks(ids):
            cursor = self.db.conn.execute(
                f"SELECT id, {', '.join(_FIELDS)} FROM versions "  # noqa: S608
                f"WHERE id IN ({marks(chunk)})",
                chunk,
            )
            for row in cursor:
                wanted[row[0]].fields = dict(zip(_FIELDS, row[1:], strict=True))

    def _identity(self, key: str) -> tuple[str, str | None]:
        row = self._query_one("SELECT site, source_id FROM articles WHERE key = ?", [key])
        if row is None:  # a story first seen through an `unchanged` capture cannot exist
            raise StoreError(f"{self.path}: story {key} has versions but no row")
        return row[0], row[1]

    def _write_versions(self, batch: _Batch, stories: list[Story]) -> None:
        inserts, updates = [], []
        for story in stories:
            for version in story.versions.values():
                if not version.changed:
                    continue
                hosts = _dumps(sort_hosts(version.hosts, batch.roles))
                if version.id is None:
                    values = version.fields or {}
                    inserts.append(
                        (
                            story.key,
                            version.content_hash,
                            *(values.get(name) for name in _FIELDS),
                            hosts,
                            version.first_seen_at,
                            version.last_seen_at,
                            version.url,
                        )
                    )
                else:
                    updates.append((hosts, version.first_seen_at, version.last_seen_at, version.id))
        self.db.conn.executemany(_INSERT_VERSION, inserts)
        self.db.conn.executemany(_UPDATE_VERSION, updates)

    # --- reading ----------------------------------------------------------------------------

    def raw_page(self, sha256: str) -> bytes | None:
        """The raw body stored under this sha256, decompressed; None when unknown."""
        with _sqlite_errors(self.path):
            row = self._query_one(
                "SELECT body, compression FROM raw_pages WHERE sha256 = ?", [sha256]
            )
        if row is None:
            return None
        body, compression = row
        decompress = DECOMPRESSORS.get(compression)
        if decompress is None:
            raise StoreError(f"{self.path}: raw page {sha256} uses unknown {compression!r}")
        return decompress(body)

    def stats(self) -> dict[str, Any]:
        """Counts and recent activity, as plain JSON-ready data."""
        with _sqlite_errors(self.path):
            return self._stats()

    def _stats(self) -> dict[str, Any]:
        q = self.db.query
        stories = next(
            q(
                "SELECT count(*) AS stories, coalesce(sum(version_count > 1), 0) AS multi "
                "FROM articles"
            )
        )
        by_host: dict[str, dict[str, int]] = defaultdict(dict)
        total = 0
        for row in q(
            "SELECT host, outcome, count(*) AS n FROM captures GROUP BY host, outcome "
            "ORDER BY host, outcome"
        ):
            by_host[row["host"]][row["outcome"]] = row["n"]
            total += row["n"]
        runs = list(
            q(
                "SELECT id, site, started_at, finished_at, status, stats, error FROM crawl_runs "
                "ORDER BY id DESC LIMIT ?",
                [RECENT],
            )
        )
        for run in runs:
            run["stats"] = json.loads(run["stats"] or "{}")
        return {
            "stories": stories["stories"],
            "versions": self._count("versions"),
            "multi_version_stories": stories["multi"],
            "captures": total,
            "captures_by_host": dict(by_host),
            "raw_pages": self._count("raw_pages"),
            "mirrors": list(
                q(
                    "SELECT host, site, role, state, last_checked_at, last_ok_at, detail "
                    "FROM mirrors ORDER BY site, "
                    "CASE role WHEN 'primary' THEN 0 WHEN 'alternate' THEN 1 "
                    "WHEN 'retired' THEN 2 ELSE 3 END, host"
                )
            ),
            "runs": runs,
            "last_errors": list(
                q(
                    "SELECT url, host, status, outcome, error, fetched_at FROM captures "
                    "WHERE error IS NOT NULL ORDER BY id DESC LIMIT ?",
                    [RECENT],
                )
            ),
        }

    def _count(self, table: str) -> int:
        row = self._query_one(f"SELECT count(*) FROM {table}", [])  # noqa: S608 - internal name
        return int(row[0]) if row else 0

    def search(
        self, query: str, limit: int = 20, start: str = "[", end: str = "]"
    ) -> list[dict[str, Any]]:
        """Stories matching an FTS5 query, best first (bm25), each with a marked snippet.

        A query FTS5 cannot parse (an unbalanced quote, a bare AND, a column filter that
        names no column) is searched again as plain words, each quoted, all required.
        """
        if limit < 1 or not query.strip():
            return []
        with _sqlite_errors(self.path):
            try:
                return list(self.db.query(_SEARCH, [start, end, query, limit]))
            except sqlite3.OperationalError:
                quoted = _quote_terms(query)
                if not quoted:
                    return []
                return list(self.db.query(_SEARCH, [start, end, quoted, limit]))

    # One story's history, for `newsmirror diff` and `newsmirror reextract`.

    def story_versions(self, key: str) -> list[dict[str, Any]]:
        """A story's versions, oldest first (first seen, then id), every column, with the
        JSON lists (authors, tags, hosts) decoded; [] when the key has none."""
        with _sqlite_errors(self.path):
            rows = list(
                self.db.query(
                    "SELECT * FROM versions WHERE article_key = ? ORDER BY first_seen_at, id",
                    [key],
                )
            )
        for row in rows:
            for name in ("authors", "tags", "hosts"):
                row[name] = json.loads(row[name] or "[]")
        return rows

    def story_hosts(self, key: str) -> list[dict[str, Any]]:
        """A story's article_hosts rows, each with the host's `role` and `state` from
        mirrors (None when unknown), primary first."""
        with _sqlite_errors(self.path):
            rows = list(
                self.db.query(
                    f"SELECT {', '.join(f'h.{c}' for c in _HOST_COLUMNS)}, "  # noqa: S608
                    "m.role AS role, m.state AS state FROM article_hosts AS h "
                    "LEFT JOIN mirrors AS m ON m.host = h.host WHERE h.article_key = ?",
                    [key],
                )
            )
        order = sort_hosts(
            (row["host"] for row in rows), {r["host"]: r["role"] or "" for r in rows}
        )
        return sorted(rows, key=lambda row: order.index(row["host"]))

    def serving_captures(self, keys: Sequence[str]) -> list[dict[str, Any]]:
        """The captures that served these stories (outcome `article` or `unchanged`, with the
        content_hash they served), by story, host, time and id, headers decoded: every
        reading of every fetch of the stories' pages."""
        rows: list[dict[str, Any]] = []
        ordered = sorted(set(keys))
        with _sqlite_errors(self.path):
            for chunk in chunks(ordered):
                rows.extend(
                    self.db.query(
                        f"SELECT id, {', '.join(_CAPTURE_COLUMNS)} FROM captures "  # noqa: S608
                        f"WHERE article_key IN ({marks(chunk)}) "
                        "AND outcome IN (?, ?) AND content_hash IS NOT NULL",
                        [*chunk, ARTICLE, UNCHANGED],
                    )
                )
        for row in rows:
            row["headers"] = json.loads(row["headers"] or "{}")
        rows.sort(key=lambda r: (r["article_key"], r["host"], r["fetched_at"], r["id"]))
        return rows


def _sketch_rows(index: NearDuplicateIndex, rows: list[tuple[Any, ...]]) -> dict[str, Sketch]:
    """The sketches of the story rows' texts, by story key (as NearDuplicateIndex.update()
    takes them)."""
    by_text = index.sketch(row[_BODY] for row in rows)
    return {row[0]: by_text[row[_BODY]] for row in rows if row[_BODY] in by_text}


def _raw_page_rows(pages: list[tuple[str, tuple[Capture, str, str]]]) -> list[tuple[Any, ...]]:
    """raw_pages rows for bodies not stored yet, each with the first capture that had it
    (with its fetched_at in UTC and its headers as JSON)."""
    # One compressor for the batch: a fresh context per page costs more than small pages do.
    compressor = zstd.ZstdCompressor(ZSTD_LEVEL)
    return [
        (
            sha,
            compressor.compress(capture.body or b"", zstd.ZstdCompressor.FLUSH_FRAME),
            COMPRESSION,
            len(capture.body or b""),
            capture.content_type,
            headers,
            at,
        )
        for sha, (capture, at, headers) in pages
    ]


def _plan_checks(batch: _Batch, capture: Capture, planned: _Planned, raw_sha: str | None) -> None:
    """Remember the answer: a story's in story_checks (what an incremental run skips),
    a discovery page's validators in page_validators (what makes its next fetch a 304)."""
    key, outcome, _, at = planned
    if key and capture.status is not None:
        etag, modified = _validators(capture)
        batch.checks.append(
            (key, capture.host, capture.url, at, capture.status, outcome, etag, modified)
        )
    elif capture.status == 200 and outcome == LISTING and capture.body is not None:
        # Only real listings: a seizure notice must be fetched whole again to be seen. The
        # body's hash lets a 304 later be read from raw_pages (a sitemap index's children).
        etag, modified = _validators(capture)
        if etag or modified:
            batch.page_validators.append((capture.url, at, etag, modified, raw_sha))


def _validators(capture: Capture) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified of a 200 answer (what a conditional request sends back)."""
    if capture.status != 200:
        return None, None
    headers = {name.lower(): values for name, values in capture.headers.items()}
    etag = headers.get("etag") or []
    modified = headers.get("last-modified") or []
    return (etag[0] if etag else None), (modified[0] if modified else None)


def _host_row(record: HostRecord) -> tuple[Any, ...]:
    return (
        record.host,
        record.url,
        record.content_hash,
        record.first_seen_at,
        record.last_seen_at,
        record.last_checked_at,
        record.last_status,
        record.last_outcome,
    )


def _quote_terms(query: str) -> str:
    """Each word of a query as an FTS5 string; words without a letter or digit are dropped."""
    terms = [t for t in query.split() if any(ch.isalnum() for ch in t)]
    return " ".join('"' + t.replace('"', '""') + '"' for t in terms)
