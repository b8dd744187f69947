"""Read-only views over the archive for people: completeness of ids, takedowns, mirrors."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from crawler.storage.store import Store

MAX_GAPS_LISTED = 20
DAYS_LISTED = 31


def id_ranges(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Runs of consecutive ids in a sorted list, as (first, last)."""
    if not ids:
        return
    start = previous = ids[0]
    for value in ids[1:]:
        if value != previous + 1:
            yield start, previous
            start = value
        previous = value
    yield start, previous


def completeness(store: Store, site: str) -> dict[str, Any]:
    """For sites with sequential numeric ids: the range archived, the ids missing inside it
    (and whether every live host was asked for them), and stories per publication day."""
    rows = store.db.conn.execute(
        "SELECT CAST(source_id AS INTEGER) FROM articles WHERE site = ? "
        "AND source_id GLOB '[0-9]*' AND source_id NOT GLOB '*[^0-9]*' ORDER BY 1",
        [site],
    )
    ids = [row[0] for row in rows]
    report: dict[str, Any] = {"site": site, "stories_with_ids": len(ids)}
    if ids:
        present = list(id_ranges(ids))
        gaps = [(last + 1, first - 1) for (_, last), (first, _) in itertools.pairwise(present)]
        missing = sum(high - low + 1 for low, high in gaps)
        report.update(
            first_id=ids[0],
            last_id=ids[-1],
            missing_ids=missing,
            gap_count=len(gaps),
            gaps=[{"from": low, "to": high} for low, high in gaps[:MAX_GAPS_LISTED]],
            probed_missing=_probed_missing(store, site),
        )
    days = store.db.conn.execute(
        "SELECT substr(published_at, 1, 10) AS day, count(*) FROM articles WHERE site = ? "
        "AND published_at IS NOT NULL GROUP BY day ORDER BY day DESC LIMIT ?",
        [site, DAYS_LISTED],
    )
    report["stories_per_day"] = dict(days)
    return report


def _probed_missing(store: Store, site: str) -> int:
    """Ids asked for (a backfill, a lagging mirror) that no host has ever served."""
    row = store.db.conn.execute(
        "SELECT count(DISTINCT article_key) FROM story_checks WHERE article_key LIKE ? "
        "AND article_key NOT IN (SELECT key FROM articles)",
        [f"{site}:%"],
    ).fetchone()
    return int(row[0])


def takedowns(store: Store) -> dict[str, Any]:
    """Stories taken down: per host, and those gone from the primary but alive on a mirror."""
    per_host = dict(
        store.db.conn.execute(
            "SELECT host, count(*) FROM article_hosts WHERE last_outcome = 'gone' GROUP BY host"
        )
    )
    alive = store.db.conn.execute(
        "SELECT count(DISTINCT p.article_key) FROM article_hosts AS p "
        "JOIN mirrors AS r ON r.host = p.host AND r.role = 'primary' "
        "JOIN article_hosts AS m ON m.article_key = p.article_key AND m.host != p.host "
        "WHERE p.last_outcome = 'gone' AND m.last_outcome IN ('article', 'unchanged')"
    ).fetchone()[0]
    return {"gone_by_host": per_host, "gone_from_primary_alive_on_mirror": alive}


def mirrors_report(store: Store, site: str) -> dict[str, Any]:
    """The profile's hosts and their states, candidate mirrors, and the domain timeline."""
    hosts = [
        dict(
            zip(
                ("host", "role", "state", "last_checked_at", "last_ok_at", "detail"),
                row,
                strict=True,
            )
        )
        for row in store.db.conn.execute(
            "SELECT host, role, state, last_checked_at, last_ok_at, detail FROM mirrors "
            "WHERE site = ? ORDER BY CASE role WHEN 'primary' THEN 0 WHEN 'alternate' THEN 1 "
            "ELSE 2 END, host",
            [site],
        )
    ]
    candidates = [
        dict(
            zip(
                ("host", "evidence", "example_url", "first_seen_at", "last_seen_at", "times_seen"),
                row,
                strict=True,
            )
        )
        for row in store.db.conn.execute(
            "SELECT host, evidence, example_url, first_seen_at, last_seen_at, times_seen "
            "FROM mirror_candidates WHERE site = ? ORDER BY host",
            [site],
        )
    ]
    events = [
        dict(zip(("at", "host", "old_state", "new_state", "detail"), row, strict=True))
        for row in store.db.conn.execute(
            "SELECT at, host, old_state, new_state, detail FROM mirror_events "
            "WHERE site = ? ORDER BY at, id",
            [site],
        )
    ]
    return {"site": site, "hosts": hosts, "candidates": candidates, "timeline": events}
