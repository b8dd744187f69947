"""Garbage-collector settings for the length of a crawl: fewer, larger collections."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from scrapy import signals

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

# A crawl allocates a few hundred container objects per page (requests, deferreds, items,
# field dicts), so CPython's default (700, 10, 10) runs a young collection every two or
# three pages and, as the run's state grows, full ones over everything it holds: an eighth
# of the crawl's CPU (docs/benchmarks.md, "Profiling the crawl"). Collecting less often
# costs a little memory for cycles that wait longer; nothing leaks.
THRESHOLDS = (20_000, 20, 20)


class GcPolicyExtension:
    """At spider open: what is alive (modules, the profile, the archive state loaded from
    the database) is frozen out of later full collections, and the thresholds above apply.
    At close both are undone. Off with EXTENSIONS = {"crawler.gc_policy.GcPolicyExtension":
    None}."""

    def __init__(self) -> None:
        self.saved: tuple[int, int, int] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.saved = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)

    def spider_closed(self) -> None:
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            gc.unfreeze()
            self.saved = None
