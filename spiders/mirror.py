"""Crawl one site profile across its primary and mirror hosts; every response becomes a Capture."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler import urls
from crawler.classify import classify_article, classify_listing, notice_marker
from crawler.clock import utc_now
from crawler.extraction import extract_article
from crawler.feeds import parse_feed, parse_sitemap, robots_sitemaps
from crawler.hosts import HostBook
from crawler.items import ARTICLE, ERROR, LISTING, NOT_ARTICLE, SEIZED, Capture
from crawler.links import feed_links, page_links
from crawler.middlewares import BudgetExhausted, OffProfileRequest
from crawler.profiles import SiteProfile, load_profile
from crawler.window import Window

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

MIRROR_POLICIES = ("all", "first")
# Callbacks see every status so that 404s, 410s and 5xx become captures; 3xx stay with the
# redirect middleware.
HTTP_ERROR_STATUSES = list(range(400, 600))
MAX_SITEMAP_DEPTH = 3
LINK_MEMORY = 200_000
# Entry points first, then stories as soon as they are found (a small frontier, and a
# --max-pages budget goes to stories early), then sitemaps and listing pages.
PRIORITY = {"robots": 40, "home": 40, "feed": 30, "article": 20, "sitemap": 15, "listing": 10}


class MirrorSpider(scrapy.Spider):
    """Discovers stories on every live host and fetches each from every host (policy `all`)
    or from the primary first and the alternates only when it fails (policy `first`)."""

    name = "mirror"
    profile_name: ClassVar[str | None] = None

    def __init__(
        self,
        profile: SiteProfile | str | None = None,
        since: str | None = None,
        until: str | None = None,
        mirror_policy: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        chosen = profile if profile is not None else self.profile_name
        if chosen is None:
            raise ValueError("give a profile: scrapy crawl mirror -a profile=NAME_OR_PATH")
        self.profile = chosen if isinstance(chosen, SiteProfile) else load_profile(chosen)
        self.window = Window.parse(since, until)
        self.mirror_policy = mirror_policy or "all"
        if self.mirror_policy not in MIRROR_POLICIES:
            raise ValueError(f"mirror_policy must be one of {', '.join(MIRROR_POLICIES)}")
        self.host_policy = HostBook(self.profile)
        self.scheduled: set[tuple[str, str]] = set()  # (story key, host) asked this run
        self.discovered: set[str] = set()  # feed, sitemap and listing URLs asked this run
        self.links: dict[str, Link] = {}  # raw link -> what it is (bounded memo)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        kwargs.setdefault("mirror_policy", crawler.settings.get("NEWSMIRROR_MIRROR_POLICY"))
        spider: Self = super().from_crawler(crawler, *args, **kwargs)
        return spider

    # --- requests ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.entry_requests():
            yield request

    def entry_requests(self) -> Iterator[scrapy.Request]:
        """Home, robots.txt, feeds, sitemaps and section listings of every live host; the
        retired hosts get their home page asked only, to record their state."""
        d = self.profile.discovery
        base = self.profile.scheme + "://"
        for host in self.profile.live_hosts:
            if d.robots_sitemaps:
                yield from self._discover(f"{base}{host}/robots.txt", "robots")
            for path in d.home:
                yield from self._discover(f"{base}{host}{path}", "home")
            for path in d.feeds:
                yield from self._discover(f"{base}{host}{path}", "feed")
            for path in d.sitemaps:
                yield from self._discover(f"{base}{host}{path}", "sitemap", sitemap_depth=0)
            for path in d.sections:
                yield from self._discover(f"{base}{host}{path}", "listing", listing_depth=0)
        for host in self.profile.retired:
            for path in d.home:
                yield from self._discover(f"{base}{host}{path}", "home")

    def _discover(self, url: str, page_type: str, **meta: Any) -> Iterator[scrapy.Request]:
        """A request for a discovery page (home, feed, sitemap, listing), once per run: menus
        and pagination name the same pages over and over."""
        if url not in self.discovered:
            self.discovered.add(url)
            yield self._request_url(url, page_type, **meta)

    def _request_url(self, url: str, page_type: str, **meta: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_page,
            errback=self.on_error,
            priority=PRIORITY[page_type],
            meta={"page_type": page_type, "handle_httpstatus_list": HTTP_ERROR_STATUSES, **meta},
        )

    def link(self, raw: str) -> Link:
        """What a link found on a page points to, worked out once per spelling per run."""
        found = self.links.get(raw)
        if found is None:
            if len(self.links) >= LINK_MEMORY:  # a long backfill must not grow it forever
                self.links.clear()
            found = self.links[raw] = Link.of(raw, self.profile)
        return found

    def story_requests(self, raw: str) -> Iterator[scrapy.Request]:
        """Requests for the story a link names, on the hosts the mirror policy wants, each
        (story, host) once per run. A link to anything but a story gives nothing."""
        link = self.link(raw)
        if link.key is None or link.path is None:
            return
        if not self.window.contains(link.day):
            self._stat("newsmirror/stories_outside_window")
            return
        hosts = self.host_policy.content_hosts()
        if self.mirror_policy == "first":
            hosts, fallbacks = hosts[:1], hosts[1:]
        else:
            fallbacks = []
        base = self.profile.scheme + "://"
        for host in hosts:
            if (link.key, host) not in self.scheduled:
                self.scheduled.add((link.key, host))
                yield self._request_url(
                    base + host + link.path, "article", story_key=link.key, fallbacks=fallbacks
                )

    def fallback_requests(self, request: scrapy.Request) -> Iterator[scrapy.Request]:
        """Policy `first`: the story failed on this host, so ask the next alternate."""
        key = request.meta.get("story_key")
        fallbacks = [
            h for h in request.meta.get("fallbacks", []) if self.host_policy.may_request(h)
        ]
        while key and fallbacks:
            host, fallbacks = fallbacks[0], fallbacks[1:]
            if (key, host) in self.scheduled:
                continue
            self.scheduled.add((key, host))
            url = urls.on_host(request.url, host, self.profile.scheme)
            yield self._request_url(url, "article", story_key=key, fallbacks=fallbacks)
            return

    # --- responses --------------------------------------------------------------------------

    def parse_page(self, response: Response) -> Iterator[Capture | scrapy.Request]:
        page_type: str = response.meta["page_type"]
        capture = self._capture(response, page_type)
        if response.status >= 400 and not (page_type == "robots" and response.status < 500):
            capture.outcome, capture.error = ERROR, f"HTTP {response.status}"
            yield capture
            if page_type == "article":
                yield from self.fallback_requests(response.request)  # type: ignore[arg-type]
            return
        text = response.text if isinstance(response, TextResponse) else None
        if page_type == "article":
            yield from self._on_article(response, capture, text)
        else:
            yield from self._on_discovery(response, capture, text)

    def _on_article(
        self, response: Response, capture: Capture, text: str | None
    ) -> Iterator[Capture | scrapy.Request]:
        key = capture.article_key
        landed = urls.article_ref(response.url, self.profile)
        if text is None or landed is None or landed.key != key:
            # Binary, or redirected away from the story (to the home page, say).
            capture.outcome = SEIZED if text and notice_marker(text, self.profile) else NOT_ARTICLE
        else:
            extracted = extract_article(text, response.url, self.profile)
            capture.outcome = classify_article(text, extracted, self.profile)
            if capture.outcome == ARTICLE:
                if landed.date is None and not self.window.contains_iso(extracted["published_at"]):
                    self._stat("newsmirror/stories_outside_window")
                    return
                capture.article = extracted
        if capture.outcome == SEIZED:
            self._host_seized(capture.host, response.url)
        yield capture
        if capture.outcome != ARTICLE:
            yield from self.fallback_requests(response.request)  # type: ignore[arg-type]
            return
        for link in page_links(text or "", response.url):
            yield from self.story_requests(link)

    def _on_discovery(
        self, response: Response, capture: Capture, text: str | None
    ) -> Iterator[Capture | scrapy.Request]:
        page_type = capture.page_type
        is_html = page_type in ("home", "listing") or "html" in (capture.content_type or "")
        if text is not None and is_html:
            capture.outcome = classify_listing(text, self.profile)
        else:
            capture.outcome = LISTING
        if capture.outcome == SEIZED:
            self._host_seized(capture.host, response.url)
            yield capture
            return
        yield capture
        if capture.host not in self.profile.live_hosts:
            return  # a retired host is probed, never used for discovery
        if page_type == "robots":
            found = robots_sitemaps(text or "")
            yield from self._follow_sitemaps(found, depth=0)
        elif page_type == "sitemap":
            yield from self._on_sitemap(response)
        elif page_type == "feed":
            for entry in parse_feed(response.body):
                yield from self.story_requests(entry.url)
        else:
            yield from self._on_listing(response, text or "")

    def _on_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        kind, entries = parse_sitemap(response.body)
        if kind == "index":
            depth = response.meta.get("sitemap_depth", 0) + 1
            yield from self._follow_sitemaps([e.url for e in entries], depth)
        else:
            for entry in entries:
                yield from self.story_requests(entry.url)

    def _follow_sitemaps(self, found: Iterable[str], depth: int) -> Iterator[scrapy.Request]:
        if depth > MAX_SITEMAP_DEPTH:
            return
        for raw in found:
            url = urls.to_profile_url(raw, self.profile)
            if url:
                yield from self._discover(url, "sitemap", sitemap_depth=depth)

    def _on_listing(self, response: Response, text: str) -> Iterator[scrapy.Request]:
        depth = response.meta.get("listing_depth", -1) + 1
        deeper: list[str] = []
        story_days = []
        for raw in page_links(text, response.url):
            link = self.link(raw)
            if link.kind == "article":
                story_days.append(link.day)
                yield from self.story_requests(raw)
            elif link.kind == "listing" and link.url:
                deeper.append(link.url)
            elif link.kind == "feed" and link.url:
                yield from self._discover(link.url, "feed")
        for raw in feed_links(text, response.url):
            clean = urls.to_profile_url(raw, self.profile)
            if clean:
                yield from self._discover(clean, "feed")
        # Pagination ends where the window ends: a page of stories all older than --since
        # leads only to older ones.
        since = self.window.since
        all_too_old = (
            bool(story_days) and since is not None and all(d and d < since for d in story_days)
        )
        if depth < self.profile.discovery.max_listing_pages and not all_too_old:
            for url in deeper:
                yield from self._discover(url, "listing", listing_depth=depth)

    # --- failures ---------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[Capture | scrapy.Request]:
        request: scrapy.Request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, BudgetExhausted):
            return
        redirected_from = request.meta.get("redirect_urls") or []
        if isinstance(failure.value, OffProfileRequest) and not redirected_from:
            return  # never sent: the host was given up on earlier in the run
        page_type = request.meta.get("page_type", "other")
        first_url = redirected_from[0] if redirected_from else request.url
        host = urls.url_host(first_url)
        capture = Capture(
            site=self.profile.name,
            url=first_url,
            host=host,
            fetched_at=utc_now(),
            outcome=ERROR,
            page_type=page_type,
            requested_url=first_url,
            error=_describe_failure(failure, request),
            article_key=request.meta.get("story_key"),
        )
        yield capture
        if page_type == "article":
            yield from self.fallback_requests(request)

    # --- helpers ----------------------------------------------------------------------------

    def _capture(self, response: Response, page_type: str) -> Capture:
        redirected_from = response.meta.get("redirect_urls") or []
        host = urls.url_host(response.url)
        headers = {
            key.decode("latin-1"): [v.decode("latin-1") for v in values]
            for key, values in response.headers.items()
        }
        content_type = response.headers.get(b"Content-Type")
        return Capture(
            site=self.profile.name,
            url=response.url,
            host=self.profile.resolve_host(host) or host,
            fetched_at=utc_now(),
            outcome=LISTING,
            page_type=page_type,
            requested_url=redirected_from[0] if redirected_from else None,
            status=response.status,
            headers=headers,
            content_type=content_type.decode("latin-1") if content_type else None,
            body=response.body,
            article_key=response.meta.get("story_key"),
        )

    def _host_seized(self, host: str, url: str) -> None:
        if self.host_policy.mark_seized(host, url):
            self.logger.warning(
                "%s serves a seizure or parking notice (%s); not asked again", host, url
            )

    def _stat(self, key: str) -> None:
        if self.crawler is not None:
            self.crawler.stats.inc_value(key)


def _describe_failure(failure: Failure, request: scrapy.Request) -> str:
    if isinstance(failure.value, OffProfileRequest):
        return f"redirect to {urls.url_host(request.url)} (outside the profile) not followed"
    error = failure.value
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"[:500]


@dataclass(frozen=True, slots=True)
class Link:
    """What one link points to, in the profile's terms."""

    kind: str  # article | home | listing | feed | sitemap | robots | other
    url: str | None = None  # cleaned, on the profile's spelling of the host
    key: str | None = None  # article links: the story
    day: dt.date | None = None  # article links: the date in the URL
    path: str | None = None  # article links: the canonical path, asked on every host

    @classmethod
    def of(cls, raw: str, profile: SiteProfile) -> Link:
        url = urls.to_profile_url(raw, profile)
        if url is None:
            return cls("other")
        kind = urls.page_type(url, profile)
        if kind != "article":
            return cls(kind, url)
        ref = urls.article_ref(url, profile)
        canonical = urls.canonical_url(url, profile)
        if ref is None or canonical is None:
            return cls("other", url)
        return cls(kind, url, ref.key, ref.date, urlsplit(canonical).path)
