"""Dates: machine-readable and visible date strings to ISO 8601 with seconds and an offset.

A date printed without an offset is read in the zone the caller passes: the profile's zone
(`SiteProfile.tzinfo`) or, with no profile, UTC. A date that carries its own offset keeps it;
nothing is converted. A date without a time reads as midnight of that day.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re

from crawler.extraction.clean import normalize_text

# Pages do not date stories before the web or far in the future; such values are junk.
_MIN_YEAR = 1990
_MAX_YEAR = 2200
# Meta values are short; anything longer is prose, not a date.
_MAX_DATE_CHARS = 64
_MAX_VISIBLE_CHARS = 400
# "2025-03-08T10:21:47+0330" (no colon in the offset) is common and fromisoformat reads it;
# a space before the offset is not, so it is closed up first.
_SPACED_OFFSET_RE = re.compile(r"(\d)\s+([+-]\d{2}:?\d{2}|Z)$")


def to_iso(value: dt.datetime, default_tz: dt.tzinfo) -> str:
    """ISO 8601 with seconds and an offset; a naive value is taken to be in `default_tz`."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=default_tz)
    return value.isoformat(timespec="seconds")


def _plausible(value: dt.datetime) -> bool:
    return _MIN_YEAR <= value.year <= _MAX_YEAR


def parse_date(text: object, default_tz: dt.tzinfo) -> str | None:
    """A machine-readable date (ISO 8601 or RFC 2822) as ISO 8601, else None."""
    if not isinstance(text, str):
        return None
    raw = normalize_text(text)
    if not raw or len(raw) > _MAX_DATE_CHARS:
        return None
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(_SPACED_OFFSET_RE.sub(r"\1\2", raw))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None or not _plausible(parsed):
        return None
    return to_iso(parsed, default_tz)


def parse_visible_date(text: str, formats: tuple[str, ...], default_tz: dt.tzinfo) -> str | None:
    """The first date in visible text that one of the strptime `formats` reads, as ISO 8601.

    Text such as "Saturday, 08 March 2025 10:21 AM [ Last Update: ... ]" carries words around
    the date, so each format is tried on a window of as many words as it has, sliding from
    the start: the earliest date in the text wins.
    """
    words = normalize_text(text)[:_MAX_VISIBLE_CHARS].split(" ")
    widths = [(fmt, len(fmt.split())) for fmt in formats]
    for start in range(len(words)):
        for fmt, width in widths:
            if start + width > len(words):
                continue
            candidate = " ".join(words[start : start + width])
            try:
                parsed = dt.datetime.strptime(candidate, fmt)  # naive: to_iso adds the zone
            except ValueError:
                continue
            if _plausible(parsed):
                return to_iso(parsed, default_tz)
    return None


def read_date(text: object, formats: tuple[str, ...], default_tz: dt.tzinfo) -> str | None:
    """Machine-readable first, then the visible formats."""
    iso = parse_date(text, default_tz)
    if iso is None and formats and isinstance(text, str):
        iso = parse_visible_date(text, formats, default_tz)
    return iso
