"""Decide what a fetched page is: the site's story or listing, or a seizure/parking/error page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crawler.items import ARTICLE, LISTING, NOT_ARTICLE, SEIZED, SOFT_404
from crawler.profiles import SiteProfile

_TAG_RE = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACE_RE = re.compile(r"\s+")
_LINK_RE = re.compile(r"<a\s[^>]*href", re.IGNORECASE)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
# Seizure and parking notices are small pages with a handful of links; a news page that
# merely quotes a notice has hundreds of links (menus, related stories).
NOTICE_MAX_LINKS = 40


def visible_text(html: str) -> str:
    """Lower-case text of a page with tags removed and whitespace collapsed (for marker search)."""
    text = _TAG_RE.sub(" ", html)
    return _SPACE_RE.sub(" ", text).translate(_QUOTES).lower()


def find_marker(text: str, markers: tuple[str, ...]) -> str | None:
    """The first marker (case- and quote-insensitive) present in already-lowered text."""
    for marker in markers:
        if _SPACE_RE.sub(" ", marker).translate(_QUOTES).lower() in text:
            return marker
    return None


def notice_marker(html: str, profile: SiteProfile) -> str | None:
    """The seizure or parking marker a small notice page carries, else None."""
    if len(_LINK_RE.findall(html)) > NOTICE_MAX_LINKS:
        return None
    text = visible_text(html)
    return find_marker(text, profile.markers.seizure) or find_marker(text, profile.markers.parking)


def classify_listing(html: str, profile: SiteProfile) -> str:
    """Outcome of a 200 response to a home, section, feed or sitemap URL."""
    return SEIZED if notice_marker(html, profile) else LISTING


def classify_article(html: str, extracted: Mapping[str, Any], profile: SiteProfile) -> str:
    """Outcome of a 200 response to an article URL, given what extraction found on it."""
    from_template = extracted.get("extraction") == "profile"
    if not from_template and notice_marker(html, profile):
        return SEIZED
    title = extracted.get("title") or ""
    if find_marker(visible_text(title), profile.markers.soft_404):
        return SOFT_404
    if not extracted.get("body"):
        return (
            SOFT_404 if find_marker(visible_text(html), profile.markers.soft_404) else NOT_ARTICLE
        )
    if not title:
        return NOT_ARTICLE
    return ARTICLE
