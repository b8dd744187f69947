"""Scrapy's log formatter, minus the per-page and per-item DEBUG lines when nobody reads them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter, LogFormatterResult

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure


class QuietLogFormatter(LogFormatter):
    """Scrapy formats a "Crawled (200)" and a "Scraped from" DEBUG message for every response
    and item and hands them to logging, whose handler drops them below LOG_LEVEL DEBUG: a
    few percent of a crawl's time for nothing. Below DEBUG they are not made at all; at
    DEBUG they are Scrapy's own."""

    def __init__(self, verbose: bool = True) -> None:
        super().__init__()
        self.verbose = verbose

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        level = crawler.settings.get("LOG_LEVEL", "DEBUG")
        numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
        return cls(verbose=not isinstance(numeric, int) or numeric <= logging.DEBUG)

    # Scrapy skips the message when these return None (engine.py, scraper.py), which its
    # annotations do not say.
    def crawled(  # type: ignore[override]
        self, request: Request, response: Response, spider: Spider
    ) -> LogFormatterResult | None:
        return super().crawled(request, response, spider) if self.verbose else None

    def scraped(  # type: ignore[override]
        self, item: Any, response: Response | Failure | None, spider: Spider
    ) -> LogFormatterResult | None:
        return super().scraped(item, response, spider) if self.verbose else None
