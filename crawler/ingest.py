"""The one writer of a run: items in, batched transactions out, and the run's crawl_runs row.

No Scrapy here: a local crawl feeds it from StoragePipeline, a distributed crawl from the
Redis item queue (`newsmirror ingest`), through exactly the same code.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from crawler.clock import utc_now
from crawler.health import REQUIRED_FIELDS, RunTally, host_state, run_verdict
from crawler.items import Capture, HostVerdict, MirrorCandidate
from crawler.lock import RunLock
from crawler.notify import failure_report, notify_failure
from crawler.profiles import SiteProfile
from crawler.storage import Store, StoreError, WriteResult

logger = logging.getLogger(__name__)

Count = Callable[[str, int], None]


class Ingestor:
    """Batches captures into `Store.write_captures`, keeps the run's tallies, and at the end
    records host states, candidate mirrors and the run's verdict.

    `open()` takes the database's run lock (LockHeldError when another run holds it) and
    marks runs a killed process left `running` as `interrupted`. `count` receives every
    counter change (the crawl's stats, for the progress display).
    """

    def __init__(
        self,
        db_path: str,
        *,
        batch_size: int = 200,
        max_missing_share: float = 0.5,
        on_failure: str | None = None,
        webhook: str | None = None,
        count: Count | None = None,
    ) -> None:
        self.db_path = db_path
        self.batch_size = batch_size
        self.max_missing_share = max_missing_share
        self.on_failure = on_failure
        self.webhook = webhook
        self.counters: Counter[str] = Counter()
        self._count = count
        self.buffer: list[Capture] = []
        self.candidates: list[MirrorCandidate] = []
        self.tally = RunTally()
        self.lock = RunLock(db_path)
        self.store: Store | None = None
        self.run_id: int | None = None
        self.profile: SiteProfile | None = None
        self.started = time.monotonic()

    # --- the run ----------------------------------------------------------------------------

    def open(self, profile: SiteProfile, params: Mapping[str, Any]) -> int:
        """Lock the database, open the run row; returns its id."""
        self.lock.acquire(f"{params.get('spider') or 'crawl'} {profile.name}")
        try:
            self.store = Store(self.db_path)
            interrupted = self.store.interrupt_stale_runs()
            if interrupted:
                logger.warning(
                    "runs %s were left running by a killed process: now interrupted",
                    ", ".join(map(str, interrupted)),
                )
            roles = {host: profile.role_of(host) or "alternate" for host in profile.hosts}
            self.store.sync_hosts(profile.name, roles)
            self.run_id = self.store.begin_run(profile.name, dict(params))
        except BaseException:
            self.lock.release()
            raise
        self.profile = profile
        self.started = time.monotonic()
        return self.run_id

    def add(self, item: Any) -> bool:
        """Take one item; True when a batch is full and flush() is due."""
        if isinstance(item, HostVerdict):
            self.tally.give_up(item)
        elif isinstance(item, MirrorCandidate):
            self.candidates.append(item)
        elif isinstance(item, Capture):
            self.buffer.append(item)
            self.tally.add(item)
            self._tick("newsmirror/pages")
            self._tick(f"newsmirror/host/{item.host}/pages")
            self._tick(f"newsmirror/outcome/{item.outcome}")
            if item.outcome == "error":
                self._tick(f"newsmirror/host/{item.host}/errors")
        return len(self.buffer) >= self.batch_size

    def flush(self) -> WriteResult | None:
        """Write the buffered captures in one transaction (StoreError when it cannot)."""
        batch = self.take()
        if not batch:
            return None
        result = self.write(batch)
        self.record(result)
        return result

    def take(self) -> list[Capture]:
        """The buffered captures, handed over for writing (the buffer starts again empty)."""
        if self.store is None or self.run_id is None:
            return []
        batch, self.buffer = self.buffer, []
        return batch

    def write(self, batch: list[Capture]) -> WriteResult:
        """Write a batch from take() in one transaction (StoreError when it cannot). Touches
        only the store, so it may run in a thread of its own while add() goes on."""
        if self.store is None or self.run_id is None:
            raise StoreError("the run is not open")
        return self.store.write_captures(self.run_id, batch)

    def record(self, result: WriteResult) -> None:
        """Count what a write() did (in the thread that counts everything else)."""
        self._tick("newsmirror/stories_new", result.new_stories)
        self._tick("newsmirror/stories_updated", result.updated_stories)
        self._tick("newsmirror/versions_new", result.new_versions)
        self._tick("newsmirror/gone", result.gone)

    def finish(
        self,
        reason: str,
        *,
        checks_stories: bool = True,
        extra_stats: Mapping[str, Any] | None = None,
    ) -> tuple[str, str | None]:
        """Record host states and candidates, close the run row, release the lock, and tell
        someone if the run did not finish well. Returns (status, reason)."""
        if self.store is None or self.run_id is None or self.profile is None:
            self.lock.release()
            return "failed", "the run never started"
        tally = self.tally if checks_stories else RunTally()
        status, why = run_verdict(tally, reason, self.max_missing_share)
        checked_at = utc_now()
        try:
            for host, host_tally in sorted(self.tally.hosts.items()):
                state, detail = host_state(host_tally)
                self.store.set_mirror_state(host, state, detail, checked_at, self.run_id)
            self.store.record_candidates(self.candidates)
            self.store.finish_run(self.run_id, status, self.run_stats(reason, extra_stats), why)
        except StoreError as exc:
            status, why = "failed", f"cannot finish the run record: {exc}"
            logger.error(why)
        finally:
            try:
                self.store.close()
            except StoreError as exc:  # the run is recorded (or already failed): say so only
                logger.warning("closing %s: %s", self.db_path, exc)
            self.store = None
            self.lock.release()
        if status != "finished":
            report = failure_report(self.run_id, self.profile.name, status, why, self.db_path)
            notify_failure(report, self.on_failure, self.webhook)
        return status, why

    # --- helpers ----------------------------------------------------------------------------

    def _tick(self, key: str, amount: int = 1) -> None:
        self.counters[key] += amount
        if self._count is not None:
            self._count(key, amount)

    def run_stats(self, reason: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        pages = self.counters["newsmirror/pages"]
        tally = self.tally
        hosts = {}
        for host, host_tally in sorted(tally.hosts.items()):
            hosts[host] = {
                "pages": host_tally.pages,
                "outcomes": dict(sorted(host_tally.outcomes.items())),
                "errors": dict(host_tally.errors.most_common(10)),
                "state": host_state(host_tally)[0],
            }
        complete = None
        if tally.new_stories:
            complete = {
                name: round(1 - tally.missing[name] / tally.new_stories, 4)
                for name in REQUIRED_FIELDS
            }
        return {
            "finish_reason": reason,
            "elapsed_seconds": round(elapsed, 3),
            "pages": pages,
            "pages_per_second": round(pages / elapsed, 2) if elapsed else None,
            "stories_new": self.counters["newsmirror/stories_new"],
            "stories_updated": self.counters["newsmirror/stories_updated"],
            "versions_new": self.counters["newsmirror/versions_new"],
            "gone": self.counters["newsmirror/gone"],
            "unchanged": self.counters["newsmirror/outcome/unchanged"],
            "article_pages": tally.article_pages,
            "stories_seen": tally.stories,
            "new_stories_seen": tally.new_stories,
            "fields_missing": dict(tally.missing),
            "fields_complete": complete,
            **dict(extra or {}),
            "hosts": hosts,
        }
