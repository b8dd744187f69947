"""Decide what a fetched page is: the site's story or listing, or a seizure/parking/error page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crawler import urls
from crawler.items import ARTICLE, LISTING, NOT_ARTICLE, SEIZED, SOFT_404
from crawler.profiles import SiteProfile

_TAG_RE = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)
_SPACE_RE = re.compile(r"\s+")
_LINK_RE = re.compile(r"<a\s[^>]*href", re.IGNORECASE)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
# Seizure and parking notices are small pages with a handful of links; a news page that
# merely quotes a notice has hundreds of links (menus, related stories).
NOTICE_MAX_LINKS = 40
# A story page links a few other stories (related, most read); a home or section page
# served in a story's place links many.
LISTING_MIN_STORIES = 15
_CANONICAL_RE = re.compile(
    r"""<link\b(?=[^>]*\brel\s*=\s*["']?canonical)[^>]*\bhref\s*=\s*["']([^"']+)""",
    re.IGNORECASE,
)


def visible_text(html: str) -> str:
    """Lower-case text of a page with tags removed and whitespace collapsed (for marker search)."""
    text = _TAG_RE.sub(" ", html)
    # This runs on every story page, so the fast equivalents: str.split() breaks on exactly
    # what \s matches (the ends keep one space, as the regex left them), and str.replace
    # does what str.translate does here some hundred times faster on non-ASCII text.
    joined = " ".join(text.split())
    if not joined:
        return " " if text else ""
    lead = " " if text[0].isspace() else ""
    trail = " " if text[-1].isspace() else ""
    return _fold_quotes(f"{lead}{joined}{trail}").lower()


def _fold_quotes(text: str) -> str:
    """text.translate(_QUOTES), without translate's per-character cost on non-ASCII text."""
    if text.isascii():
        return text
    for typographic, plain in _QUOTES.items():
        text = text.replace(chr(typographic), str(plain))
    return text


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


def classify_article(
    html: str, extracted: Mapping[str, Any], profile: SiteProfile, other_stories: int = 0
) -> str:
    """Outcome of a 200 response to an article URL, given what extraction found on it and
    how many other stories the page links to."""
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
    if not title or names_another_page(html, profile) or ends_mid_tag(html):
        return NOT_ARTICLE
    if not from_template and other_stories >= LISTING_MIN_STORIES:
        return NOT_ARTICLE  # a listing (the home page served for any path, say)
    return ARTICLE


def ends_mid_tag(html: str) -> bool:
    """The page stops inside a tag: cut off in transfer or by the server, so what was
    extracted is a fragment of the story, never a version of it."""
    tail = html.rstrip()
    return tail.rfind("<") > tail.rfind(">")


def names_another_page(html: str, profile: SiteProfile) -> bool:
    """The page's own rel=canonical says it is a page of the site that is not a story (the
    home page or a section served in a story's place)."""
    match = _CANONICAL_RE.search(html[:20000])
    if match is None:
        return False
    canonical = urls.to_profile_url(match.group(1), profile)
    return canonical is not None and urls.page_type(canonical, profile) in ("home", "listing")
