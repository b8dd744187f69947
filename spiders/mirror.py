"""Crawl one site profile across its primary and mirror hosts; every response becomes a Capture."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.responsetypes import responsetypes
from twisted.python.failure import Failure

from crawler import urls
from crawler.classify import (
    NOTICE_MAX_LINKS,
    classify_listing,
    find_marker,
    notice_marker,
    visible_text,
)
from crawler.clock import utc_now
from crawler.feeds import Document, read_feed, read_sitemap, robots_sitemaps
from crawler.hosts import PROBE_ANSWERED, SAME_PAGE_PATHS, HostBook, probe_path
from crawler.items import (
    ARTICLE,
    ERROR,
    LISTING,
    NOT_ARTICLE,
    SEIZED,
    SOFT_404,
    UNCHANGED,
    Capture,
    HostVerdict,
    MirrorCandidate,
)
from crawler.links import Link, feed_links, page_links
from crawler.middlewares import AlreadyAnswered, BudgetExhausted, OffProfileRequest
from crawler.page_readers import PageReaders, parse_workers
from crawler.profiles import SiteProfile, load_profile
from crawler.reading import LinkBook, StoryPage
from crawler.routing import Route, logical_text, parse_connect_to
from crawler.state import CrawlState
from crawler.window import Window, parse_id_range

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

MIRROR_POLICIES = ("all", "first")
# Callbacks see every status so that 304s, 404s, 410s and 5xx become captures; other 3xx stay
# with the redirect middleware.
HANDLED_STATUSES = [304, *range(400, 600)]
MAX_SITEMAP_DEPTH = 3
DEFAULT_RECHECK_DAYS = 7.0
# Entry points first, then stories as soon as they are found (a small frontier, and a
# --max-pages budget goes to stories early), then sitemaps and listing pages.
PRIORITY = {
    "probe": 50,
    "robots": 40,
    "home": 40,
    "feed": 30,
    "article": 20,
    "sitemap": 15,
    "listing": 10,
}

Item = Capture | HostVerdict | MirrorCandidate | scrapy.Request


class MirrorSpider(scrapy.Spider):
    """Discovers stories on every live host and fetches each from every host (policy `all`)
    or from the primary first and the alternates only when it fails (policy `first`).

    Runs are incremental: a story every host has answered for before is not asked again
    unless it was published within the recheck window (then it is asked of every live host,
    conditionally, for edits and takedowns); listing pagination stops at a page holding only
    known stories. `full=True` walks and asks everything (still conditionally).
    """

    name = "mirror"
    profile_name: ClassVar[str | None] = None

    def __init__(
        self,
        profile: SiteProfile | str | None = None,
        *,
        since: str | None = None,
        until: str | None = None,
        mirror_policy: str | None = None,
        full: bool | str = False,
        backfill_ids: str | None = None,
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
        self.full = full in (True, "1", "true", "yes")
        self.backfill = parse_id_range(backfill_ids) if backfill_ids else None
        if self.backfill and not self.profile.article.id_path:
            raise ValueError(f"profile {self.profile.name} has no article.id_path to backfill by")
        self.candidates: set[str] = set()  # foreign hosts reported this run
        self.distributed = False  # a fleet worker (set from settings in from_crawler)
        self.routes: dict[str, Route] = {}  # --connect-to, to name hosts in error messages
        self.worker_index, self.worker_count = 0, 1
        self.host_policy = HostBook(self.profile)
        self.archive = CrawlState()
        self.scheduled: set[tuple[str, str]] = set()  # (story key, host) asked this run
        self.asked_now: set[tuple[str, str]] = set()  # (story key, host) sent out this run
        # Story requests wait for their host's probe, which tells a parked host's one page
        # apart from a story before any of its pages can be taken for one.
        self.probe = probe_path(self.profile)
        self.held: dict[str, list[scrapy.Request]] = (
            {host: [] for host in self.profile.live_hosts} if self.probe else {}
        )
        self.discovered: set[str] = set()  # feed, sitemap and listing URLs asked this run
        self.link = LinkBook(self.profile)  # what each link spelling points to (bounded)
        self.readers = PageReaders(self.profile, 0, self.link)  # workers set in from_crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        settings = crawler.settings
        kwargs.setdefault("mirror_policy", settings.get("NEWSMIRROR_MIRROR_POLICY"))
        kwargs.setdefault("full", settings.getbool("NEWSMIRROR_FULL"))
        kwargs.setdefault("backfill_ids", settings.get("NEWSMIRROR_BACKFILL_IDS") or None)
        spider: Self = super().from_crawler(crawler, *args, **kwargs)
        spider.distributed = settings.getbool("NEWSMIRROR_DISTRIBUTED")
        spider.routes = parse_connect_to(settings.getlist("NEWSMIRROR_CONNECT_TO"))
        spider.worker_index = settings.getint("NEWSMIRROR_WORKER_INDEX")
        spider.worker_count = max(1, settings.getint("NEWSMIRROR_WORKER_COUNT", 1))
        days = settings.getfloat("NEWSMIRROR_RECHECK_DAYS", DEFAULT_RECHECK_DAYS)
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        spider.archive = CrawlState.load(
            settings.get("NEWSMIRROR_DB"), spider.profile, since, settings.get("JOBDIR")
        )
        # A fleet runs a worker process per core already: "auto" reads pages in each.
        workers = parse_workers(
            settings.get("NEWSMIRROR_PAGE_WORKERS"), auto=0 if spider.distributed else None
        )
        spider.readers = PageReaders(spider.profile, workers, spider.link)
        crawler.signals.connect(spider.readers.start, signal=signals.spider_opened)
        crawler.signals.connect(spider.archive_closed, signal=signals.spider_closed)
        return spider

    def archive_closed(self) -> None:
        never_sent = {host: len(waiting) for host, waiting in self.held.items() if waiting}
        if never_sent:
            self.logger.warning(
                "%d story requests were never sent: the probe of their hosts never answered (%s)",
                sum(never_sent.values()),
                ", ".join(sorted(never_sent)),
            )
        self.readers.close()
        self.archive.close()

    # --- requests ---------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.backfill is not None:
            for request in self.backfill_requests(*self.backfill):
                yield request
            return
        for request in self.entry_requests():
            yield request
        # Stories published within the recheck window are asked again of every live host,
        # for edits and takedowns, whether or not discovery finds them.
        rechecked = self.archive.every_story() if self.full else iter(self.archive.recent.values())
        for url in rechecked:
            for request in self.story_requests(url, recheck=True):
                yield request

    def entry_requests(self) -> Iterator[scrapy.Request]:
        """Home, robots.txt, feeds, sitemaps and section listings of every live host; the
        retired hosts get their home page asked only, to record their state."""
        d = self.profile.discovery
        base = self.profile.scheme + "://"
        for host in self.profile.live_hosts:
            if self.probe is not None:
                # What the host answers for a story it cannot have: a parked or seized host
                # answers every story URL with that same page, whatever its wording.
                yield self._request_url(f"{base}{host}{self.probe}", "probe", probe_host=host)
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

    def backfill_requests(self, first: int, last: int) -> Iterator[scrapy.Request]:
        """Every id in the range the archive has no story for, asked of every live host at
        the profile's id-only address (a redirect to the full address is followed)."""
        base = self.profile.scheme + "://"
        id_path = self.profile.article.id_path or ""
        for host in self.profile.live_hosts:
            if self.probe is not None:
                yield self._request_url(f"{base}{host}{self.probe}", "probe", probe_host=host)
        for story_id in range(first, last + 1):
            if story_id % self.worker_count != self.worker_index:
                continue  # a fleet's workers split the range between them
            key = f"{self.profile.name}:{story_id}"
            path = id_path.replace("{id}", str(story_id))
            for host in self.host_policy.content_hosts():
                if self.archive.has_answered(key, host) and not self.full:
                    continue
                request = self._request_url(
                    base + host + path, "article", story_key=key, backfill=True
                )
                yield from self._hold_or_send(host, request)

    def _discover(self, url: str, page_type: str, **meta: Any) -> Iterator[scrapy.Request]:
        """A request for a discovery page (home, feed, sitemap, listing), once per run: menus
        and pagination name the same pages over and over. Conditional when it was seen
        before, so an unchanged feed or sitemap costs a 304."""
        if url in self.discovered:
            return
        self.discovered.add(url)
        yield self._request_url(url, page_type, self.archive.page_validators(url), **meta)

    def _request_url(
        self,
        url: str,
        page_type: str,
        validators: tuple[str | None, str | None] = (None, None),
        **meta: Any,
    ) -> scrapy.Request:
        etag, modified = validators
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_page,
            errback=self.on_error,
            priority=PRIORITY[page_type],
            # Our own bookkeeping (discovered, scheduled, story_checks) decides what is asked
            # twice; Scrapy's fingerprint filter would also drop what a resumed --jobdir
            # run must ask again. A fleet is the exception: its workers share one filter in
            # Redis, keyed by story and host, so that a story is asked once by the fleet.
            dont_filter=not self.distributed or page_type == "probe",
            meta={"page_type": page_type, "handle_httpstatus_list": HANDLED_STATUSES, **meta},
        )

    def story_requests(
        self, raw: str, recheck: bool = False, link: Link | None = None
    ) -> Iterator[scrapy.Request]:
        """Requests for the story a link names, on the hosts the mirror policy wants, each
        (story, host) once per run. A link to anything but a story gives nothing.

        A host that answered for the story in an earlier run is skipped, unless the story is
        within the recheck window or the run is `full`; when it is asked, the request is
        conditional on what the host served last.
        """
        link = link or self.link(raw)
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
        again = recheck or self.full or link.key in self.archive.recent
        base = self.profile.scheme + "://"
        known = self.archive.is_known(link.key)
        for host in hosts:
            if (link.key, host) in self.scheduled:
                continue
            self.scheduled.add((link.key, host))
            if not again and self.archive.has_answered(link.key, host):
                self._stat("newsmirror/stories_skipped_known")
                continue
            yield from self._hold_or_send(
                host,
                self._request_url(
                    base + host + link.path,
                    "article",
                    self.archive.story_validators(link.key, host),
                    story_key=link.key,
                    story_known=known,
                    fallbacks=fallbacks,
                ),
            )

    def is_answered(self, request: scrapy.Request) -> bool:
        """Whether a story request need not go out after all: asked already in this run, or
        answered in an earlier one (outside the recheck window). Requests restored from a
        resumed --jobdir queue never passed story_requests(); this keeps them from asking
        anything twice. Retries and redirects are the same ask, and always pass."""
        key = request.meta.get("story_key")
        if key is None or request.meta.get("retry_times") or request.meta.get("redirect_times"):
            return False
        pair = (key, urls.url_host(request.url))
        if pair in self.asked_now:
            return True
        again = self.full or key in self.archive.recent
        if not again and self.archive.has_answered(*pair):
            return True
        self.asked_now.add(pair)
        return False

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
            yield from self._hold_or_send(
                host,
                self._request_url(
                    url,
                    "article",
                    self.archive.story_validators(key, host),
                    story_key=key,
                    story_known=request.meta.get("story_known", False),
                    fallbacks=fallbacks,
                ),
            )
            return

    def _hold_or_send(self, host: str, request: scrapy.Request) -> Iterator[scrapy.Request]:
        held = self.held.get(host)
        if held is None:
            yield request
        else:
            held.append(request)

    def _probe_answered(self, host: str) -> Iterator[scrapy.Request]:
        """The host's probe answered here: send what waited for it, and say so (PROBE_ANSWERED;
        in a fleet the probe came to this worker only, and others hold requests for it too)."""
        if self.crawler is not None:
            verdict = self.host_policy.verdicts.get(host)
            self.crawler.signals.send_catch_log(
                PROBE_ANSWERED,
                host=host,
                fingerprint=self.host_policy.probes.get(host),
                verdict=(verdict.state, verdict.detail) if verdict else None,
            )
        yield from self._release(host)

    def awaited_probes(self) -> list[str]:
        """The hosts whose probe has not answered in this process yet."""
        return list(self.held)

    def adopt_probe(
        self, host: str, fingerprint: str | None, verdict: tuple[str, str] | None
    ) -> list[scrapy.Request]:
        """Another fleet worker's answer to the host's probe: taken as if it had come here.
        Returns the requests that waited for it, to be scheduled (none if the host is given
        up, or nothing waited)."""
        if host not in self.held:
            return []
        if fingerprint is not None:
            self.host_policy.probes.setdefault(host, fingerprint)
        if verdict is not None:
            self.host_policy.give_up(host, *verdict)  # the answering worker reported it
        return list(self._release(host))

    def _release(self, host: str) -> Iterator[scrapy.Request]:
        """The host's probe answered (or failed): send what waited for it, unless the
        probe showed the host is gone."""
        waiting = self.held.pop(host, None) or []
        if self.host_policy.may_request(host):
            yield from waiting

    # --- responses --------------------------------------------------------------------------

    async def parse_page(self, response: Response) -> AsyncIterator[Item]:
        """Everything a response leads to, its capture last (see `captures_last`)."""
        page_type: str = response.meta["page_type"]
        if page_type != "article" or response.status >= 400 or response.status == 304:
            for item in captures_last(self._parse_other(response, page_type)):
                yield item
            return
        captures: list[Capture] = []
        async for item in self._on_story_page(response):
            if isinstance(item, Capture):
                captures.append(item)
            else:
                yield item
        for capture in captures:
            yield capture

    def _parse_other(self, response: Response, page_type: str) -> Iterator[Item]:
        """Everything but a story page's 200: 304s, probes, errors and discovery pages."""
        capture = self._capture(response, page_type)
        if response.status == 304:
            # Not modified since the validators we sent: the host still serves what it did.
            capture.outcome = UNCHANGED if page_type == "article" else LISTING
            yield capture
            if page_type != "article":
                # What it links to may still be unvisited (a sitemap's children, a listing's
                # next pages after an interrupted run): read the links from the stored copy.
                yield from self._on_unchanged_discovery(response)
            return
        if page_type == "probe":
            yield from self._on_probe(response, capture)
            return
        if response.status >= 400 and not (page_type == "robots" and response.status < 500):
            capture.outcome, capture.error = ERROR, f"HTTP {response.status}"
            yield capture
            if page_type == "article":
                yield from self.fallback_requests(response.request)  # type: ignore[arg-type]
            return
        text = response.text if isinstance(response, TextResponse) else None
        yield from self._on_discovery(response, capture, text)

    async def _on_story_page(self, response: Response) -> AsyncIterator[Item]:
        """A story page's answer (not an error, not a 304): read it (in a page worker when
        there are any), then decide what it is and what to ask next."""
        capture = self._capture(response, "article")
        text = response.text if isinstance(response, TextResponse) else None
        key = capture.article_key
        asked = (response.meta.get("redirect_urls") or [response.url])[0]
        fingerprint = page_fingerprint(response)
        landed = urls.article_ref(response.url, self.profile)
        if landed is None and response.meta.get("backfill") and key:
            # An id-only address the host answered in place, without redirecting.
            landed = urls.ArticleRef(key=key, source_id=key.split(":", 1)[-1], groups={})
        page: StoryPage | None = None
        if self.host_policy.gives_probe_page(urls.url_host(asked), fingerprint):
            # The very page the host gives for a story that cannot exist: no story here.
            capture.outcome = SOFT_404 if _says_not_found(text, self.profile) else NOT_ARTICLE
        elif text is None or landed is None or landed.key != key:
            # Binary, or redirected away from the story (to the home page, say).
            capture.outcome = SEIZED if text and notice_marker(text, self.profile) else NOT_ARTICLE
        else:
            page = await self.readers.read(text, response.url, landed.key)
            capture.outcome = page.outcome
            if capture.outcome == ARTICLE:
                extracted = page.extracted
                if landed.date is None and not self.window.contains_iso(extracted["published_at"]):
                    self._stat("newsmirror/stories_outside_window")
                    return
                extracted["key"], extracted["source_id"] = landed.key, landed.source_id
                capture.article = extracted
                self.host_policy.served_story(capture.host)
        for item in self._after_story_page(response, capture, text, (asked, fingerprint), page):
            yield item

    def _after_story_page(
        self,
        response: Response,
        capture: Capture,
        text: str | None,
        asked: tuple[str, str],
        page: StoryPage | None,
    ) -> Iterator[Item]:
        """What follows a story page: host verdicts, its capture, then what it leads to.
        `asked` is the URL first asked and the answer's fingerprint."""
        asked_url, fingerprint = asked
        if capture.outcome not in (ARTICLE, SEIZED):
            yield from self._one_page_for_all(response, capture, text, asked_url, fingerprint)
        if capture.outcome == SEIZED:
            yield from self._give_up(capture.host, "seized", f"seizure notice at {response.url}")
        yield capture
        if capture.outcome != ARTICLE or page is None:
            yield from self.fallback_requests(response.request)  # type: ignore[arg-type]
            return
        yield from self._candidates(response.url, page)
        for raw, link in page.links:
            yield from self.story_requests(raw, link=link)

    def _candidates(self, url: str, page: StoryPage) -> Iterator[MirrorCandidate]:
        """Hosts outside the profile the page names as the site's alternate addresses, or
        links to under the site's story ids: reported once per run, never crawled."""
        found = dict.fromkeys(page.named_hosts, ("alternate-addresses", url))
        for host, link in page.serving_hosts.items():
            found.setdefault(host, ("story-links", link))
        for host, (evidence, where) in sorted(found.items()):
            if host not in self.candidates:
                self.candidates.add(host)
                self.logger.info("%s looks like a mirror (%s at %s)", host, evidence, where)
                yield MirrorCandidate(self.profile.name, host, evidence, where, utc_now())

    def _one_page_for_all(
        self, response: Response, capture: Capture, text: str | None, asked: str, fingerprint: str
    ) -> Iterator[HostVerdict]:
        """Structure, not wording: when different story URLs of a host that has given no
        story this run all give one and the same page, the host no longer serves the site.
        A small page is a notice or a parking page, whatever it says (`seized`); every path
        sent to one URL is `redirecting`. The site's own "not found" template, or a page with
        the site's chrome (its home page for any missing story), is neither."""
        host = urls.url_host(asked)
        paths = self.host_policy.same_page(host, urlsplit(asked).path, fingerprint)
        if paths < SAME_PAGE_PATHS or self.host_policy.has_served_story(host):
            return
        if response.meta.get("redirect_urls"):
            yield from self._give_up(host, "redirecting", f"every path sent to {response.url}")
        elif (
            text is not None
            and text.lower().count("<a ") <= NOTICE_MAX_LINKS
            and not _says_not_found(text, self.profile)
        ):
            capture.outcome = SEIZED

    def _on_probe(self, response: Response, capture: Capture) -> Iterator[Item]:
        host: str = response.meta["probe_host"]
        if response.status in (404, 410):
            capture.outcome = NOT_ARTICLE  # the expected answer: no story there
        elif response.status >= 400:
            capture.outcome, capture.error = ERROR, f"HTTP {response.status}"
        else:
            self.host_policy.probes[host] = page_fingerprint(response)
            text = response.text if isinstance(response, TextResponse) else None
            notice = text is not None and notice_marker(text, self.profile) is not None
            capture.outcome = SEIZED if notice else SOFT_404
            if notice:
                yield from self._give_up(host, "seized", f"seizure notice at {response.url}")
        yield capture
        yield from self._probe_answered(host)

    def _on_discovery(
        self, response: Response, capture: Capture, text: str | None
    ) -> Iterator[Item]:
        page_type = capture.page_type
        is_html = page_type in ("home", "listing") or "html" in (capture.content_type or "")
        if text is not None and is_html:
            capture.outcome = classify_listing(text, self.profile)
        else:
            capture.outcome = LISTING
        if capture.outcome == SEIZED:
            yield from self._give_up(capture.host, "seized", f"seizure notice at {response.url}")
            yield capture
            return
        document = None
        if page_type in ("feed", "sitemap"):
            document = (read_feed if page_type == "feed" else read_sitemap)(response.body)
            # Kept as fetched, and followed as far as it reads, but an operator must see it.
            capture.error = document.problem
        yield capture
        yield from self._follow_links(response, text, document)

    def _follow_links(
        self, response: Response, text: str | None, document: Document | None = None
    ) -> Iterator[scrapy.Request]:
        """What a discovery page leads to: sitemaps, stories, feeds, further listing pages."""
        if urls.url_host(response.url) not in self.profile.live_hosts:
            return  # a retired host is probed, never used for discovery
        page_type = response.meta["page_type"]
        if page_type == "robots":
            yield from self._follow_sitemaps(robots_sitemaps(text or ""), depth=0)
        elif page_type == "sitemap":
            yield from self._on_sitemap(document or read_sitemap(response.body), response)
        elif page_type == "feed":
            for entry in (document or read_feed(response.body)).entries:
                yield from self.story_requests(entry.url)
        else:
            yield from self._on_listing(response, text or "")

    def _on_unchanged_discovery(self, response: Response) -> Iterator[scrapy.Request]:
        body = self.archive.page_body(response.url)
        if body is None:
            return
        # A 304 carries no Content-Type, so the class (and so the text decoding) comes from
        # the stored body itself.
        kind = responsetypes.from_args(url=response.url, body=body)
        stored = kind(url=response.url, body=body, status=200, request=response.request)
        text = stored.text if isinstance(stored, TextResponse) else None
        yield from self._follow_links(stored, text)

    def _on_sitemap(self, document: Document, response: Response) -> Iterator[scrapy.Request]:
        if document.kind == "index":
            depth = response.meta.get("sitemap_depth", 0) + 1
            yield from self._follow_sitemaps([e.url for e in document.entries], depth)
        else:
            for entry in document.entries:
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
        stories: list[Link] = []
        for raw in page_links(text, response.url):
            link = self.link(raw)
            if link.kind == "article":
                stories.append(link)
                yield from self.story_requests(raw)
            elif link.kind == "listing" and link.url:
                deeper.append(link.url)
            elif link.kind == "feed" and link.url:
                yield from self._discover(link.url, "feed")
        for raw in feed_links(text, response.url):
            clean = urls.to_profile_url(raw, self.profile)
            if clean:
                yield from self._discover(clean, "feed")
        if depth < self.profile.discovery.max_listing_pages and self._page_further(stories):
            for url in deeper:
                yield from self._discover(url, "listing", listing_depth=depth)

    def _page_further(self, stories: list[Link]) -> bool:
        """Whether a listing's next pages can hold anything this run wants."""
        if not stories:
            return True
        since = self.window.since
        if since is not None and all(s.day and s.day < since for s in stories):
            return False  # every story older than --since: the next pages are older still
        if self.full or self.archive.resuming:
            return True  # a resumed run finishes the walk the interrupted one began
        # Incremental: a page of stories all seen before means the rest were seen too.
        return not all(s.key and self.archive.is_known(s.key) for s in stories)

    # --- failures ---------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> Iterator[Item]:
        yield from captures_last(self._on_failure(failure))

    def _on_failure(self, failure: Failure) -> Iterator[Item]:
        request: scrapy.Request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, (BudgetExhausted, AlreadyAnswered)):
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
            error=logical_text(
                _describe_failure(failure, request), self.routes, self.profile.scheme
            ),
            article_key=request.meta.get("story_key"),
            request_id=request.meta.get("fleet_id"),
            story_known=request.meta.get("story_known", False),
        )
        if isinstance(failure.value, OffProfileRequest) and page_type == "article":
            target = f"redirect:{urls.url_host(request.url)}"
            if (
                self.host_policy.same_page(host, urlsplit(first_url).path, target)
                >= SAME_PAGE_PATHS
            ):
                detail = f"every path sent outside the profile, to {urls.url_host(request.url)}"
                yield from self._give_up(host, "redirecting", detail)
        yield capture
        if page_type == "article":
            yield from self.fallback_requests(request)
        elif page_type == "probe":
            yield from self._probe_answered(request.meta["probe_host"])

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
            body=response.body if response.status != 304 else None,
            article_key=response.meta.get("story_key"),
            request_id=response.meta.get("fleet_id"),
            story_known=response.meta.get("story_known", False),
        )

    def _give_up(self, host: str, state: str, detail: str) -> Iterator[HostVerdict]:
        if self.host_policy.give_up(host, state, detail):
            self.logger.warning("%s is %s (%s); not asked again this run", host, state, detail)
            yield HostVerdict(self.profile.name, host, state, detail, utc_now())

    def _stat(self, key: str) -> None:
        if self.crawler is not None:
            self.crawler.stats.inc_value(key)


def captures_last(items: Iterable[Item]) -> Iterator[Item]:
    """`items` with their captures moved to the end. In a fleet a capture drops its request
    from the worker's in-flight hash: handed over last, the links and probe answers the page
    gave are on the frontier and in Redis by then. The fleet never looks idle between a
    page's capture and its links, and a worker killed in between leaves the request to be
    asked again, not its links lost."""
    captures: list[Capture] = []
    for item in items:
        if isinstance(item, Capture):
            captures.append(item)
        else:
            yield item
    yield from captures


def _says_not_found(text: str | None, profile: SiteProfile) -> bool:
    return (
        text is not None and find_marker(visible_text(text), profile.markers.soft_404) is not None
    )


def page_fingerprint(response: Response) -> str:
    """What a page is, for comparing answers: where a redirect ended, or the exact bytes."""
    if response.meta.get("redirect_urls"):
        return f"redirect:{response.url}"
    return hashlib.sha256(response.body).hexdigest()


def _describe_failure(failure: Failure, request: scrapy.Request) -> str:
    if isinstance(failure.value, OffProfileRequest):
        return f"redirect to {urls.url_host(request.url)} (outside the profile) not followed"
    error = failure.value
    message = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {message}"[:500]
