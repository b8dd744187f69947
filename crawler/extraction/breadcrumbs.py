"""Breadcrumbs: trails in the markup, and the section path they give below the home crumb."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from crawler.extraction.clean import element_text, elements_of, fold_text

# Attribute axes rather than //*[contains(@class, ...) or ...]: libxml2 tests attributes
# through the attribute axis several times faster on large pages. "readcrumb" matches
# Breadcrumb and breadcrumb alike; the token test below is the exact one.
_BREADCRUMB_XPATH = etree.XPath(
    "//@class[contains(., 'readcrumb')]/.. | //@id[contains(., 'readcrumb')]/.."
    " | //@aria-label[contains(., 'readcrumb')]/.. | //@itemtype[contains(., 'BreadcrumbList')]/.."
)
# A class token that is or ends in breadcrumb(s): "breadcrumbs", "c-breadcrumb"; not the
# items inside a trail ("breadcrumb-item"), which the container already covers.
_BREADCRUMB_TOKEN_RE = re.compile(r"(?:^|\s)(?:[\w-]*[-_])?breadcrumbs?(?:$|\s)", re.IGNORECASE)
# A trail is short; a longer match is a page region whose class merely mentions breadcrumbs.
_MAX_CRUMBS = 10
_MAX_CRUMB_CHARS = 300
_REGION_TAGS = frozenset({"html", "body", "main", "article"})


@dataclass(frozen=True)
class Crumb:
    """One breadcrumb: its text and, when it is a link, where it points."""

    text: str
    href: str | None = None


def markup_breadcrumb(tree: etree._Element) -> list[Crumb]:
    """Crumbs of the first breadcrumb trail in the markup (class, id, aria-label, microdata)."""
    for container in elements_of(_BREADCRUMB_XPATH, tree):
        if container.tag in _REGION_TAGS:
            continue
        names = " ".join(container.get(a, "") for a in ("class", "id", "aria-label"))
        if not (
            _BREADCRUMB_TOKEN_RE.search(names) or "BreadcrumbList" in container.get("itemtype", "")
        ):
            continue
        items = container.findall(".//li") or container.findall(".//a")
        if len(items) > _MAX_CRUMBS:
            continue
        crumbs = []
        for item in items:
            link = item if item.tag == "a" else item.find(".//a")
            text = element_text(item)
            if text:
                crumbs.append(Crumb(text, link.get("href") if link is not None else None))
        if crumbs and sum(len(c.text) for c in crumbs) <= _MAX_CRUMB_CHARS:
            return crumbs
    return []


def section_from_crumbs(
    crumbs: list[Crumb], home_crumbs: Iterable[str], titles: Iterable[str]
) -> str | None:
    """The path below the home crumb: "Palestine / Foreign Policy". A leading crumb named
    like home or linking to "/" goes, and so does a trailing crumb that repeats the title."""
    texts = [c for c in crumbs if c.text]
    homes = {fold_text(h) for h in home_crumbs}
    if texts and (fold_text(texts[0].text) in homes or _is_root_link(texts[0].href)):
        texts = texts[1:]
    title_keys = {fold_text(t) for t in titles if t}
    if texts and fold_text(texts[-1].text) in title_keys:
        texts = texts[:-1]
    return " / ".join(c.text for c in texts) or None


def _is_root_link(href: str | None) -> bool:
    if not href:
        return False
    try:
        parts = urlsplit(href.strip())
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query
