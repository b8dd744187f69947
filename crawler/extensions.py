"""Crawl progress: a live status line on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

PROGRESS_MODES = ("auto", "live", "lines", "off")
LIVE_INTERVAL = 0.5


class ProgressReporter:
    """Shows pages, stories new/updated, versions, errors per host and the page rate.

    NEWSMIRROR_PROGRESS: `live` rewrites one line on stderr, `lines` prints a line every
    NEWSMIRROR_PROGRESS_INTERVAL seconds (for logs and cron mail), `auto` picks `live` on a
    terminal, `off` disables it.
    """

    def __init__(self, stats: StatsCollector, mode: str, interval: float, stream: TextIO) -> None:
        self.stats = stats
        self.mode = mode
        self.interval = interval
        self.stream = stream
        self.started = time.monotonic()
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mode = crawler.settings.get("NEWSMIRROR_PROGRESS", "auto")
        if mode not in PROGRESS_MODES:
            raise ValueError(f"NEWSMIRROR_PROGRESS must be one of {', '.join(PROGRESS_MODES)}")
        if mode == "off":
            raise NotConfigured
        stream = sys.stderr
        if mode == "auto":
            mode = "live" if stream.isatty() else "lines"
        interval = (
            LIVE_INTERVAL
            if mode == "live"
            else crawler.settings.getfloat("NEWSMIRROR_PROGRESS_INTERVAL")
        )
        reporter = cls(crawler.stats, mode, interval, stream)
        crawler.signals.connect(reporter.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(reporter.spider_closed, signal=signals.spider_closed)
        return reporter

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self._timer = task.LoopingCall(self.report)
        self._timer.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.report(final=True)

    def report(self, final: bool = False) -> None:
        line = self.status_line()
        if self.mode == "live":
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def status_line(self) -> str:
        values = self.stats.get_stats()
        elapsed = max(time.monotonic() - self.started, 1e-9)
        pages = int(values.get("newsmirror/pages", 0))
        errors = {
            key.split("/")[2]: count
            for key, count in values.items()
            if key.startswith("newsmirror/host/") and key.endswith("/errors")
        }
        error_text = ", ".join(f"{host} {n}" for host, n in sorted(errors.items())) or "none"
        minutes, seconds = divmod(int(elapsed), 60)
        return (
            f"[{minutes:02d}:{seconds:02d}] pages {pages} ({pages / elapsed:.1f}/s)"
            f" | stories +{values.get('newsmirror/stories_new', 0)} new,"
            f" {values.get('newsmirror/stories_updated', 0)} updated"
            f" | versions +{values.get('newsmirror/versions_new', 0)}"
            f" | errors: {error_text}"
        )
