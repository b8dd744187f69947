"""Structured page metadata as layers: JSON-LD, OpenGraph, <meta>, <html lang>, rel=canonical,
breadcrumbs. Every field is computed only when precedence asks for it."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable

from lxml import etree

from crawler.extraction.breadcrumbs import Crumb, markup_breadcrumb
from crawler.extraction.clean import element_text, fold_text, normalize_text
from crawler.extraction.dates import parse_date
from crawler.extraction.document import CANONICAL, FIGCAPTION, TITLE, Document
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

# Common non-OpenGraph spellings, most specific first.
_PUBLISHED_KEYS = (
    "pubdate", "publishdate", "publish-date", "article.published", "parsely-pub-date",
    "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
)  # fmt: skip
_MODIFIED_KEYS = ("article.updated", "dcterms.modified", "last-modified")
_AUTHOR_KEYS = ("author", "dc.creator", "parsely-author", "sailthru.author", "byl")

Metas = dict[str, list[str]]


def read_structured(
    page: Document | etree._Element, url: str, tz: dt.tzinfo, site_names: Iterable[str] = ()
) -> dict[str, LazyLayer]:
    """Lazy field candidates of the layers jsonld, breadcrumb, opengraph, meta and html."""
    doc = page if isinstance(page, Document) else Document.of_tree(page)
    jsonld = JsonLd(doc, url, tz)
    metas = functools.cache(functools.partial(collect_meta, doc))
    opengraph = opengraph_layer(metas, url, tz)
    jsonld_layer = jsonld.layer()

    def title() -> str | None:
        names = [*site_names, opengraph.get("site_name"), jsonld_layer.get("site_name")]
        return title_tag(doc, [n for n in names if n])

    def breadcrumb() -> list[Crumb]:
        if crumbs := jsonld.breadcrumb():
            return crumbs
        tree = doc.tree
        return markup_breadcrumb(tree) if tree is not None else []

    return {
        "jsonld": jsonld_layer,
        "breadcrumb": LazyLayer({"section": breadcrumb}),
        "opengraph": opengraph,
        "meta": meta_layer(doc, metas, url, tz),
        "html": LazyLayer(
            {
                "title": title,
                "language": lambda: html_language(doc),
                "canonical": lambda: canonical_link(doc, url),
                "image_caption": lambda: first_figcaption(doc),
            }
        ),
    }


# --- OpenGraph and <meta> ----------------------------------------------------------------


def collect_meta(doc: Document) -> Metas:
    """<meta> contents by lower-case property / name / itemprop / http-equiv, in page order."""
    metas: Metas = {}
    for *keys, raw in doc.metas():
        content = normalize_text(raw or "")
        if not content:
            continue
        for key in keys:  # property, name, itemprop, http-equiv
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


def meta_layer(doc: Document, metas: Callable[[], Metas], url: str, tz: dt.tzinfo) -> LazyLayer:
    """Other <meta> names (description, author, keywords, Dublin Core...) and itemprop dates."""

    def date(itemprop: str, keys: tuple[str, ...]) -> str | None:
        values = [
            content or datetime
            for name, content, datetime in doc.itemprop_dates()
            if name == itemprop
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


def title_tag(doc: Document, site_names: list[str]) -> str | None:
    titles = doc.elements(TITLE, limit=1)
    title = element_text(titles[0]) if titles else None
    return strip_site_name(title, site_names) if title else None


def html_language(doc: Document) -> str | None:
    lang, xml_lang = doc.language_attrs()
    return normalize_language(lang or xml_lang)


def canonical_link(doc: Document, url: str) -> str | None:
    found = doc.strings(CANONICAL)
    return absolute_url(found[0], url) if found else None


def first_figcaption(doc: Document) -> str | None:
    """The article's first caption: a photo caption never belongs in the body."""
    captions = doc.elements(FIGCAPTION, limit=1)
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
