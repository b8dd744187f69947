"""Which stories an export holds (--since/--until/--section/--host/--site/--key), streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from crawler.storage import Store

PAGE = 1000  # rows per query: memory stays flat whatever the archive's size
JSON_COLUMNS = ("authors", "tags", "mirrors")


@dataclass(frozen=True)
class Selection:
    """Filters of an export; empty ones select everything. Dates are publication days as
    the site printed them (the first ten characters of published_at), inclusive."""

    since: str | None = None
    until: str | None = None
    section: str | None = None  # a section and every section below it
    host: str | None = None  # stories this host served (any version)
    site: str | None = None
    keys: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in asdict(self).items() if value not in (None, ())}

    def where(self, alias: str = "a") -> tuple[str, list[Any]]:
        """SQL conditions on the articles table (as `alias`) and their parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since:
            clauses.append(f"substr({alias}.published_at, 1, 10) >= ?")
            params.append(self.since)
        if self.until:
            clauses.append(f"substr({alias}.published_at, 1, 10) <= ?")
            params.append(self.until)
        if self.section:
            clauses.append(f"({alias}.section = ? OR {alias}.section LIKE ? ESCAPE '\\')")
            escaped = self.section.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params += [self.section, f"{escaped} / %"]
        if self.host:
            clauses.append(
                f"EXISTS (SELECT 1 FROM article_hosts AS h WHERE h.article_key = {alias}.key "  # noqa: S608 - alias is ours
                "AND h.host = ?)"
            )
            params.append(self.host)
        if self.site:
            clauses.append(f"{alias}.site = ?")
            params.append(self.site)
        if self.keys:
            clauses.append(f"{alias}.key IN ({', '.join('?' for _ in self.keys)})")
            params += list(self.keys)
        return (" AND ".join(clauses) or "1"), params


def article_columns(store: Store) -> list[str]:
    """Every column of `articles`, in table order (the contract of docs/schema.md)."""
    return [row[1] for row in store.db.conn.execute("PRAGMA table_info(articles)")]


def iter_articles(store: Store, selection: Selection) -> Iterator[dict[str, Any]]:
    """The selected stories in key order, every articles column, JSON lists decoded; read a
    page at a time by key, so a long export holds no read transaction and little memory."""
    columns = article_columns(store)
    names = ", ".join(f"a.{name}" for name in columns)
    where, params = selection.where()
    after = ""
    while True:
        rows = store.db.conn.execute(
            f"SELECT {names} FROM articles AS a WHERE a.key > ? AND {where} "  # noqa: S608
            "ORDER BY a.key LIMIT ?",
            [after, *params, PAGE],
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield decode_row(dict(zip(columns, row, strict=True)))
        after = rows[-1][0]


def count_articles(store: Store, selection: Selection) -> int:
    where, params = selection.where()
    row = store.db.conn.execute(
        f"SELECT count(*) FROM articles AS a WHERE {where}",  # noqa: S608 - built from constants
        params,
    ).fetchone()
    return int(row[0])


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """JSON list columns as lists (never None)."""
    for name in JSON_COLUMNS:
        if name in row:
            row[name] = json.loads(row[name]) if row[name] else []
    return row


def keys_clause(selection: Selection, column: str) -> tuple[str, list[Any]]:
    """A condition on another table's story key column that selects the same stories."""
    where, params = selection.where("s")
    # Column names and conditions come from this module, values stay parameters.
    return f"{column} IN (SELECT s.key FROM articles AS s WHERE {where})", params  # noqa: S608


def chunked(items: Sequence[Any], size: int = PAGE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
