"""Read stored raw pages again with a profile and write the readings that changed, offline.

The rule. A story page is read again *as of the time it was fetched*: its raw bytes, decoded
as the crawl decoded them, go through `extract_article` with the profile, and when the text
(content_hash) differs from what that fetch gave before, the new reading is written through
`Store.write_captures` as a capture of a `crawl_runs` row of its own (params `command:
reextract`), with the fetch's own URL, host, time, status, headers and raw page. So the
rules of versions and of the story row stay those of a crawl:

- the same reading adds nothing at all: no capture, no version, no change to any row;
- a new reading is a version first seen when the page was first fetched (the text *is* what
  the host served then, read better), and the story row follows the primary's latest reading;
- a 304 answer stands for the page it confirmed (the host's previous stored page of the
  story), so a story whose latest fetch was a 304 is read again up to that time too;
- earlier readings stay as versions (a version is never overwritten or deleted). A version
  every fetch of which has been read again differently is *superseded*: `newsmirror diff`
  hides it unless asked, so a better extraction does not look like an edit.

Only pages that gave a story (outcome `article` or `unchanged`) are read again: a
`soft_404`, `seized` or `not_article` verdict rested on more than the page (the host's probe
page, redirects, one page for many paths), which a raw page alone cannot re-judge. A page
the profile no longer reads as a story keeps its old reading, and is counted. Nothing is
fetched: there is no network here.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Headers, TextResponse
from scrapy.responsetypes import responsetypes

from crawler import urls
from crawler.classify import classify_article
from crawler.dedupe import content_hash
from crawler.export.selection import Selection, iter_articles
from crawler.extraction import extract_article
from crawler.items import ARTICLE, Capture
from crawler.links import page_links
from crawler.profiles import SiteProfile
from crawler.storage import Store, WriteResult

BATCH_CAPTURES = 200  # re-read captures per write_captures transaction
STORIES_PER_READ = 100  # stories whose captures are read in one query


@dataclass
class ReextractStats:
    """What one reextract did; the crawl_runs row keeps it as its stats."""

    stories: int = 0  # stories looked at
    pages: int = 0  # fetches read again (pages, and 304s standing for the page they confirmed)
    changed_pages: int = 0  # fetches whose reading changed: written as captures
    stories_changed: int = 0  # stories with at least one changed reading
    rows_changed: int = 0  # story rows that now show other content
    new_versions: int = 0
    unreadable: int = 0  # fetches with no stored page to read (kept as they were)
    not_stories: int = 0  # fetches the profile no longer reads as a story (kept as they were)
    elapsed_seconds: float = 0.0
    examples_not_stories: list[str] = field(default_factory=list)  # a few keys, to look at

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Fetch:
    """One fetch of a story page, with its latest reading and the stored page it stands for."""

    first: dict[str, Any]  # the crawl's capture row (the earliest row of this fetch)
    content_hash: str  # its latest reading
    page: dict[str, Any] | None  # the capture row whose raw page holds the bytes read


Progress = Callable[[ReextractStats], None]
ProfileFor = Callable[[str], SiteProfile]


def reextract(
    store: Store,
    run_id: int,
    selection: Selection,
    profile_for: ProfileFor,
    *,
    progress: Progress | None = None,
    every: int = 1000,
) -> ReextractStats:
    """Read the selected stories' pages again; `profile_for(site)` names the profile of each
    site. Calls `progress` every `every` stories. See the module docstring for the rule."""
    stats = ReextractStats()
    started = time.monotonic()
    pending: list[Capture] = []
    for page in _story_pages(store, selection):
        captures = store.serving_captures([story["key"] for story in page])
        by_key: dict[str, list[dict[str, Any]]] = {}
        for row in captures:
            by_key.setdefault(row["article_key"], []).append(row)
        for story in page:
            changed = _read_story(
                store, story, by_key.get(story["key"], []), profile_for(story["site"]), stats
            )
            stats.stories += 1
            if changed:
                stats.stories_changed += 1
                pending.extend(changed)
            # A story's readings go in one transaction, so its row is rebuilt once.
            if len(pending) >= BATCH_CAPTURES:
                _write(store, run_id, pending, stats)
                pending = []
            if progress is not None and stats.stories % every == 0:
                stats.elapsed_seconds = round(time.monotonic() - started, 3)
                progress(stats)
    if pending:
        _write(store, run_id, pending, stats)
    stats.elapsed_seconds = round(time.monotonic() - started, 3)
    return stats


def selected_sites(store: Store, selection: Selection) -> list[str]:
    """The sites of the selected stories (each needs its profile before anything is read)."""
    where, params = selection.where()
    rows = store.db.conn.execute(
        f"SELECT DISTINCT a.site FROM articles AS a WHERE {where} ORDER BY a.site",  # noqa: S608 - conditions built by Selection, values are parameters
        params,
    )
    return [row[0] for row in rows]


def _story_pages(store: Store, selection: Selection) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    for row in iter_articles(store, selection):
        page.append({"key": row["key"], "site": row["site"], "source_id": row["source_id"]})
        if len(page) >= STORIES_PER_READ:
            yield page
            page = []
    if page:
        yield page


def _write(store: Store, run_id: int, captures: list[Capture], stats: ReextractStats) -> None:
    result: WriteResult = store.write_captures(run_id, captures)
    stats.rows_changed += result.updated_stories
    stats.new_versions += result.new_versions


def fetches(rows: Sequence[dict[str, Any]]) -> list[Fetch]:
    """A story's serving capture rows (by host, time, id) as fetches: rows of one host, URL
    and time are readings of one fetch, the last one current. A fetch without a raw page (a
    304) stands for the host's latest earlier fetch that has one."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["host"], row["url"], row["fetched_at"]), []).append(row)
    result: list[Fetch] = []
    last_page: dict[str, dict[str, Any]] = {}  # host -> latest fetch with a raw page
    for (host, _, _), readings in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        first = readings[0]
        page = first if first["raw_sha256"] else last_page.get(host)
        if first["raw_sha256"]:
            last_page[host] = first
        result.append(Fetch(first, readings[-1]["content_hash"], page))
    return result


@dataclass(frozen=True)
class Reading:
    """What a stored page gives under a profile."""

    verdict: str  # "story" | "not a story" | "unreadable" (no page, or not text)
    article: dict[str, Any] | None = None  # the story fields, identity included
    content_hash: str | None = None
    body: bytes | None = None  # the raw page, for the capture that records the reading


UNREADABLE = Reading("unreadable")
EXAMPLES = 5  # keys of stories the profile no longer reads, kept in the stats


def _read_story(
    store: Store,
    story: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    profile: SiteProfile,
    stats: ReextractStats,
) -> list[Capture]:
    """The captures of the story's fetches whose reading changed."""
    readings: dict[tuple[str, str], Reading] = {}  # (raw sha256, url) -> its reading
    changed: list[Capture] = []
    for fetch in fetches(rows):
        stats.pages += 1
        reading = UNREADABLE
        if fetch.page is not None:
            source = (fetch.page["raw_sha256"], fetch.page["url"])
            if source not in readings:
                # Re-fetches of an unchanged page are the very same bytes: read them once.
                readings[source] = read_page(store, fetch.page, story, profile)
            reading = readings[source]
        if reading.verdict == "unreadable":
            stats.unreadable += 1
        elif reading.verdict != "story":
            stats.not_stories += 1
            if story["key"] not in stats.examples_not_stories and (
                len(stats.examples_not_stories) < EXAMPLES
            ):
                stats.examples_not_stories.append(story["key"])
        elif reading.content_hash != fetch.content_hash:
            changed.append(_capture(fetch, story, reading))
            stats.changed_pages += 1
    return changed


def read_page(
    store: Store, row: dict[str, Any], story: dict[str, Any], profile: SiteProfile
) -> Reading:
    """The story a stored page gives under `profile`, judged as the crawl judges a page
    (classify_article on the new reading)."""
    body = store.raw_page(row["raw_sha256"])
    text = page_text(body, row["url"], row["headers"], row["content_type"]) if body else None
    if text is None:
        return UNREADABLE
    article = extract_article(text, row["url"], profile)
    key = story["key"]
    others = {_link_key(link, profile) for link in page_links(text, row["url"])} - {key, None}
    if classify_article(text, article, profile, len(others)) != ARTICLE:
        return Reading("not a story")
    # The story's identity is the archive's, whatever the profile's pattern makes of the URL.
    article["key"], article["source_id"] = key, story["source_id"]
    article["site"] = story["site"]
    return Reading("story", article, content_hash(article.get("title"), article.get("body")), body)


def _link_key(raw: str, profile: SiteProfile) -> str | None:
    url = urls.to_profile_url(raw, profile)
    return urls.story_key(url, profile) if url else None


def page_text(
    body: bytes, url: str, headers: dict[str, list[str]], content_type: str | None
) -> str | None:
    """A raw page as text, decoded exactly as the crawl decoded it (Scrapy's rules: BOM, the
    Content-Type charset, the page's own declaration, then detection); None when the page
    is not text. The same bytes must give the same text, or a same-profile run would find
    changes that are only decoding."""
    values = dict(headers)
    if content_type and not any(name.lower() == "content-type" for name in values):
        values["Content-Type"] = [content_type]
    scrapy_headers = Headers(values)
    cls = responsetypes.from_args(headers=scrapy_headers, url=url, body=body)
    if not issubclass(cls, TextResponse):
        return None
    text: str = cls(url=url, body=body, headers=scrapy_headers).text
    return text


def _capture(fetch: Fetch, story: dict[str, Any], reading: Reading) -> Capture:
    """The new reading of a fetch, as a capture of that fetch: its URL, host, time, status
    and headers, and its raw page when it had one (a 304 had none)."""
    row = fetch.first
    return Capture(
        site=story["site"],
        url=row["url"],
        host=row["host"],
        fetched_at=row["fetched_at"],
        outcome=ARTICLE,
        page_type=row["page_type"] or "article",
        requested_url=row["requested_url"],
        status=row["status"],
        headers=row["headers"],
        content_type=row["content_type"],
        body=reading.body if row["raw_sha256"] else None,
        article_key=story["key"],
        article=reading.article,
    )
