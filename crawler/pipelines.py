"""The storage pipeline: a local crawl's items go to the run's Ingestor, the one writer."""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import reactor, task

from crawler.ingest import Ingestor
from crawler.lock import LockHeldError
from crawler.storage import StoreError, WriteResult

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler.profiles import SiteProfile

logger = logging.getLogger(__name__)


# A crawl faster than its writes waits for the write under way once this many batches wait.
MAX_WAITING_BATCHES = 4


class StoragePipeline:
    """Feeds every item to an `Ingestor` writing NEWSMIRROR_DB.

    Batches fill to NEWSMIRROR_BATCH_SIZE captures or NEWSMIRROR_FLUSH_SECONDS, whichever
    comes first, so a killed crawl loses at most that much (and the batch being written).
    Every use of the database happens in one thread of the pipeline's own: SQLite and
    compression let go of the GIL while they work, so the crawl goes on fetching and reading
    pages during a write instead of waiting for it. One batch is written at a time; what
    arrives meanwhile makes the next one. The run row is finished on spider_closed, after
    close_spider has written the last batch.
    """

    def __init__(self, crawler: Crawler, ingestor: Ingestor, flush_seconds: float) -> None:
        self.crawler = crawler
        self.ingestor = ingestor
        self.flush_seconds = flush_seconds
        self._timer: task.LoopingCall | None = None
        self._store = ThreadPoolExecutor(1, thread_name_prefix="newsmirror-store")
        self._writing: Future[WriteResult] | None = None
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        ingestor = Ingestor(
            settings.get("NEWSMIRROR_DB"),
            batch_size=settings.getint("NEWSMIRROR_BATCH_SIZE"),
            max_missing_share=settings.getfloat("NEWSMIRROR_MAX_MISSING_SHARE"),
            on_failure=settings.get("NEWSMIRROR_ON_FAILURE") or None,
            webhook=settings.get("NEWSMIRROR_WEBHOOK") or None,
            count=crawler.stats.inc_value,
        )
        pipeline = cls(crawler, ingestor, settings.getfloat("NEWSMIRROR_FLUSH_SECONDS"))
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def profile(self) -> SiteProfile:
        profile: SiteProfile = self.crawler.spider.profile  # type: ignore[union-attr]
        return profile

    def open_spider(self) -> None:
        try:
            run_id = self._store.submit(
                self.ingestor.open, self.profile, run_params(self.crawler)
            ).result()
        except (LockHeldError, OSError) as exc:
            self._refuse_run(str(exc))
            return
        self.crawler.stats.set_value("newsmirror/run_id", run_id)
        self._timer = task.LoopingCall(self.flush)
        self._timer.start(self.flush_seconds, now=False)

    def _refuse_run(self, reason: str) -> None:
        """Another run holds the database: ask nothing, write nothing, end at once."""
        logger.error("%s", reason)
        self.crawler.stats.set_value("newsmirror/status", "locked")
        self.crawler.stats.set_value("newsmirror/failure", reason)
        book = getattr(self.crawler.spider, "host_policy", None)
        if book is not None:
            for host in self.profile.hosts:
                book.give_up(host, "unknown", "run refused: database locked")
        self._stop_crawl("locked")

    def process_item(self, item: Any) -> Any:
        if self.ingestor.add(item):
            if self._writing is not None and self._waiting_batches() >= MAX_WAITING_BATCHES:
                self._wait_for_write()  # storage is the bottleneck: the crawl waits for it
            self.flush()
        return item

    def flush(self) -> None:
        """Start writing what has gathered, unless a write is under way (its end starts the
        next one when a batch is due)."""
        if self.failed or self._writing is not None:
            return
        batch = self.ingestor.take()
        if not batch:
            return
        writing = self._writing = self._store.submit(self.ingestor.write, batch)
        writing.add_done_callback(lambda done: reactor.callFromThread(self._written, done))

    def _written(self, done: Future[WriteResult]) -> None:
        """A write ended (on the reactor's thread); called at most once per write."""
        if done is not self._writing:
            return  # already handled by _wait_for_write
        self._writing = None
        try:
            result = done.result()
        except (StoreError, sqlite3.Error) as exc:
            logger.error("cannot write to %s: %s", self.ingestor.db_path, exc)
            self._fail(str(exc))
            return
        except Exception as exc:  # a bug: never leave the crawl running without its writer
            logger.exception("writing to %s failed", self.ingestor.db_path)
            self._fail(f"{type(exc).__name__}: {exc}")
            return
        self.ingestor.record(result)
        if self._waiting_batches() >= 1:
            self.flush()

    def _fail(self, reason: str) -> None:
        self.failed = True
        self.crawler.stats.set_value("newsmirror/storage_error", reason)
        self._stop_crawl("storage_error")

    def _wait_for_write(self) -> None:
        if self._writing is not None:
            self._written(self._writing)  # its result() waits for the write to end

    def _waiting_batches(self) -> int:
        return len(self.ingestor.buffer) // max(1, self.ingestor.batch_size)

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        while self._writing is not None or (
            self.ingestor.buffer and self.ingestor.store is not None and not self.failed
        ):
            self._wait_for_write()
            self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.crawler.stats.get_value("newsmirror/status") == "locked":
            return
        if self.failed:
            reason = "storage_error"
        stats = self.crawler.stats
        extra = {
            "skipped_known": stats.get_value("newsmirror/stories_skipped_known", 0),
            "requests_refused": stats.get_value("newsmirror/requests_refused", 0),
        }
        finishing = self._store.submit(
            self.ingestor.finish,
            reason,
            checks_stories=getattr(spider, "checks_stories", True),
            extra_stats=extra,
        )
        status, why = finishing.result()
        self._store.shutdown(wait=False)
        stats.set_value("newsmirror/status", status)
        if why:
            stats.set_value("newsmirror/failure", why)

    def _stop_crawl(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))


def run_params(crawler: Crawler) -> dict[str, Any]:
    """What the run was asked to do, for its crawl_runs row."""
    spider = crawler.spider
    settings = crawler.settings
    window = getattr(spider, "window", None)
    profile = getattr(spider, "profile", None)
    return {
        "profile": profile.source if profile is not None else None,
        "since": str(window.since) if window and window.since else None,
        "until": str(window.until) if window and window.until else None,
        "mirror_policy": getattr(spider, "mirror_policy", None),
        "max_pages": settings.getint("NEWSMIRROR_MAX_PAGES") or None,
        "connect_to": settings.getlist("NEWSMIRROR_CONNECT_TO"),
        "jobdir": settings.get("JOBDIR"),
        "full": settings.getbool("NEWSMIRROR_FULL"),
        "recheck_days": settings.getfloat("NEWSMIRROR_RECHECK_DAYS"),
        "user_agent": settings.get("USER_AGENT"),
        "spider": getattr(spider, "name", None),
        "backfill_ids": settings.get("NEWSMIRROR_BACKFILL_IDS") or None,
    }
