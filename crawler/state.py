"""What a crawl knows from earlier runs when it opens: answered stories, recent ones, validators."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crawler.profiles import SiteProfile
from crawler.storage import Store


def _key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


class KeySet:
    """A read-only set of story keys kept as sorted 64-bit hashes: 8 bytes a key, so a
    million stories on four hosts cost 32 MB, not the gigabyte a set of strings would.
    A collision (about one in 10^19 per pair) could only make a run skip one story."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._hashes = array("Q", sorted({_key_hash(key) for key in keys}))

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        wanted = _key_hash(key)
        at = bisect.bisect_left(self._hashes, wanted)
        return at < len(self._hashes) and self._hashes[at] == wanted

    def __len__(self) -> int:
        return len(self._hashes)


@dataclass
class CrawlState:
    """Read once when the crawl opens; the store is asked again only for validators."""

    answered: dict[str, KeySet] = field(default_factory=dict)  # host -> stories it answered for
    known: KeySet = field(default_factory=lambda: KeySet(()))  # any host answered
    recent: dict[str, str] = field(default_factory=dict)  # key -> canonical URL, recheck window
    resuming: bool = False  # the last run with this --jobdir did not finish
    site: str = ""
    store: Store | None = None  # read-only, for validators

    @classmethod
    def load(
        cls,
        db: str | Path,
        profile: SiteProfile,
        recheck_since: dt.datetime,
        jobdir: str | None = None,
    ) -> CrawlState:
        """The state of `profile`'s site in the database at `db` (empty when there is none)."""
        if not Path(db).exists():
            return cls()
        store = Store(db, readonly=True)
        answered = {host: KeySet(store.answered_keys(host)) for host in profile.hosts}
        known = KeySet(key for host in profile.hosts for key in store.answered_keys(host))
        recent = dict(cls._stories(store, profile.name, recheck_since.isoformat()))
        resuming = bool(jobdir) and store.last_run_status(profile.name, jobdir=jobdir) in (
            "running",
            "interrupted",
        )
        return cls(
            answered=answered,
            known=known,
            recent=recent,
            resuming=resuming,
            site=profile.name,
            store=store,
        )

    @staticmethod
    def _stories(store: Store, site: str, since: str) -> Iterator[tuple[str, str]]:
        after = ""
        while page := store.recent_stories(site, since, after=after):
            yield from page
            after = page[-1][0]

    def every_story(self) -> Iterator[str]:
        """The canonical URL of every story of the site in the archive, a page at a time
        (a --full run asks them all again, even those no page links to any more)."""
        if self.store is None:
            return
        for _, url in self._stories(self.store, self.site, "0001-01-01"):
            yield url

    def has_answered(self, key: str, host: str) -> bool:
        keys = self.answered.get(host)
        return keys is not None and key in keys

    def is_known(self, key: str) -> bool:
        return key in self.known

    def story_validators(self, key: str, host: str) -> tuple[str | None, str | None]:
        if self.store is None or not self.has_answered(key, host):
            return None, None
        return self.store.story_validators(key, host)

    def page_validators(self, url: str) -> tuple[str | None, str | None]:
        if self.store is None:
            return None, None
        return self.store.page_validators(url)

    def latest_story_url(self) -> str | None:
        return self.store.latest_story(self.site) if self.store is not None else None

    def page_body(self, url: str) -> bytes | None:
        return self.store.page_body(url) if self.store is not None else None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
