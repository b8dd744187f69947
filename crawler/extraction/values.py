"""Small value normalisers shared by the layers: URLs, language tags, keyword lists, names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from crawler.extraction.clean import fold_text, normalize_text

_LANG_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_LANG_SPLIT_RE = re.compile(r"[-_]")
# An absolute http(s) URL with a host and no whitespace, brackets or ";": urljoin gives it back
# unchanged unless it holds an empty query or fragment ("?#", a trailing "?" or "#"), which
# it drops.
_PLAIN_URL_RE = re.compile(r"https?://[^/\s?#;\[\]][^\s;\[\]]*")


def absolute_url(value: str | None, base: str) -> str | None:
    """An http(s) URL resolved against the page's URL; data: URIs and junk give None."""
    if not value:
        return None
    value = value.strip()
    if _PLAIN_URL_RE.fullmatch(value) and not value.endswith(("?", "#")) and "?#" not in value:
        return value  # what urljoin would give, without its cost
    try:
        resolved = urljoin(base, value)
        scheme = urlsplit(resolved).scheme
    except ValueError:
        return None
    return resolved if scheme in ("http", "https") else None


def normalize_language(value: str | None) -> str | None:
    """A BCP 47-style tag: "en", "en_US" -> "en-US"; anything else is None."""
    if not value or not _LANG_RE.match(value.strip()):
        return None
    first, *rest = _LANG_SPLIT_RE.split(value.strip())
    return "-".join([first.lower(), *(p.upper() if len(p) == 2 else p for p in rest)])


def dedupe(values: Iterable[str]) -> list[str]:
    """Unique non-empty values in first-seen order (compared case-insensitively)."""
    seen: set[str] = set()
    result = []
    for value in values:
        key = fold_text(value)
        if key and key not in seen:
            seen.add(key)
            result.append(normalize_text(value))
    return result


def split_tags(values: Iterable[str]) -> list[str]:
    """Keywords as a list: each value may itself be a comma-separated list."""
    return dedupe(tag for value in values for tag in value.split(","))


def looks_like_url(value: str) -> bool:
    """Author fields often hold a profile URL instead of a name."""
    return value.startswith(("http://", "https://", "//", "www."))
