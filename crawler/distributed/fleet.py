"""Start or join a distributed crawl: its id and state in Redis, and the worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis

from crawler.distributed.keys import FleetKeys, current_key, text
from crawler.distributed.worker import DEAD_AFTER_SECONDS, fleet_idle
from crawler.runner import CrawlOptions

REPO_ROOT = Path(__file__).resolve().parents[2]


class FleetError(Exception):
    """Redis cannot be reached or holds something else; one line for the user."""


def connect(url: str) -> redis.Redis:
    try:
        server = redis.Redis.from_url(url)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise FleetError(f"cannot reach Redis at {url}: {exc}") from None
    return server


def join_crawl(
    server: redis.Redis, site: str, profile_text: str, params: Mapping[str, Any]
) -> FleetKeys:
    """The site's crawl in progress, or a new one: every machine running `crawl --redis`
    for the site joins the same frontier. The first one writes the profile and parameters."""
    candidate = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    server.set(current_key(site), candidate, nx=True)
    crawl = server.get(current_key(site))
    if crawl is None:
        raise FleetError(f"the crawl of {site} ended while joining it; run the command again")
    keys = FleetKeys(site, text(crawl))
    server.hsetnx(keys.state, "profile", profile_text)
    server.hsetnx(keys.state, "params", json.dumps(params))
    server.hsetnx(keys.state, "started_at", time.time())
    return keys


def find_crawl(server: redis.Redis, site: str | None) -> FleetKeys | None:
    """The crawl in progress for `site` (any site when None and exactly one runs)."""
    if site is not None:
        crawl = server.get(current_key(site))
        return FleetKeys(site, text(crawl)) if crawl else None
    found = [text(k) for k in server.scan_iter(match=current_key("*"), count=100)]
    if len(found) != 1:
        return None
    name = found[0].split(":")[1]
    crawl = server.get(found[0])
    return FleetKeys(name, text(crawl)) if crawl else None


def crawl_done(server: redis.Redis, keys: FleetKeys) -> bool:
    """Workers came, all have left, and nothing waits or is in flight.

    A worker that died is gone once its heartbeat is older than DEAD_AFTER_SECONDS and it
    held no request (a request it held is put back by a live worker, which then finishes
    it). Its entry is removed here: the others may have finished before its silence grew
    long enough for them to notice, and then nobody else would."""
    if not int(server.hget(keys.state, "workers_seen") or 0):
        return False
    now = time.time()
    for name, seen in server.hgetall(keys.workers).items():
        worker = text(name)
        if now - float(seen) <= DEAD_AFTER_SECONDS or server.hlen(keys.inflight(worker)):
            return False
        server.hdel(keys.workers, worker)
    return fleet_idle(server, keys)


def end_crawl(server: redis.Redis, keys: FleetKeys) -> None:
    """Forget the crawl: its frontier, fingerprints, state; the next run starts afresh."""
    server.delete(current_key(keys.site))
    for key in server.scan_iter(match=f"{keys.base}:*", count=500):
        server.delete(key)


def start_workers(
    options: CrawlOptions,
    profile: str,
    redis_url: str,
    keys: FleetKeys,
    count: int,
) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes on this machine, each a Scrapy crawl feeding the fleet."""
    host = os.uname().nodename
    workers = []
    for index in range(count):
        spec = {
            "options": asdict(options),
            "profile": profile,
            "redis_url": redis_url,
            "site": keys.site,
            "crawl": keys.crawl,
            "worker_id": f"{host}-{os.getpid()}-{index}",
            "worker_index": index,
            "worker_count": count,
        }
        workers.append(
            subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "crawler.distributed.run_worker", json.dumps(spec)],
                cwd=REPO_ROOT,
            )
        )
    return workers
