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
    takedowns: Mapping[str, Any] = stats.get("takedowns") or {}
    if takedowns.get("gone_by_host"):
        gone = ", ".join(f"{host} {n}" for host, n in sorted(takedowns["gone_by_host"].items()))
        lines.append(f"\nTaken down (gone): {gone}")
        lines.append(
            "  gone from the primary, still on a mirror: "
            f"{takedowns['gone_from_primary_alive_on_mirror']}"
        )
    for report in stats.get("completeness") or []:
        lines.extend(_completeness_lines(report))
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


def _completeness_lines(report: Mapping[str, Any]) -> list[str]:
    if not report.get("stories_with_ids"):
        return []
    lines = [
        (
            f"\nIds of {report['site']}: {report['first_id']}–{report['last_id']}, "
            f"{report['stories_with_ids']} archived, {report['missing_ids']} missing in "
            f"{report['gap_count']} gaps ({report['probed_missing']} asked of the hosts and absent)"
        )
    ]
    if report["gaps"]:
        shown = ", ".join(
            str(g["from"]) if g["from"] == g["to"] else f"{g['from']}–{g['to']}"
            for g in report["gaps"]
        )
        more = "…" if report["gap_count"] > len(report["gaps"]) else ""
        lines.append(f"  gaps: {shown}{more}")
    days = report.get("stories_per_day") or {}
    if days:
        lines.append("  stories per day: " + ", ".join(f"{d} {n}" for d, n in days.items()))
    return lines


def format_mirrors(report: Mapping[str, Any]) -> str:
    """`newsmirror mirrors`: each host's state, candidate mirrors, and the domain timeline."""
    lines = [f"Hosts of {report['site']}:"]
    hosts = report["hosts"]
    width = max((len(h["host"]) for h in hosts), default=0)
    for h in hosts:
        ok = f"  last up {h['last_ok_at']}" if h.get("last_ok_at") else ""
        lines.append(
            f"  {h['host']:<{width}}  {h['role']:<9}  {h['state']:<11}  {h.get('detail') or ''}{ok}"
        )
    if report["candidates"]:
        lines.append("\nCandidate mirrors (not in the profile; add them to crawl them):")
        for c in report["candidates"]:
            lines.append(
                f"  {c['host']}  {c['evidence']}, seen {c['times_seen']}× since "
                f"{c['first_seen_at'][:10]}, e.g. {c['example_url']}"
            )
    if report["timeline"]:
        lines.append("\nTimeline:")
        for e in report["timeline"]:
            lines.append(
                f"  {e['at'][:19]}  {e['host']}  {e['old_state'] or 'new'} → {e['new_state']}"
            )
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
