"""The shared frontier: scrapy-redis's priority queue, made safe against a killed worker."""

from __future__ import annotations

from typing import Any

import redis
from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from crawler.distributed import serializer
from crawler.distributed.keys import FleetKeys

# Take the best entry and park it in this worker's in-flight hash in one step: a worker that
# dies now or later leaves it there, and a live one puts it back (requeue_orphans). The
# crawl's `pops` count lets an idle worker tell a quiet fleet from a passing lull.
_POP = """
local entry = redis.call('ZRANGE', KEYS[1], 0, 0)
if #entry == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
local id = redis.sha1hex(entry[1])
redis.call('HSET', KEYS[2], id, entry[1])
redis.call('HINCRBY', KEYS[3], 'pops', 1)
return {id, entry[1]}
"""


class ReliableQueue(PriorityQueue):  # type: ignore[misc]
    """SCHEDULER_QUEUE_CLASS for a fleet: `pop` moves a request to this worker's in-flight
    hash (NEWSMIRROR_INFLIGHT_KEY); the request carries the entry's id in meta `fleet_id`,
    and the item pipeline drops the entry when the request's capture is queued."""

    def __init__(self, server: redis.Redis, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.inflight_key: str = spider.settings.get("NEWSMIRROR_INFLIGHT_KEY")
        self.state_key = FleetKeys.from_settings(spider.settings).state
        self._pop = server.register_script(_POP)

    def pop(self, timeout: int = 0) -> Request | None:
        found = self._pop(keys=[self.key, self.inflight_key, self.state_key])
        if not found:
            return None
        entry_id, data = found
        request: Request = self._decode_request(data)
        request.meta["fleet_id"] = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return request


def requeue(server: redis.Redis, inflight_key: str, requests_key: str) -> int:
    """Put a dead worker's in-flight requests back on the frontier; returns how many.

    The hash is renamed first (atomic), so two workers can never both requeue it."""
    parked = f"{inflight_key}:requeue"
    try:
        server.rename(inflight_key, parked)
    except redis.ResponseError:  # gone already: someone else took it, or nothing was there
        return 0
    entries = [e.encode() if isinstance(e, str) else e for e in server.hvals(parked)]
    pipe = server.pipeline()
    for data in entries:
        priority = serializer.loads(data).get("priority", 0)
        pipe.zadd(requests_key, {data: -int(priority)})
    pipe.delete(parked)
    pipe.execute()
    return len(entries)
