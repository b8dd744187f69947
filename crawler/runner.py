"""Run one crawl in this process: build Scrapy settings from options, start, report how it ended."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.profiles import SiteProfile
from spiders.mirror import MirrorSpider

# Replay servers on loopback answer at once: no politeness delays, more parallelism.
LOOPBACK_SETTINGS: dict[str, Any] = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}


@dataclass(frozen=True)
class CrawlOptions:
    """Everything a crawl needs besides the profile; all values already validated."""

    db: str
    since: str | None = None
    until: str | None = None
    mirror_policy: str = "all"
    max_pages: int = 0
    connect_to: Sequence[str] = ()
    jobdir: str | None = None
    backfill_ids: str | None = None
    user_agent: str | None = None
    obey_robots: bool = True
    full: bool = False
    recheck_days: float = 7.0
    max_missing_share: float = 0.5
    on_failure: str | None = None
    webhook: str | None = None
    progress: str = "auto"
    log_level: str = "WARNING"
    page_workers: str = "auto"
    overrides: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CrawlOutcome:
    status: str  # finished | failed | interrupted | locked
    reason: str | None
    run_id: int | None
    stats: dict[str, Any]

    @property
    def exit_code(self) -> int:
        """0 finished, 75 (EX_TEMPFAIL) another run holds the database, 1 anything else."""
        return {"finished": 0, "locked": 75}.get(self.status, 1)


def crawl_settings(options: CrawlOptions) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    values: dict[str, Any] = {
        "NEWSMIRROR_DB": options.db,
        "NEWSMIRROR_CONNECT_TO": list(options.connect_to),
        "NEWSMIRROR_MIRROR_POLICY": options.mirror_policy,
        "NEWSMIRROR_MAX_PAGES": options.max_pages,
        "NEWSMIRROR_PROGRESS": options.progress,
        "ROBOTSTXT_OBEY": options.obey_robots,
        "NEWSMIRROR_FULL": options.full,
        "NEWSMIRROR_RECHECK_DAYS": options.recheck_days,
        "NEWSMIRROR_MAX_MISSING_SHARE": options.max_missing_share,
        "NEWSMIRROR_ON_FAILURE": options.on_failure or "",
        "NEWSMIRROR_WEBHOOK": options.webhook or "",
        "LOG_LEVEL": options.log_level,
        "NEWSMIRROR_PAGE_WORKERS": options.page_workers,
    }
    if options.jobdir:
        values["JOBDIR"] = options.jobdir
    if options.backfill_ids:
        values["NEWSMIRROR_BACKFILL_IDS"] = options.backfill_ids
    if options.user_agent:
        values["USER_AGENT"] = options.user_agent
    values.update(options.overrides or {})
    settings.setdict(values, priority="cmdline")
    return settings


def run_crawl(
    profile: SiteProfile, options: CrawlOptions, spider: type[MirrorSpider] = MirrorSpider
) -> CrawlOutcome:
    """Crawl `profile` into options.db; blocks until the crawl ends. One per process (reactor)."""
    process = CrawlerProcess(crawl_settings(options))
    crawler = process.create_crawler(spider)
    process.crawl(crawler, profile=profile, since=options.since, until=options.until)
    process.start()
    stats = crawler.stats.get_stats()
    return CrawlOutcome(
        status=stats.get("newsmirror/status", "failed"),
        reason=stats.get("newsmirror/failure")
        or (None if "newsmirror/status" in stats else "the crawl did not start"),
        run_id=stats.get("newsmirror/run_id"),
        stats=stats,
    )
