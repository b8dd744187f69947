"""A story's versions and per-host state in memory, and which version its row shows (no SQL here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crawler.items import ARTICLE, UNCHANGED

# A host still has a story when its last capture of it served the story.
SERVED_OUTCOMES = (ARTICLE, UNCHANGED)
ROLE_ORDER = {"primary": 0, "alternate": 1, "retired": 2}


def host_sort_key(host: str, roles: Mapping[str, str]) -> tuple[int, str]:
    """Primary first, then alternates, retired hosts, hosts of unknown role; by name within each."""
    return ROLE_ORDER.get(roles.get(host, ""), len(ROLE_ORDER)), host


def sort_hosts(hosts: Iterable[str], roles: Mapping[str, str]) -> list[str]:
    return sorted(set(hosts), key=lambda host: host_sort_key(host, roles))


@dataclass
class Version:
    """One distinct content of a story (a `versions` row)."""

    content_hash: str
    hosts: list[str]
    first_seen_at: str
    last_seen_at: str
    url: str | None = None
    id: int | None = None  # None until inserted
    fields: dict[str, Any] | None = None  # extracted fields, when this batch holds them
    changed: bool = False

    def seen_on(
        self,
        host: str,
        at: str,
        url: str | None = None,
        fields: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        if host not in self.hosts:
            self.hosts.append(host)
            self.changed = True
        if self.id is None and url is not None and (at, url) < (self.first_seen_at, self.url or ""):
            # The earliest capture names a new version, whatever order the batch came in;
            # a stored version is never rewritten.
            self.url = url
            self.fields = fields() if fields is not None else self.fields
        if at < self.first_seen_at:
            self.first_seen_at = at
            self.changed = True
        if at > self.last_seen_at:
            self.last_seen_at = at
            self.changed = True


@dataclass
class HostRecord:
    """What one host did with one story (an `article_hosts` row)."""

    host: str
    url: str
    content_hash: str  # what the host served most recently, kept after it is gone
    first_seen_at: str
    last_seen_at: str  # last capture that served the story
    last_checked_at: str  # last capture of the story on this host, whatever it said
    last_status: int | None
    last_outcome: str
    changed: bool = False

    @property
    def is_serving(self) -> bool:
        return self.last_outcome in SERVED_OUTCOMES

    def checked(self, at: str, status: int | None, outcome: str) -> None:
        # Captures may arrive out of order (retries, several spiders); the newest wins.
        if at >= self.last_checked_at:
            self.last_checked_at = at
            self.last_status = status
            self.last_outcome = outcome
            self.changed = True


@dataclass
class Story:
    """Everything known about one story key while a batch is written."""

    key: str
    versions: dict[str, Version] = field(default_factory=dict)
    hosts: dict[str, HostRecord] = field(default_factory=dict)
    row_hash: str | None = None  # content_hash of the stored articles row; None if there is none
    touched: bool = False

    def served(
        self,
        host: str,
        url: str,
        content_hash: str,
        at: str,
        *,
        status: int | None,
        fields: Callable[[], dict[str, Any]],
    ) -> bool:
        """Record that `host` served this content at `at`; True when the content is a new version.

        `fields` gives the extracted fields; it is only called when a new version needs them.
        """
        self.touched = True
        version = self.versions.get(content_hash)
        is_new = version is None
        if version is None:
            version = Version(content_hash, [host], at, at, url=url, fields=fields(), changed=True)
            self.versions[content_hash] = version
        else:
            version.seen_on(host, at, url, fields)
        record = self.hosts.get(host)
        if record is None:
            self.hosts[host] = HostRecord(
                host, url, content_hash, at, at, at, status, ARTICLE, changed=True
            )
            return is_new
        record.first_seen_at = min(record.first_seen_at, at)
        if at >= record.last_seen_at:
            record.url = url
            record.content_hash = content_hash
            record.last_seen_at = at
        record.checked(at, status, ARTICLE)
        record.changed = True
        return is_new

    def unchanged(self, host: str, at: str, status: int | None) -> str | None:
        """A host answered that the story is as before; the content it serves, if it served one."""
        record = self.hosts.get(host)
        if record is None:
            return None
        self.touched = True
        self.versions[record.content_hash].seen_on(host, at)
        if at > record.last_seen_at:
            record.last_seen_at = at
            record.changed = True
        record.checked(at, status, UNCHANGED)
        return record.content_hash

    def choose(self, roles: Mapping[str, str]) -> tuple[Version, HostRecord | None]:
        """The version the story row shows, and the host whose copy it is.

        The primary's latest content when the primary ever served the story (even if it
        has since removed it: its last word is the outlet's own). Else, among the contents
        the other hosts still serve (or last served, when none does) and preferring hosts
        that are not retired, the one first seen most recently; ties go to the larger hash
        so the choice never depends on the order captures arrived in.
        """
        records = list(self.hosts.values())
        primaries = [r for r in records if roles.get(r.host) == "primary"]
        if primaries:
            record = max(primaries, key=lambda r: (r.last_seen_at, r.host))
            return self.versions[record.content_hash], record
        if not records:  # only for rows written before article_hosts existed
            return max(
                self.versions.values(), key=lambda v: (v.first_seen_at, v.content_hash)
            ), None
        pool = [r for r in records if r.is_serving] or records
        pool = [r for r in pool if roles.get(r.host) != "retired"] or pool
        best = max(
            pool, key=lambda r: (self.versions[r.content_hash].first_seen_at, r.content_hash)
        )
        holders = [r for r in pool if r.content_hash == best.content_hash]
        record = min(holders, key=lambda r: host_sort_key(r.host, roles))
        return self.versions[record.content_hash], record

    def mirrors(self, roles: Mapping[str, str]) -> list[str]:
        """Every host that served any version."""
        return sort_hosts((h for v in self.versions.values() for h in v.hosts), roles)
