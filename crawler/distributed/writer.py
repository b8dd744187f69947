"""The fleet's one writer: drain the item queue into SQLite through the Ingestor."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import redis

from crawler.distributed.codec import decode_item
from crawler.distributed.fleet import crawl_done, end_crawl
from crawler.distributed.keys import FleetKeys, text
from crawler.ingest import Ingestor
from crawler.profiles import parse_profile

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0
POP_SECONDS = 1


def drain(
    server: redis.Redis,
    keys: FleetKeys,
    ingestor: Ingestor,
    *,
    progress: Callable[[str], None] | None = None,
    progress_seconds: float = 30.0,
) -> tuple[str, str | None]:
    """Write every item of the crawl until it is done and its queue empty; finish the run.

    Items are decoded one by one and a bad one is logged and skipped: the queue is shared,
    and one foreign message must not stop the archive. Each item is moved, not popped, to a
    `taken` list that is emptied only once its batch is committed: a writer killed before
    that leaves the items there, and the next writer takes them again (the store keeps a
    capture once by its delivery id). Returns the run's (status, reason).
    """
    raw = server.hget(keys.state, "profile")
    if raw is None:
        raise ValueError(f"crawl {keys.crawl} of {keys.site} has no profile in Redis")
    profile = parse_profile(text(raw), source=f"redis:{keys.site}")
    params = json.loads(server.hget(keys.state, "params") or "{}")
    ingestor.open(profile, {**params, "spider": "fleet", "fleet_crawl": keys.crawl})
    last_flush = last_report = time.monotonic()
    reason = "finished"

    def commit() -> None:
        ingestor.flush()
        server.delete(keys.taken)

    for data in server.lrange(keys.taken, 0, -1)[::-1]:  # a killed writer's last batch
        _add(ingestor, keys, data)
    commit()
    try:
        while True:
            popped = server.blmove(keys.items, keys.taken, POP_SECONDS, "RIGHT", "LEFT")
            if popped is not None and _add(ingestor, keys, popped):
                commit()
                last_flush = time.monotonic()
            now = time.monotonic()
            if now - last_flush >= FLUSH_SECONDS:
                commit()
                last_flush = now
            if progress is not None and now - last_report >= progress_seconds:
                progress(progress_line(ingestor))
                last_report = now
            if popped is None and not server.llen(keys.items) and crawl_done(server, keys):
                break
        commit()
    except KeyboardInterrupt:
        reason = "shutdown"
        commit()
    status, why = ingestor.finish(reason)
    if reason == "finished":
        end_crawl(server, keys)
    return status, why


def _add(ingestor: Ingestor, keys: FleetKeys, data: bytes | str) -> bool:
    """Give one message to the ingestor; True when its batch is full."""
    try:
        item = decode_item(data)
    except ValueError as exc:
        logger.error("skipped a message on %s: %s", keys.items, exc)
        return False
    return ingestor.add(item)


def progress_line(ingestor: Ingestor) -> str:
    c = ingestor.counters
    return (
        f"ingested {c['newsmirror/pages']} captures | stories +{c['newsmirror/stories_new']} new,"
        f" {c['newsmirror/stories_updated']} updated | versions +{c['newsmirror/versions_new']}"
    )
