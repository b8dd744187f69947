"""What a story page says, from its text alone: its fields, its outcome, its links and the
hosts it names. No crawl state, so it runs in a worker process as well as in the crawl's
(crawler/page_readers.py); the spider decides what to do with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.candidates import named_in_alternates, serving_story_urls
from crawler.classify import classify_article
from crawler.extraction import extract_article
from crawler.items import ARTICLE
from crawler.links import Link, page_links
from crawler.profiles import SiteProfile

LINK_MEMORY = 20_000  # link spellings remembered; cleared when full (memory stays flat)


@dataclass(slots=True)
class StoryPage:
    """A story page read: `extracted` fields, the `outcome` they make, the links to stories
    in page order with what each points to (the only links a story page is followed by),
    and (for a story) the hosts outside the profile that it names as the site's alternate
    addresses or links to under the site's story ids."""

    extracted: dict[str, Any]
    outcome: str
    links: list[tuple[str, Link]] = field(default_factory=list)
    named_hosts: list[str] = field(default_factory=list)
    serving_hosts: dict[str, str] = field(default_factory=dict)


class LinkBook:
    """What links point to, worked out once per spelling (menus repeat on every page)."""

    def __init__(self, profile: SiteProfile, limit: int = LINK_MEMORY) -> None:
        self.profile = profile
        self.limit = limit
        self.known: dict[str, Link] = {}

    def __call__(self, raw: str) -> Link:
        found = self.known.get(raw)
        if found is None:
            if len(self.known) >= self.limit:  # a long backfill must not grow it forever
                self.known.clear()
            found = self.known[raw] = Link.of(raw, self.profile)
        return found


def read_story_page(text: str, url: str, key: str, book: LinkBook) -> StoryPage:
    """Read a page fetched as story `key` and found at `url` (it names that story)."""
    profile = book.profile
    extracted = extract_article(text, url, profile)
    every = [(raw, book(raw)) for raw in page_links(text, url)]
    links = [(raw, link) for raw, link in every if link.key is not None]
    others = {link.key for _, link in links} - {key}
    outcome = classify_article(text, extracted, profile, len(others))
    if outcome != ARTICLE:
        return StoryPage(extracted, outcome)
    return StoryPage(
        extracted,
        outcome,
        links,
        sorted(named_in_alternates(text, profile)),
        serving_story_urls(every),
    )
