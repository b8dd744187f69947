"""Structured page metadata as layers: JSON-LD, OpenGraph, <meta>, <html lang>, rel=canonical,
breadcrumbs. Every field is computed only when precedence asks for it."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable

from lxml import etree

from crawler.extraction.breadcrumbs import markup_breadcrumb
from crawler.extraction.clean import element_text, elements_of, fold_text, normalize_text
from crawler.extraction.dates import parse_date
from crawler.extraction.jsonld import JsonLd
from crawler.extraction.merge import LazyLayer
from crawler.extraction.values import (
    absolute_url,
    dedupe,
    looks_like_url,
    normalize_language,
    split_tags,
)

# "Headline | Site": separators a <title> puts between the headline and the site's name.
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ", " • ", " « ", " » ")
_BYLINE_RE = re.compile(r"^by\s+", re.IGNORECASE)
_META_XPATH = etree.XPath("//meta[@content]")
# Through the attribute axis: several times faster than //*[@itemprop=...] on large pages.
_ITEMPROP_DATE_XPATH = etree.XPath(
    "//@itemprop[. = 'datePublished' or . = 'dateModified']/parent::*[@content or @datetime]"
)
_CANONICAL_XPATH = etree.XPath(
    "//link[contains(concat(' ', translate(normalize-space(@rel),"
    " 'CANONIL', 'canonil'), ' '), ' canonical ')]/@href"
)
_TITLE_XPATH = etree.XPath("//title")
_FIGCAPTION_XPATH = etree.XPath("(//article//figcaption | //main//figcaption)[1]")

# Common non-OpenGraph spellings, most specific first.
_PUBLISHED_KEYS = (
    "pubdate", "publishdate", "publish-date", "article.published", "parsely-pub-date",
    "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
)  # fmt: skip
_MODIFIED_KEYS = ("article.updated", "dcterms.modified", "last-modified")
_AUTHOR_KEYS = ("author", "dc.creator", "parsely-author", "sailthru.author", "byl")

Metas = dict[str, list[str]]


def read_structured(
    tree: etree._Element, url: str, tz: dt.tzinfo, site_names: Iterable[str] = ()
) -> dict[str, LazyLayer]:
    """Lazy field candidates of the layers jsonld, breadcrumb, opengraph, meta and html."""
    jsonld = JsonLd(tree, url, tz)
    metas = functools.cache(functools.partial(collect_meta, tree))
    opengraph = opengraph_layer(metas, url, tz)
    jsonld_layer = jsonld.layer()

    def title() -> str | None:
        names = [*site_names, opengraph.get("site_name"), jsonld_layer.get("site_name")]
        return title_tag(tree, [n for n in names if n])

    return {
        "jsonld": jsonld_layer,
        "breadcrumb": LazyLayer(
            {"section": lambda: jsonld.breadcrumb() or markup_breadcrumb(tree)}
        ),
        "opengraph": opengraph,
        "meta": meta_layer(tree, metas, url, tz),
        "html": LazyLayer(
            {
                "title": title,
                "language": lambda: html_language(tree),
                "canonical": lambda: canonical_link(tree, url),
                "image_caption": lambda: first_figcaption(tree),
            }
        ),
    }


# --- OpenGraph and <meta> ----------------------------------------------------------------


def collect_meta(tree: etree._Element) -> Metas:
    """<meta> contents by lower-case property / name / itemprop / http-equiv, in page order."""
    metas: Metas = {}
    for meta in elements_of(_META_XPATH, tree):
        content = normalize_text(meta.get("content", ""))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                metas.setdefault(key.strip().lower(), []).append(content)
    return metas


def first_meta(metas: Metas, *keys: str) -> str | None:
    return next((metas[key][0] for key in keys if metas.get(key)), None)


def all_meta(metas: Metas, *keys: str) -> list[str]:
    return [value for key in keys for value in metas.get(key, [])]


def opengraph_layer(metas: Callable[[], Metas], url: str, tz: dt.tzinfo) -> LazyLayer:
    """og:* and article:* properties."""
    return LazyLayer(
        {
            "title": lambda: first_meta(metas(), "og:title"),
            "lead": lambda: first_meta(metas(), "og:description"),
            "published_at": lambda: parse_date(first_meta(metas(), "article:published_time"), tz),
            "modified_at": lambda: parse_date(
                first_meta(metas(), "article:modified_time", "og:updated_time"), tz
            ),
            "section": lambda: first_meta(metas(), "article:section"),
            "authors": lambda: dedupe(
                a for a in all_meta(metas(), "article:author") if not looks_like_url(a)
            ),
            "tags": lambda: split_tags(all_meta(metas(), "article:tag")),
            "image_url": lambda: absolute_url(
                first_meta(metas(), "og:image", "og:image:url", "og:image:secure_url"), url
            ),
            "language": lambda: normalize_language(first_meta(metas(), "og:locale")),
            "canonical": lambda: absolute_url(first_meta(metas(), "og:url"), url),
            "site_name": lambda: first_meta(metas(), "og:site_name"),
        }
    )


def meta_layer(
    tree: etree._Element, metas: Callable[[], Metas], url: str, tz: dt.tzinfo
) -> LazyLayer:
    """Other <meta> names (description, author, keywords, Dublin Core...) and itemprop dates."""

    def date(itemprop: str, keys: tuple[str, ...]) -> str | None:
        values = [
            element.get("content") or element.get("datetime")
            for element in elements_of(_ITEMPROP_DATE_XPATH, tree)
            if element.get("itemprop") == itemprop
        ]
        values += all_meta(metas(), itemprop.lower(), *keys)
        return next((iso for iso in (parse_date(v, tz) for v in values) if iso), None)

    return LazyLayer(
        {
            "lead": lambda: first_meta(
                metas(), "description", "dc.description", "twitter:description"
            ),
            "published_at": lambda: date("datePublished", _PUBLISHED_KEYS),
            "modified_at": lambda: date("dateModified", _MODIFIED_KEYS),
            "authors": lambda: dedupe(
                _BYLINE_RE.sub("", a)
                for a in all_meta(metas(), *_AUTHOR_KEYS)
                if not looks_like_url(a)
            ),
            "tags": lambda: split_tags(
                all_meta(metas(), "news_keywords") or all_meta(metas(), "keywords")
            ),
            "image_url": lambda: absolute_url(
                first_meta(metas(), "twitter:image", "twitter:image:src"), url
            ),
            "language": lambda: normalize_language(
                first_meta(metas(), "content-language", "dc.language")
            ),
        }
    )


# --- plain HTML --------------------------------------------------------------------------


def title_tag(tree: etree._Element, site_names: list[str]) -> str | None:
    titles = elements_of(_TITLE_XPATH, tree)
    title = element_text(titles[0]) if titles else None
    return strip_site_name(title, site_names) if title else None


def html_language(tree: etree._Element) -> str | None:
    root = tree.getroottree().getroot()
    lang = root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    return normalize_language(lang)


def canonical_link(tree: etree._Element, url: str) -> str | None:
    found = _CANONICAL_XPATH(tree)
    return absolute_url(str(found[0]), url) if isinstance(found, list) and found else None


def first_figcaption(tree: etree._Element) -> str | None:
    """The article's first caption: a photo caption never belongs in the body."""
    captions = elements_of(_FIGCAPTION_XPATH, tree)
    return element_text(captions[0]) if captions else None


def strip_site_name(title: str, site_names: Iterable[str]) -> str:
    """ "Headline | Press TV" -> "Headline". A trailing part goes when it names the site, or,
    after " | " only, when it is short (a site name or section, not half a headline)."""
    keys = {fold_text(n).replace(" ", "") for n in site_names}
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if not found or not head.strip():
            continue
        if fold_text(tail).replace(" ", "") in keys:
            return head.strip()
        if separator == " | " and len(tail.split()) <= 4 and len(head) > len(tail):
            return head.strip()
    # "Press TV | Headline": the site's name first.
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.partition(separator)
        if found and tail.strip() and fold_text(head).replace(" ", "") in keys:
            return tail.strip()
    return title
