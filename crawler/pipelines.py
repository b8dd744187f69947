"""The storage pipeline: batch captures into the database and keep the run's crawl_runs row."""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.clock import utc_now
from crawler.health import REQUIRED_FIELDS, RunTally, host_state, run_verdict
from crawler.items import Capture, HostVerdict, MirrorCandidate
from crawler.lock import LockHeldError, RunLock
from crawler.notify import failure_report, notify_failure
from crawler.storage import Store, StoreError

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from crawler.profiles import SiteProfile

logger = logging.getLogger(__name__)


class StoragePipeline:
    """Writes captures through `Store.write_captures`, one transaction per batch.

    Batches fill to NEWSMIRROR_BATCH_SIZE captures or NEWSMIRROR_FLUSH_SECONDS, whichever
    comes first, so a killed crawl loses at most that much. This is the only writer; a queue
    can feed the same Store in a distributed run.
    """

    def __init__(
        self,
        crawler: Crawler,
        db_path: str,
        batch_size: int,
        flush_seconds: float,
        max_missing_share: float,
    ) -> None:
        self.crawler = crawler
        self.max_missing_share = max_missing_share
        self.db_path = db_path
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.buffer: list[Capture] = []
        self.candidates: list[MirrorCandidate] = []
        self.tally = RunTally()
        self.store: Store | None = None
        self.run_id: int | None = None
        self.started = time.monotonic()
        self._timer: task.LoopingCall | None = None
        self.lock = RunLock(db_path)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            db_path=settings.get("NEWSMIRROR_DB"),
            batch_size=settings.getint("NEWSMIRROR_BATCH_SIZE"),
            flush_seconds=settings.getfloat("NEWSMIRROR_FLUSH_SECONDS"),
            max_missing_share=settings.getfloat("NEWSMIRROR_MAX_MISSING_SHARE"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def profile(self) -> SiteProfile:
        profile: SiteProfile = self.crawler.spider.profile  # type: ignore[union-attr]
        return profile

    def open_spider(self) -> None:
        try:
            self.lock.acquire(f"crawl {self.profile.name}")
        except (LockHeldError, OSError) as exc:
            self._refuse_run(str(exc))
            return
        self.store = Store(self.db_path)
        interrupted = self.store.interrupt_stale_runs()
        if interrupted:
            logger.warning(
                "runs %s were left running by a killed process: now interrupted",
                ", ".join(map(str, interrupted)),
            )
        profile = self.profile
        roles = {host: profile.role_of(host) or "alternate" for host in profile.hosts}
        self.store.sync_hosts(profile.name, roles)
        self.run_id = self.store.begin_run(profile.name, self._run_params())
        self.crawler.stats.set_value("newsmirror/run_id", self.run_id)
        self._timer = task.LoopingCall(self.flush)
        self._timer.start(self.flush_seconds, now=False)

    def _refuse_run(self, reason: str) -> None:
        """Another run holds the database: ask nothing, write nothing, end at once."""
        logger.error("%s", reason)
        self.crawler.stats.set_value("newsmirror/status", "locked")
        self.crawler.stats.set_value("newsmirror/failure", reason)
        spider = self.crawler.spider
        book = getattr(spider, "host_policy", None)
        if book is not None:
            for host in self.profile.hosts:
                book.give_up(host, "unknown", "run refused: database locked")
        self._stop_crawl("locked")

    def process_item(self, item: Any) -> Any:
        if isinstance(item, HostVerdict):
            self.tally.give_up(item)
        elif isinstance(item, MirrorCandidate):
            self.candidates.append(item)
        elif isinstance(item, Capture):
            self.buffer.append(item)
            self.tally.add(item)
            self._count(item)
            if len(self.buffer) >= self.batch_size:
                self.flush()
        return item

    def flush(self) -> None:
        if not self.buffer or self.store is None or self.run_id is None:
            return
        batch, self.buffer = self.buffer, []
        try:
            result = self.store.write_captures(self.run_id, batch)
        except (StoreError, sqlite3.Error) as exc:
            logger.error("cannot write to %s: %s", self.db_path, exc)
            self.crawler.stats.set_value("newsmirror/storage_error", str(exc))
            self._stop_crawl()
            return
        stats = self.crawler.stats
        stats.inc_value("newsmirror/stories_new", result.new_stories)
        stats.inc_value("newsmirror/stories_updated", result.updated_stories)
        stats.inc_value("newsmirror/versions_new", result.new_versions)
        stats.inc_value("newsmirror/gone", result.gone)

    def close_spider(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self.flush()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Record mirror states seen and finish the run row (after close_spider flushed)."""
        if self.store is None or self.run_id is None:
            self.lock.release()
            return
        if self.crawler.stats.get_value("newsmirror/storage_error"):
            reason = "storage_error"
        if getattr(spider, "checks_stories", True):
            status, why = run_verdict(self.tally, reason, self.max_missing_share)
        else:  # a probe: only whether it ran to the end
            status, why = run_verdict(RunTally(), reason)
        checked_at = utc_now()
        try:
            for host, tally in sorted(self.tally.hosts.items()):
                state, detail = host_state(tally)
                self.store.set_mirror_state(host, state, detail, checked_at, self.run_id)
            self.store.record_candidates(self.candidates)
            self.store.finish_run(self.run_id, status, self._run_stats(reason), why)
        except (StoreError, sqlite3.Error) as exc:
            status, why = "failed", f"cannot finish the run record: {exc}"
            logger.error(why)
        finally:
            self.store.close()
            self.lock.release()
        self.crawler.stats.set_value("newsmirror/status", status)
        if why:
            self.crawler.stats.set_value("newsmirror/failure", why)
        if status != "finished":
            settings = self.crawler.settings
            report = failure_report(self.run_id, self.profile.name, status, why, self.db_path)
            notify_failure(
                report, settings.get("NEWSMIRROR_ON_FAILURE"), settings.get("NEWSMIRROR_WEBHOOK")
            )

    # --- helpers ----------------------------------------------------------------------------

    def _count(self, capture: Capture) -> None:
        stats = self.crawler.stats
        stats.inc_value("newsmirror/pages")
        stats.inc_value(f"newsmirror/host/{capture.host}/pages")
        stats.inc_value(f"newsmirror/outcome/{capture.outcome}")
        if capture.outcome == "error":
            stats.inc_value(f"newsmirror/host/{capture.host}/errors")

    def _stop_crawl(self, reason: str = "storage_error") -> None:
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    def _run_params(self) -> dict[str, Any]:
        spider = self.crawler.spider
        settings = self.crawler.settings
        window = getattr(spider, "window", None)
        return {
            "profile": self.profile.source,
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

    def _run_stats(self, reason: str) -> dict[str, Any]:
        stats = self.crawler.stats
        elapsed = time.monotonic() - self.started
        pages = stats.get_value("newsmirror/pages", 0)
        hosts = {}
        for host, tally in sorted(self.tally.hosts.items()):
            state, _ = host_state(tally)
            hosts[host] = {
                "pages": tally.pages,
                "outcomes": dict(sorted(tally.outcomes.items())),
                "errors": dict(tally.errors.most_common(10)),
                "state": state,
            }
        return {
            "finish_reason": reason,
            "elapsed_seconds": round(elapsed, 3),
            "pages": pages,
            "pages_per_second": round(pages / elapsed, 2) if elapsed else None,
            "stories_new": stats.get_value("newsmirror/stories_new", 0),
            "stories_updated": stats.get_value("newsmirror/stories_updated", 0),
            "versions_new": stats.get_value("newsmirror/versions_new", 0),
            "gone": stats.get_value("newsmirror/gone", 0),
            "article_pages": self.tally.article_pages,
            "stories_seen": self.tally.stories,
            "new_stories_seen": self.tally.new_stories,
            "fields_missing": dict(self.tally.missing),
            "fields_complete": {
                name: round(1 - self.tally.missing[name] / self.tally.new_stories, 4)
                for name in REQUIRED_FIELDS
            }
            if self.tally.new_stories
            else None,
            "unchanged": stats.get_value("newsmirror/outcome/unchanged", 0),
            "skipped_known": stats.get_value("newsmirror/stories_skipped_known", 0),
            "requests_refused": stats.get_value("newsmirror/requests_refused", 0),
            "hosts": hosts,
        }
