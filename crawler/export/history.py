"""Stories a page at a time; --with-history adds versions and a capture summary, one query a page."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.export.selection import PAGE, Selection, iter_articles
from crawler.storage import Store
from crawler.storage.stories import sort_hosts

VERSION_JSON_LISTS = ("authors", "tags", "hosts")
HISTORY_COLUMNS = ("versions", "captures")  # what --with-history adds to a story


def iter_pages(
    store: Store, selection: Selection, *, with_history: bool, size: int = PAGE
) -> Iterator[list[dict[str, Any]]]:
    """The selected stories in key order, `size` at a time; with history, each story also
    gets `versions` (oldest first) and `captures` (a summary, not every capture)."""
    roles = _roles(store) if with_history else {}
    page: list[dict[str, Any]] = []
    for row in iter_articles(store, selection):
        page.append(row)
        if len(page) >= size:
            yield _attach(store, page, roles) if with_history else page
            page = []
    if page:
        yield _attach(store, page, roles) if with_history else page


def _attach(
    store: Store, page: list[dict[str, Any]], roles: dict[str, str]
) -> list[dict[str, Any]]:
    keys = [row["key"] for row in page]
    versions = versions_by_story(store, keys)
    captures = captures_by_story(store, keys, roles)
    for row in page:
        row["versions"] = versions.get(row["key"], [])
        row["captures"] = captures.get(row["key"], empty_summary())
    return page


def version_columns(store: Store) -> list[str]:
    """Every column of `versions` but the story key (the story carries it)."""
    rows = store.db.conn.execute("PRAGMA table_info(versions)")
    return [row[1] for row in rows if row[1] != "article_key"]


def versions_by_story(store: Store, keys: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    columns = version_columns(store)
    marks = ", ".join("?" for _ in keys)
    sql = (
        f"SELECT article_key, {', '.join(columns)} FROM versions "  # noqa: S608 - names from PRAGMA
        f"WHERE article_key IN ({marks}) ORDER BY article_key, first_seen_at, id"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for key, *values in store.db.conn.execute(sql, list(keys)):
        version = dict(zip(columns, values, strict=True))
        for name in VERSION_JSON_LISTS:
            if name in version:
                version[name] = json.loads(version[name]) if version[name] else []
        found.setdefault(key, []).append(version)
    return found


def empty_summary() -> dict[str, Any]:
    return {"total": 0, "first": None, "last": None, "by_host": {}}


def captures_by_story(
    store: Store, keys: Sequence[str], roles: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per story: how many captures, the first and last, and outcomes per host (hosts ordered
    primary first, as every host list in the database)."""
    marks = ", ".join("?" for _ in keys)
    sql = (
        "SELECT article_key, host, outcome, count(*), min(fetched_at), max(fetched_at) "  # noqa: S608
        f"FROM captures WHERE article_key IN ({marks}) "
        "GROUP BY article_key, host, outcome ORDER BY article_key, host, outcome"
    )
    counts: dict[str, dict[str, dict[str, int]]] = {}
    found: dict[str, dict[str, Any]] = {}
    for key, host, outcome, n, first, last in store.db.conn.execute(sql, list(keys)):
        summary = found.setdefault(key, empty_summary())
        summary["total"] += n
        summary["first"] = min(filter(None, (summary["first"], first)), default=None)
        summary["last"] = max(filter(None, (summary["last"], last)), default=None)
        counts.setdefault(key, {}).setdefault(host, {})[outcome] = n
    for key, hosts in counts.items():
        found[key]["by_host"] = {host: hosts[host] for host in sort_hosts(hosts, roles)}
    return found


def _roles(store: Store) -> dict[str, str]:
    rows = store.db.conn.execute("SELECT host, role FROM mirrors WHERE role IS NOT NULL")
    return dict(rows.fetchall())


@dataclass
class RowCounts:
    """What an export wrote, for its manifest: stories, and with history the versions and
    captures they summarise."""

    with_history: bool
    stories: int = 0
    versions: int = 0
    captures: int = 0

    def add(self, page: Sequence[dict[str, Any]]) -> None:
        self.stories += len(page)
        if self.with_history:
            self.versions += sum(len(row["versions"]) for row in page)
            self.captures += sum(int(row["captures"]["total"]) for row in page)

    def as_dict(self) -> dict[str, int]:
        if not self.with_history:
            return {"stories": self.stories}
        return {"stories": self.stories, "versions": self.versions, "captures": self.captures}
