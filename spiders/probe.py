"""`newsmirror mirrors`: ask every host of a profile a few pages and record what state it is in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from crawler import urls
from crawler.classify import NOTICE_MAX_LINKS
from crawler.feeds import Document
from crawler.hosts import SAME_PAGE_PATHS
from crawler.links import Link
from spiders.mirror import Item, MirrorSpider, page_fingerprint


class ProbeSpider(MirrorSpider):
    """Asks every host of the profile, retired ones included, for its home page, its first
    feed, the newest story in the archive and a story URL that names no story, and nothing
    else. The storage pipeline records each host's state from the answers (`up`, `down`,
    `seized`, `redirecting`) and keeps state changes in `mirror_events`. Besides the
    profile's seizure markers, a host that gives one and the same page for all of these is
    `seized` (a small page) or `redirecting` (every path sent to one URL)."""

    name = "probe"
    checks_stories = False  # a probe extracts at most one story per host: no health verdict
    # A handful of pages: reading them here is cheaper than starting a worker process.
    custom_settings = {"NEWSMIRROR_PAGE_WORKERS": 0}  # noqa: RUF012 - Scrapy's own attribute

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.held = {}  # every probe at once: nothing waits for anything
        self.pages: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    async def start(self) -> AsyncIterator[scrapy.Request]:
        base = self.profile.scheme + "://"
        story = self.archive.latest_story_url()
        story_path = urls.path_and_query(story) if story else None
        story_key = urls.story_key(story, self.profile) if story else None
        discovery = self.profile.discovery
        for host in self.profile.hosts:
            for path in discovery.home[:1]:
                yield self._request_url(f"{base}{host}{path}", "home")
            for path in discovery.feeds[:1]:
                yield self._request_url(f"{base}{host}{path}", "feed")
            if story_path and story_key:
                yield self._request_url(f"{base}{host}{story_path}", "article", story_key=story_key)
            if self.probe:
                yield self._request_url(f"{base}{host}{self.probe}", "probe", probe_host=host)

    async def parse_page(self, response: Response) -> AsyncIterator[Item]:
        for item in self._same_everywhere(response):
            yield item
        async for item in super().parse_page(response):
            yield item

    def _same_everywhere(self, response: Response) -> Iterator[Item]:
        asked = (response.meta.get("redirect_urls") or [response.url])[0]
        host = urls.url_host(asked)
        kinds = self.pages[host][page_fingerprint(response)]
        kinds.add(response.meta["page_type"])
        if len(kinds) < SAME_PAGE_PATHS or response.status >= 400:
            return
        if response.meta.get("redirect_urls"):
            yield from self._give_up(host, "redirecting", f"every path sent to {response.url}")
            return
        text = response.text if isinstance(response, TextResponse) else ""
        if text.lower().count("<a ") <= NOTICE_MAX_LINKS:
            yield from self._give_up(host, "seized", f"one page for every path, as {response.url}")

    def is_answered(self, request: scrapy.Request) -> bool:
        # The newest story is asked of every host however long ago it was answered: what a
        # host gives for it is the probe (an incremental run's skip does not apply).
        return False

    def story_requests(
        self, raw: str, recheck: bool = False, link: Link | None = None
    ) -> Iterator[scrapy.Request]:
        return iter(())  # a probe follows nothing

    def _follow_links(
        self, response: Response, text: str | None, document: Document | None = None
    ) -> Iterator[scrapy.Request]:
        return iter(())
