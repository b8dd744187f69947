"""Links of a page: found quickly (no second tree), and what each points to in a profile."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from crawler import urls
from crawler.candidates import foreign_story_host
from crawler.profiles import SiteProfile

# A regular expression is enough here: a missed link is found again on another page or in
# a feed, and a tree parse per page would double the crawl's parsing cost.
_A_HREF_RE = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
_LINK_TAG_RE = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_ATTR_RE = re.compile(
    r"""\b(rel|type|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE
)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


def _absolute(raw: str, base_url: str, origin: str) -> str | None:
    value = html.unescape(raw).strip() if "&" in raw else raw.strip()
    if not value or value.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    if value.startswith("/") and not value.startswith("//") and "/." not in value:
        return origin + value  # the usual site-relative link, without urljoin's parsing
    if value.startswith(("https://", "http://")) and "/." not in value:
        return value
    try:
        return urljoin(base_url, value)
    except ValueError:
        return None


def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def page_links(text: str, base_url: str) -> list[str]:
    """Absolute URLs of every <a href> in a page, in order, without duplicates."""
    seen: dict[str, None] = {}
    origin = _origin(base_url)
    for match in _A_HREF_RE.finditer(text):
        raw = match.group(1) or match.group(2) or match.group(3) or ""
        url = _absolute(raw, base_url, origin)
        if url:
            seen.setdefault(url, None)
    return list(seen)


def feed_links(text: str, base_url: str) -> list[str]:
    """Absolute URLs of the RSS/Atom feeds a page advertises with <link rel=alternate>."""
    found: list[str] = []
    for tag in _LINK_TAG_RE.finditer(text):
        attrs = {
            m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR_RE.finditer(tag.group(0))
        }
        if (
            "alternate" in attrs.get("rel", "").lower().split()
            and attrs.get("type", "").lower() in _FEED_TYPES
        ):
            url = _absolute(attrs.get("href", ""), base_url, _origin(base_url))
            if url and url not in found:
                found.append(url)
    return found


@dataclass(frozen=True, slots=True)
class Link:
    """What one link points to, in the profile's terms."""

    kind: str  # article | home | listing | feed | sitemap | robots | other
    url: str | None = None  # cleaned, on the profile's spelling of the host
    key: str | None = None  # article links: the story
    day: dt.date | None = None  # article links: the date in the URL
    path: str | None = None  # article links: the canonical path, asked on every host
    # Other links: the host, when it is outside the profile and the path is story-shaped.
    foreign_host: str | None = None

    @classmethod
    def of(cls, raw: str, profile: SiteProfile) -> Link:
        kind, url, ref = urls.read_link(raw, profile)
        if url is None:
            return cls("other", foreign_host=foreign_story_host(raw, profile))
        if ref is None:  # read_link gives a ref with every article, and only then
            return cls(kind, url)
        canonical = urls.canonical_of_ref(ref, profile)  # the URL parsed once, not twice
        return cls(kind, url, ref.key, ref.date, urlsplit(canonical).path)
