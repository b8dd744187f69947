"""The Redis keys of one distributed crawl, all under `newsmirror:<site>:<crawl id>:`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PREFIX = "newsmirror"


def current_key(site: str) -> str:
    """Holds the id of the site's crawl in progress, so every process joins the same one."""
    return f"{PREFIX}:{site}:current"


@dataclass(frozen=True)
class FleetKeys:
    site: str
    crawl: str  # the crawl's id: a fresh frontier and dupefilter for every crawl

    @classmethod
    def from_settings(cls, settings: Any) -> FleetKeys:
        """The keys of the crawl a worker's Scrapy settings name."""
        return cls(settings.get("NEWSMIRROR_FLEET_SITE"), settings.get("NEWSMIRROR_FLEET_CRAWL"))

    @property
    def base(self) -> str:
        return f"{PREFIX}:{self.site}:{self.crawl}"

    @property
    def requests(self) -> str:  # scrapy-redis priority queue (sorted set)
        return f"{self.base}:requests"

    @property
    def dupefilter(self) -> str:  # scrapy-redis fingerprint set
        return f"{self.base}:dupefilter"

    @property
    def items(self) -> str:  # list: workers LPUSH, the writer BRPOPs
        return f"{self.base}:items"

    @property
    def taken(self) -> str:  # list: items the writer has popped and not yet committed
        return f"{self.base}:items:taken"

    @property
    def workers(self) -> str:  # hash: worker id -> last heartbeat (unix seconds)
        return f"{self.base}:workers"

    @property
    def state(self) -> str:  # hash: profile text, params, started_at, workers_seen, pops
        return f"{self.base}:state"

    @property
    def probes(self) -> str:  # hash: host -> JSON of its probe's answer (PROBE_ANSWERED)
        return f"{self.base}:probes"

    def inflight(self, worker: str) -> str:  # hash: request id -> encoded request
        return f"{self.base}:inflight:{worker}"

    @property
    def inflight_pattern(self) -> str:
        return f"{self.base}:inflight:*"

    def throttle(self, host: str) -> str:  # next free slot time and the hosts' open requests
        return f"{self.base}:throttle:{host}"


def text(value: bytes | str) -> str:
    """A Redis reply as text (replies are bytes unless the client decodes them)."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
