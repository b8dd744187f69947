"""What a crawl is limited to: publication days (--since/--until), story ids (--backfill-ids)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class WindowError(ValueError):
    """A date that cannot be read, or a window that ends before it starts."""


def parse_day(text: str, option: str = "date") -> dt.date:
    """YYYY-MM-DD, or an ISO 8601 date-time whose calendar day is taken."""
    value = text.strip()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        raise WindowError(f"{option} {text!r}: expected a date like 2025-03-08") from None


@dataclass(frozen=True)
class Window:
    """Inclusive range of publication days; open ends mean no bound."""

    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> Window:
        window = cls(
            parse_day(since, "--since") if since else None,
            parse_day(until, "--until") if until else None,
        )
        if window.since and window.until and window.since > window.until:
            raise WindowError(f"--since {window.since} is after --until {window.until}")
        return window

    @property
    def is_open(self) -> bool:
        return self.since is None and self.until is None

    def contains(self, day: dt.date | None) -> bool:
        """Whether a story of this day is wanted; a story of unknown day always is."""
        if day is None:
            return True
        if self.since and day < self.since:
            return False
        return not (self.until and day > self.until)

    def contains_iso(self, timestamp: str | None) -> bool:
        """Like contains(), for an ISO 8601 date or date-time string (its own calendar day)."""
        if not timestamp:
            return True
        try:
            return self.contains(dt.date.fromisoformat(timestamp[:10]))
        except ValueError:
            return True


def parse_id_range(text: str) -> tuple[int, int]:
    """`FROM-TO` (inclusive) as two numbers; ValueError otherwise."""
    first, sep, last = text.strip().partition("-")
    if not sep or not first.strip().isdigit() or not last.strip().isdigit():
        raise WindowError(f"--backfill-ids {text!r}: expected FROM-TO, like 745000-745999")
    low, high = int(first), int(last)
    if low > high:
        raise WindowError(f"--backfill-ids {text!r}: FROM is after TO")
    return low, high
