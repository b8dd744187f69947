"""One fleet worker process: `python -m crawler.distributed.run_worker '<json spec>'`."""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import redis
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import ScrapyDeprecationWarning

from crawler.cli_common import dump_stacks_on_sigusr1
from crawler.distributed.keys import FleetKeys, text
from crawler.profiles import parse_profile
from crawler.runner import CrawlOptions, crawl_settings
from spiders.mirror import MirrorSpider


def fleet_settings(spec: dict[str, Any], options: CrawlOptions) -> dict[str, Any]:
    """scrapy-redis for the frontier and dedupe, items to Redis, fleet-wide politeness."""
    keys = FleetKeys(spec["site"], spec["crawl"])
    base = crawl_settings(options)
    delay = base.getfloat("DOWNLOAD_DELAY")
    per_host = base.getint("CONCURRENT_REQUESTS_PER_DOMAIN")
    extensions = dict(base.getdict("EXTENSIONS"))
    extensions["crawler.distributed.worker.FleetMembership"] = 400
    middlewares = dict(base.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["crawler.distributed.worker.FleetThrottleMiddleware"] = 950
    return {
        "REDIS_URL": spec["redis_url"],
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "SCHEDULER_QUEUE_CLASS": "crawler.distributed.queue.ReliableQueue",
        "SCHEDULER_QUEUE_KEY": keys.requests,
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "DUPEFILTER_CLASS": "crawler.distributed.worker.StoryDupeFilter",
        "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
        "SCHEDULER_PERSIST": True,  # the frontier belongs to the fleet, not to this worker
        "ITEM_PIPELINES": {"crawler.distributed.worker.RedisItemPipeline": 300},
        "EXTENSIONS": extensions,
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "NEWSMIRROR_DISTRIBUTED": True,
        "NEWSMIRROR_FLEET_SITE": keys.site,
        "NEWSMIRROR_FLEET_CRAWL": keys.crawl,
        "NEWSMIRROR_WORKER_ID": spec["worker_id"],
        "NEWSMIRROR_WORKER_INDEX": spec["worker_index"],
        "NEWSMIRROR_WORKER_COUNT": spec["worker_count"],
        "NEWSMIRROR_INFLIGHT_KEY": keys.inflight(spec["worker_id"]),
        # Politeness is the fleet's (FleetThrottleMiddleware), so none is added per worker.
        "NEWSMIRROR_FLEET_DELAY": delay,
        "NEWSMIRROR_FLEET_CONCURRENCY": per_host,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
    }


def main() -> None:
    # scrapy-redis 0.9 still calls APIs Scrapy 2.13+ deprecates; one warning per request
    # would bury the log.
    warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")
    dump_stacks_on_sigusr1()
    spec = json.loads(sys.argv[1])
    options = CrawlOptions(**spec["options"])
    server = redis.Redis.from_url(spec["redis_url"])
    keys = FleetKeys(spec["site"], spec["crawl"])
    raw = server.hget(keys.state, "profile")
    if raw is None:
        raise SystemExit(f"newsmirror: worker: crawl {keys.crawl} has no profile in Redis")
    profile = parse_profile(text(raw), source=spec["profile"])
    settings = crawl_settings(options)
    settings.setdict(fleet_settings(spec, options), priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(MirrorSpider)
    process.crawl(crawler, profile=profile, since=options.since, until=options.until)
    process.start()


if __name__ == "__main__":
    main()
