"""The one item a crawl yields: a capture of one fetched response (or a failed fetch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcomes of a capture, as stored in captures.outcome.
ARTICLE = "article"
UNCHANGED = "unchanged"
LISTING = "listing"
NOT_ARTICLE = "not_article"
SOFT_404 = "soft_404"
SEIZED = "seized"
GONE = "gone"
ERROR = "error"
OUTCOMES = (ARTICLE, UNCHANGED, LISTING, NOT_ARTICLE, SOFT_404, SEIZED, GONE, ERROR)


@dataclass
class Capture:
    """One fetched response, or one fetch that failed, with what was learned from it.

    Plain data with no Scrapy types, so a queue can carry it to the storage writer.
    `article` holds the fields of `crawler.extraction.extract_article` plus the story's
    identity (`key`, `site`, `source_id`, `canonical_url`) when outcome is `article`.
    """

    site: str
    url: str  # logical URL that answered (after redirects), on a profile host
    host: str  # logical host that answered
    fetched_at: str  # ISO 8601 UTC
    outcome: str
    page_type: str = "other"  # article | home | listing | feed | sitemap | robots | other
    requested_url: str | None = None  # logical URL first asked for, when it differs from url
    status: int | None = None
    error: str | None = None
    headers: dict[str, list[str]] = field(default_factory=dict)
    content_type: str | None = None
    body: bytes | None = None  # raw response body as received (decompressed transfer)
    article_key: str | None = None  # story the URL names, even when no story came out
    article: dict[str, Any] | None = None
    story_known: bool = False  # some host answered for this story before this run
    request_id: str | None = None  # distributed runs: the frontier entry this answers
    delivery_id: str | None = None  # distributed runs: given once, so a redelivery is known


@dataclass
class HostVerdict:
    """A crawl gave up on a host mid-run: it serves one page for every path (`seized`) or
    sends every path to one URL (`redirecting`). The run records it in `mirrors`."""

    site: str
    host: str
    state: str
    detail: str
    at: str  # ISO 8601 UTC


@dataclass
class MirrorCandidate:
    """A host outside the profile that looks like one of the site's mirrors: named in the
    site's own alternate-addresses block, or serving story URLs under the site's ids. It is
    recorded for people to judge, and crawled only once it is added to the profile."""

    site: str
    host: str
    evidence: str  # alternate-addresses | story-links
    url: str  # where it was seen
    at: str  # ISO 8601 UTC
