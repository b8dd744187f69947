"""Downloader middlewares: only the profile's live hosts are asked, and a run's page budget holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser
    from scrapy.statscollectors import StatsCollector


class HostPolicy(Protocol):
    """What a spider tells the guard: which hosts it may ask right now."""

    def may_request(self, host: str) -> bool: ...


class AlreadyAnswered(IgnoreRequest):
    """A request restored from a resumed JOBDIR queue for a story the host already answered."""


class OffProfileRequest(IgnoreRequest):
    """A request (often a redirect) to a host outside the profile, or to a host given up on."""


class BudgetExhausted(IgnoreRequest):
    """The run's --max-pages budget is spent; the request is dropped without a capture."""


class HostGuardMiddleware:
    """Drop every request whose host the spider does not allow, redirects included.

    Sits before every other downloader middleware, so nothing (robots.txt fetches, retries,
    redirects to a foreign host or to a mirror found seized) leaves for a host outside the
    profile.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        policy: HostPolicy | None = getattr(self.crawler.spider, "host_policy", None)
        if policy is None:
            return
        host = (urlparse_cached(request).hostname or "").lower()
        if not policy.may_request(host):
            self.crawler.stats.inc_value("newsmirror/requests_refused")
            raise OffProfileRequest(f"host {host or '?'} is outside the profile or given up on")
        is_done = getattr(self.crawler.spider, "is_answered", None)
        if is_done is not None and is_done(request):
            self.crawler.stats.inc_value("newsmirror/requests_already_answered")
            raise AlreadyAnswered("the host already answered for this story")


class PageBudgetMiddleware:
    """Let at most NEWSMIRROR_MAX_PAGES spider requests reach the network in a run.

    robots.txt fetches made by Scrapy itself do not count: they are not pages of the site.
    """

    def __init__(self, max_pages: int, stats: StatsCollector) -> None:
        self.max_pages = max_pages
        self.stats = stats
        self.used = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        max_pages = crawler.settings.getint("NEWSMIRROR_MAX_PAGES")
        if max_pages <= 0:
            raise NotConfigured
        return cls(max_pages, crawler.stats)

    def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            return
        if request.meta.get("redirect_times") or request.meta.get("retry_times"):
            return  # the same page, asked again
        if self.used >= self.max_pages:
            self.stats.inc_value("newsmirror/requests_over_budget")
            raise BudgetExhausted("page budget spent")
        self.used += 1

    @property
    def exhausted(self) -> bool:
        return self.used >= self.max_pages


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for a host's robots.txt
    checked against it.

    In Scrapy 2.19 the requests waiting for a robots.txt still being fetched share one
    Deferred, and only the first of them gets the parser: the others get None and go out
    unchecked (a crawl's first requests to a host are exactly those). Here each waiter gets
    the parser through a Deferred of its own.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred[RobotParser | None] = Deferred()

        def relay(parser: RobotParser | None) -> RobotParser | None:
            mine.callback(parser)
            return parser  # hand it on to the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(mine)
