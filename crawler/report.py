"""Plain-text views of the archive for people: the stats summary and search results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OUTCOME_ORDER = (
    "article",
    "unchanged",
    "listing",
    "gone",
    "not_article",
    "soft_404",
    "seized",
    "error",
)


def format_stats(stats: Mapping[str, Any], db: str) -> str:
    """The `newsmirror stats` summary: counts, captures per host, mirrors, runs, errors."""
    lines = [
        f"Database {db}",
        (
            f"Stories   {stats['stories']}  (versions {stats['versions']}; "
            f"{stats['multi_version_stories']} stories with more than one version)"
        ),
        f"Captures  {stats['captures']}  (raw pages kept {stats['raw_pages']})",
    ]
    by_host: Mapping[str, Mapping[str, int]] = stats["captures_by_host"]
    if by_host:
        lines.append("\nCaptures per host:")
        width = max(len(h) for h in by_host)
        for host, outcomes in by_host.items():
            ordered = sorted(outcomes.items(), key=lambda kv: _outcome_rank(kv[0]))
            counts = "  ".join(f"{name} {n}" for name, n in ordered)
            lines.append(f"  {host:<{width}}  {counts}")
    mirrors: Sequence[Mapping[str, Any]] = stats["mirrors"]
    if mirrors:
        lines.append("\nMirrors:")
        width = max(len(m["host"]) for m in mirrors)
        for m in mirrors:
            detail = f"  {m['detail']}" if m.get("detail") else ""
            lines.append(f"  {m['host']:<{width}}  {m['role']:<9}  {m['state']:<11}{detail}")
    runs: Sequence[Mapping[str, Any]] = stats["runs"]
    if runs:
        lines.append("\nRecent runs:")
        for run in runs:
            lines.append("  " + _run_line(run))
    errors: Sequence[Mapping[str, Any]] = stats["last_errors"]
    if errors:
        lines.append("\nLast errors:")
        for e in errors:
            lines.append(f"  {e['fetched_at']}  {e['url']}  {e['error']}")
    return "\n".join(lines)


def _outcome_rank(outcome: str) -> int:
    return OUTCOME_ORDER.index(outcome) if outcome in OUTCOME_ORDER else len(OUTCOME_ORDER)


def _run_line(run: Mapping[str, Any]) -> str:
    s = run.get("stats") or {}
    parts = [f"#{run['id']} {run['site']} {run['status']} started {run['started_at']}"]
    if s:
        parts.append(
            f"pages {s.get('pages', 0)}, stories +{s.get('stories_new', 0)} new "
            f"{s.get('stories_updated', 0)} updated, versions +{s.get('versions_new', 0)}"
        )
        if s.get("elapsed_seconds"):
            parts.append(f"{s['elapsed_seconds']:.1f} s")
    if run.get("error"):
        parts.append(f"reason: {run['error']}")
    return "; ".join(parts)


def format_search(hits: Sequence[Mapping[str, Any]], query: str) -> str:
    """Ranked search results with their highlighted snippets."""
    if not hits:
        return f"No story matches {query!r}."
    lines = []
    for rank, hit in enumerate(hits, start=1):
        when = (hit.get("published_at") or "")[:10]
        section = f"  [{hit['section']}]" if hit.get("section") else ""
        lines.append(f"{rank:>3}. {hit['title']}  ({when}){section}")
        lines.append(f"     {hit['key']}  {hit['canonical_url']}")
        lines.append(f"     {hit['snippet']}")
    return "\n".join(lines)
