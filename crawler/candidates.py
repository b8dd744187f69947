"""Spot hosts outside the profile that look like the site's mirrors, from its own pages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.classify import visible_text
from crawler.profiles import SiteProfile

if TYPE_CHECKING:
    from crawler.links import Link

# A host name in running text: labels of letters, digits and hyphens, and a top-level
# domain of letters only (so "e.g." or "3.5" are not hosts).
_HOST_RE = re.compile(
    r"(?<![\w.-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![\w-])"
)
_QUOTES = str.maketrans({"’": "'", "‘": "'"})
# The alternate-addresses block is short; what comes long after it is the footer.
BLOCK_CHARS = 600


def named_in_alternates(html: str, profile: SiteProfile) -> set[str]:
    """Hosts the page names right after the profile's alternate-addresses text (its
    `boilerplate.cut_at` markers) that are not the profile's own."""
    if not profile.boilerplate.cut_at:
        return set()
    text = visible_text(html)
    found: set[str] = set()
    for marker in profile.boilerplate.cut_at:
        folded = " ".join(marker.lower().translate(_QUOTES).split())
        at = text.find(folded)
        if at < 0:
            continue
        block = text[at + len(folded) : at + len(folded) + BLOCK_CHARS]
        found.update(host for host in _HOST_RE.findall(block) if _is_foreign(host, profile))
    return found


def serving_story_urls(links: Iterable[tuple[str, Link]]) -> dict[str, str]:
    """Foreign hosts that a page's links point to under the site's story URL shape (CDN
    aliases, unlisted mirrors), each with one such link: (raw link, what it points to)."""
    found: dict[str, str] = {}
    for raw, link in links:
        if link.foreign_host and link.foreign_host not in found:
            found[link.foreign_host] = raw
    return found


def foreign_story_host(link: str, profile: SiteProfile) -> str | None:
    """The host of a link to the site's story URL shape on a host outside the profile, else
    None (a link that cannot be parsed, such as a broken IPv6 address, included)."""
    try:
        parts = urlsplit(link)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if host and _is_foreign(host, profile) and profile.article.pattern.match(parts.path):
        return host
    return None


def _is_foreign(host: str, profile: SiteProfile) -> bool:
    return profile.resolve_host(host) is None
