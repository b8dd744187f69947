"""UTC timestamps in the one ISO 8601 format the database stores."""

from __future__ import annotations

import datetime as dt


def utc_now() -> str:
    """The current time, e.g. `2026-11-25T12:00:00.123+00:00`."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def to_utc(value: str) -> str:
    """Rewrite an ISO 8601 timestamp in `utc_now()`'s format (naive means UTC).

    Stored timestamps are compared as text (in Python and in SQL min()/max()), which is
    only right when every one of them has the same shape: `Z` vs `+00:00`, offsets or
    missing milliseconds would otherwise sort wrongly. Raises ValueError when unparsable.
    """
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).isoformat(timespec="milliseconds")
