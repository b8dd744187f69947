"""What a fleet worker adds to a crawl: shared dedupe, items to Redis, liveness, politeness."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis.dupefilter import RFPDupeFilter
from twisted.internet import task

from crawler.distributed.codec import encode_item
from crawler.distributed.keys import FleetKeys
from crawler.distributed.queue import requeue
from crawler.hosts import PROBE_ANSWERED
from crawler.items import Capture, HostVerdict, MirrorCandidate

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
# An idle worker leaves once the fleet has stayed idle this long with no request taken:
# longer than a heartbeat, at which every worker takes up the probe answers its held
# story requests wait for (those requests are in no Redis key until then).
QUIET_SECONDS = 2 * HEARTBEAT_SECONDS
# A worker not heard from for this long is dead: its in-flight requests go back.
DEAD_AFTER_SECONDS = 10.0
SLOT_TTL_SECONDS = 120.0  # a slot of a worker that died mid-request frees itself


@runtime_checkable
class ProbeWaiter(Protocol):
    """A spider whose story requests wait for their host's probe (MirrorSpider)."""

    def awaited_probes(self) -> list[str]: ...

    def adopt_probe(
        self, host: str, fingerprint: str | None, verdict: tuple[str, str] | None
    ) -> list[Request]: ...


def fleet_keys(crawler: Crawler) -> FleetKeys:
    return FleetKeys.from_settings(crawler.settings)


def connect(crawler: Crawler) -> redis.Redis:
    return redis.Redis.from_url(crawler.settings.get("REDIS_URL"))


class StoryDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """scrapy-redis's shared fingerprint set, with one fingerprint per (story, host): the
    same story found under different slugs by different workers is asked once."""

    def request_seen(self, request: Request) -> bool:
        # A redirect is the same story and host by another address: its original was let
        # through once already (REDIRECT_MAX_TIMES bounds loops).
        if request.meta.get("redirect_urls"):
            return False
        seen: bool = super().request_seen(request)
        return seen

    def request_fingerprint(self, request: Request) -> str:
        key = request.meta.get("story_key")
        if key and request.meta.get("page_type") == "article":
            host = urlparse_cached(request).hostname or ""
            return hashlib.sha1(f"story {key} {host}".encode()).hexdigest()  # noqa: S324
        fingerprint: str = super().request_fingerprint(request)
        return fingerprint


class RedisItemPipeline:
    """Pushes every item to the crawl's item queue for the writer, and in the same
    transaction drops the frontier entry the item's capture answers."""

    def __init__(self, server: redis.Redis, keys: FleetKeys, worker: str) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            connect(crawler), fleet_keys(crawler), crawler.settings.get("NEWSMIRROR_WORKER_ID")
        )

    def process_item(self, item: Any) -> Any:
        if isinstance(item, (Capture, HostVerdict, MirrorCandidate)):
            if isinstance(item, Capture):
                item.delivery_id = uuid.uuid4().hex  # the writer stores it once, however often
            pipe = self.server.pipeline(transaction=True)
            pipe.lpush(self.keys.items, encode_item(item))
            if isinstance(item, Capture) and item.request_id:
                pipe.hdel(self.keys.inflight(self.worker), item.request_id)
            pipe.execute()
        return item


class FleetMembership:
    """Registers the worker, beats its heart, puts dead workers' requests back, and keeps an
    idle worker open until the whole fleet is done (another worker may still find work)."""

    def __init__(self, crawler: Crawler, server: redis.Redis, keys: FleetKeys, worker: str) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = keys
        self.worker = worker
        self._timer: task.LoopingCall | None = None
        # The fleet's pop count when first seen idle, and when (time.monotonic).
        self._quiet_since: tuple[int, float] | None = None
        self.clock = time.monotonic
        self.spider: Spider | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured
        member = cls(
            crawler,
            connect(crawler),
            fleet_keys(crawler),
            crawler.settings.get("NEWSMIRROR_WORKER_ID"),
        )
        crawler.signals.connect(member.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(member.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(member.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(member.probe_answered, signal=PROBE_ANSWERED)
        return member

    def spider_opened(self, spider: Spider) -> None:
        self.spider = spider
        self.beat()
        self.server.hincrby(self.keys.state, "workers_seen", 1)
        self._timer = task.LoopingCall(self.beat)
        self._timer.start(HEARTBEAT_SECONDS, now=False)

    def beat(self) -> None:
        self.server.hset(self.keys.workers, self.worker, time.time())
        self.requeue_dead()
        self.adopt_probes()

    def probe_answered(
        self, host: str, fingerprint: str | None, verdict: tuple[str, str] | None
    ) -> None:
        """A host's probe answered at this worker: the others learn it from Redis (the first
        answer stands). Probes share the fleet's frontier, so a worker's own probe may be
        answered at another worker, and its story requests for the host would wait for ever."""
        answer = json.dumps({"fingerprint": fingerprint, "verdict": verdict})
        self.server.hsetnx(self.keys.probes, host, answer)

    def adopt_probes(self) -> int:
        """Take the fleet's answers to the probes this worker still waits for, and schedule
        what waited for them; returns how many requests were scheduled."""
        spider = self.spider
        if not isinstance(spider, ProbeWaiter):
            return 0
        hosts = spider.awaited_probes()
        if not hosts:
            return 0
        scheduled = 0
        for host, raw in zip(hosts, self.server.hmget(self.keys.probes, hosts), strict=True):
            if raw is None:
                continue
            answer = json.loads(raw)
            verdict = tuple(answer["verdict"]) if answer.get("verdict") else None
            for request in spider.adopt_probe(host, answer.get("fingerprint"), verdict):
                self.crawler.engine.crawl(request)
                scheduled += 1
        return scheduled

    def requeue_dead(self) -> int:
        """Requests in flight at workers that stopped beating go back to the frontier."""
        return bury_dead(self.server, self.keys, self.worker)

    def spider_idle(self, spider: Spider) -> None:
        # Nothing is in flight here: what is left in this worker's hash never got a capture
        # (a request dropped on purpose), so it is done.
        self.server.delete(self.keys.inflight(self.worker))
        self.requeue_dead()
        if self.adopt_probes():
            raise DontCloseSpider
        # Idle at one look is not enough. Between another worker's probe answer and a third
        # worker's story requests that waited for it reaching the frontier (at its next
        # heartbeat) the fleet looks idle for a moment. It is done when it has stayed idle
        # for QUIET_SECONDS with no request taken (Scrapy looks again every few seconds).
        pops = int(self.server.hget(self.keys.state, "pops") or 0)
        if not fleet_idle(self.server, self.keys, self.worker):
            self._quiet_since = None
            raise DontCloseSpider
        now = self.clock()
        if self._quiet_since is None or self._quiet_since[0] != pops:
            self._quiet_since = (pops, now)
            raise DontCloseSpider
        if now - self._quiet_since[1] < QUIET_SECONDS:
            raise DontCloseSpider
        logger.info(
            "%s leaves: the fleet was idle for %.1f s, %d requests taken in all",
            self.worker,
            now - self._quiet_since[1],
            pops,
        )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        pipe = self.server.pipeline()
        pipe.hdel(self.keys.workers, self.worker)
        pipe.delete(self.keys.inflight(self.worker))
        pipe.execute()


def bury_dead(server: redis.Redis, keys: FleetKeys, me: str) -> int:
    """For every other worker that stopped beating: its in-flight requests go back to the
    frontier, the hosts' slots it held are freed (else the fleet could not ask those hosts
    until the slots expire) and it leaves the roster. Returns how many requests moved."""
    now = time.time()
    moved = 0
    for name, seen in server.hgetall(keys.workers).items():
        other = name.decode() if isinstance(name, bytes) else name
        if other != me and now - float(seen) > DEAD_AFTER_SECONDS:
            moved += requeue(server, keys.inflight(other), keys.requests)
            free_slots(server, keys, other)
            server.hdel(keys.workers, other)
    if moved:
        logger.warning("put %d requests of dead workers back on the frontier", moved)
    return moved


def free_slots(server: redis.Redis, keys: FleetKeys, worker: str) -> int:
    """Give back every host slot `worker` holds; returns how many."""
    freed = 0
    for slots in server.scan_iter(match=f"{keys.throttle('*')}:slots", count=100):
        held = [m for m, _ in server.zscan_iter(slots, match=f"{_slot_owner(worker)}*")]
        if held:
            freed += int(server.zrem(slots, *held))
    return freed


def _slot_owner(worker: str) -> str:
    """The prefix of a worker's slot tokens (ids are free text: glob characters escaped)."""
    escaped = "".join(f"\\{c}" if c in "*?[]\\" else c for c in worker)
    return f"{escaped}|"


def fleet_idle(server: redis.Redis, keys: FleetKeys, worker: str | None = None) -> bool:
    """No request waits on the frontier and none is in flight at another worker."""
    if server.zcard(keys.requests):
        return False
    own = keys.inflight(worker) if worker else None
    for key in server.scan_iter(match=keys.inflight_pattern, count=100):
        name = key.decode() if isinstance(key, bytes) else key
        if name != own and not name.endswith(":requeue") and server.hlen(name):
            return False
    return True


# Atomically: drop expired slots; if a slot is free take it and book the next start time
# (at least `delay` after the last one, fleet-wide); return the wait, or -1 when all are busy.
_SLOT = """
local slots, next_key = KEYS[1], KEYS[2]
local now, delay, limit, ttl, token = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
if redis.call('ZCARD', slots) >= limit then return '-1' end
redis.call('ZADD', slots, now + ttl, token)
local start = math.max(now, tonumber(redis.call('GET', next_key) or '0'))
redis.call('SET', next_key, start + delay, 'EX', math.ceil(delay + ttl))
return tostring(start - now)
"""


class FleetThrottleMiddleware:
    """Per-host politeness for the whole fleet, not each worker: at most
    NEWSMIRROR_FLEET_CONCURRENCY requests to a host at once and NEWSMIRROR_FLEET_DELAY
    seconds between their starts, counted in Redis across every worker."""

    def __init__(
        self,
        crawler: Crawler,
        server: redis.Redis,
        keys: FleetKeys,
        delay: float,
        limit: int,
        *,
        worker: str = "",
    ) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = keys
        self.delay = delay
        self.limit = limit
        self.worker = worker  # slot tokens start with it, so a dead worker's can be freed
        self._slot = server.register_script(_SLOT)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.get("REDIS_URL"):
            raise NotConfigured
        return cls(
            crawler,
            connect(crawler),
            fleet_keys(crawler),
            settings.getfloat("NEWSMIRROR_FLEET_DELAY"),
            settings.getint("NEWSMIRROR_FLEET_CONCURRENCY"),
            worker=settings.get("NEWSMIRROR_WORKER_ID") or "",
        )

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        token = f"{self.worker}|{uuid.uuid4().hex}"
        base = self.keys.throttle(host)
        while True:
            wait = float(
                self._slot(
                    keys=[f"{base}:slots", f"{base}:next"],
                    args=[time.time(), self.delay, self.limit, SLOT_TTL_SECONDS, token],
                )
            )
            if wait >= 0:
                break
            await asyncio.sleep(0.05)
        request.meta["fleet_slot"] = (f"{base}:slots", token)
        if wait > 0:
            await asyncio.sleep(wait)

    def _release(self, request: Request) -> None:
        slot = request.meta.pop("fleet_slot", None)
        if slot is not None:
            self.server.zrem(slot[0], slot[1])

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)
