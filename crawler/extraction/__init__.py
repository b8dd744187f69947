"""Article extraction: a page and its URL in, the `articles` fields out. Never imports Scrapy.

`extract_article(html, url, profile=None)` runs the layers described in `merge.py` over
one parse of the page and returns a dict with at least `title`, `body`, `published_at` and
`extraction` (None when not found), plus each other `articles` field it found, and
`field_sources` (field -> layer). It is deterministic (never reads the clock) and never
raises for any str or bytes input.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from typing import Any

from lxml import etree

from crawler.extraction.boilerplate import strip_furniture
from crawler.extraction.breadcrumbs import section_from_crumbs
from crawler.extraction.clean import count_words, element_text, finish_paragraphs
from crawler.extraction.document import (
    HEADLINE,
    Document,
    ScanPlan,
    page_text,
    parse_text,
    scan_plan,
)
from crawler.extraction.generic import read_generic
from crawler.extraction.merge import PRECEDENCE, LazyLayer, merge, pick
from crawler.extraction.selectors import field_selectors, read_profile, remove_selected
from crawler.extraction.structured import read_structured
from crawler.profiles import Boilerplate, SiteProfile
from crawler.urls import ArticleRef, article_ref, canonical_of_ref

__all__ = ["PRECEDENCE", "extract_article", "parse_html"]


def parse_html(html: str | bytes) -> etree._Element | None:
    """Parse a page once. Bytes are decoded by BOM, then <meta charset>, then UTF-8 (w3lib),
    and lxml always gets text, so an in-page declaration cannot contradict the decoding.
    None when there is nothing to parse."""
    text = page_text(html)
    return parse_text(text) if text is not None else None


def extract_article(
    html: str | bytes, url: str, profile: SiteProfile | None = None
) -> dict[str, Any]:
    """The `articles` fields found in a page; see the module docstring and `merge.py`.

    Dates without an offset are read in the profile's zone, or UTC with no profile.
    """
    result: dict[str, Any] = {"title": None, "body": None, "published_at": None}
    result["extraction"] = None
    ref = article_ref(url, profile) if profile is not None else None
    result.update(_identity(ref, profile))
    text = page_text(html)
    if text is None:
        result["field_sources"] = {}
        return result

    # One scan of the page answers the profile's selectors and the structured-data
    # questions; the lxml tree is built only if something the scan cannot answer is asked.
    # Without a profile the page nearly always goes to trafilatura, which needs the tree:
    # the structured data is read from that same tree rather than scanned for besides.
    doc = Document(text, _plan_for(profile) if profile is not None else None)
    tz = profile.tzinfo if profile else dt.UTC
    boilerplate = profile.boilerplate if profile else None
    layers: dict[str, Mapping[str, Any]] = {}
    layers.update(read_structured(doc, url, tz, site_names=[profile.title] if profile else []))
    if profile is not None:
        layers["profile"] = read_profile(doc, profile, url)
    title, _ = pick("title", layers)
    titles = [title] if title else []
    caption, _ = pick("image_caption", layers)

    def finish(paragraphs: list[str] | None) -> list[str] | None:
        if not paragraphs:
            return None
        return finish_paragraphs(paragraphs, boilerplate, caption=caption, titles=titles) or None

    def finish_generic(paragraphs: list[str] | None) -> list[str] | None:
        # Bodies no profile shaped: page furniture goes, and a first line repeating any
        # headline the page shows (<h1>, og:title, <title>), not only the chosen title.
        if not paragraphs:
            return None
        headlines = [*titles, *_headlines(doc, layers)]
        kept = finish_paragraphs(
            strip_furniture(paragraphs), boilerplate, caption=caption, titles=headlines
        )
        return kept or None

    for name, layer in layers.items():
        if isinstance(layer, LazyLayer):
            layer.transform("body", finish if name == "profile" else finish_generic)
    tree = doc.tree if pick("body", layers)[1] is None else None
    if tree is not None:
        # Only now is trafilatura worth its cost. It edits the tree it is given, so it gets
        # copies, with the profile's boilerplate already gone.
        def fresh() -> etree._Element:
            work = copy.deepcopy(tree)
            if profile is not None:
                remove_selected(work, profile.boilerplate.selectors)
            return work

        generic = read_generic(fresh, url, tz, tree)
        generic.transform("body", finish_generic)
        layers["generic"] = generic

    body, _ = pick("body", layers)
    layers["body"] = {"lead": body[0] if body else None}
    home_crumbs = boilerplate.home_crumbs if boilerplate else Boilerplate().home_crumbs
    for layer in layers.values():
        if isinstance(layer, LazyLayer):
            layer.transform(
                "section",
                lambda value: (
                    section_from_crumbs(value, home_crumbs, titles)
                    if isinstance(value, list)
                    else value
                ),
            )

    values, sources = merge(layers)
    result.update(values)
    if body:
        result["body"] = "\n\n".join(body)
        result["word_count"] = count_words(result["body"])
        result["extraction"] = sources["body"]
    result["canonical_url"] = _canonical(url, ref, profile, layers)
    result["field_sources"] = sources
    return result


_PLANS: dict[int, tuple[SiteProfile, ScanPlan]] = {}


def _plan_for(profile: SiteProfile) -> ScanPlan:
    """The profile's scan plan, found by identity: hashing a whole profile per page would
    cost more than the lookup saves."""
    found = _PLANS.get(id(profile))
    if found is None or found[0] is not profile:
        plan = scan_plan(field_selectors(profile))
        if len(_PLANS) > 64:  # profiles made on the fly (tests, reextract) must not pile up
            _PLANS.clear()
        found = _PLANS[id(profile)] = (profile, plan)
    return found[1]


def _headlines(doc: Document, layers: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Every headline the page shows: its first <h1>s, og:title, JSON-LD and <title>."""
    found = [element_text(h1) for h1 in doc.elements(HEADLINE, limit=3)]
    for name in ("jsonld", "opengraph", "html"):
        title = layers.get(name, {}).get("title")
        if isinstance(title, str):
            found.append(title)
    return [text for text in found if text]


def _identity(ref: ArticleRef | None, profile: SiteProfile | None) -> dict[str, Any]:
    if profile is None:
        return {"canonical_url": None}
    return {
        "key": ref.key if ref else None,
        "site": profile.name,
        "source_id": ref.source_id if ref else None,
        "canonical_url": None,
    }


def _canonical(
    url: str,
    ref: ArticleRef | None,
    profile: SiteProfile | None,
    layers: Mapping[str, Mapping[str, Any]],
) -> str | None:
    """The page's own canonical (rel=canonical, then og:url). With a profile it counts only
    when it names the same story as `url` (its `ref`), and is rewritten onto the primary
    host; otherwise the URL's own canonical form."""
    candidates = (layers[name].get("canonical") for name in ("html", "opengraph"))
    if profile is None:
        return next((c for c in candidates if c), None)
    if ref is None:
        return None
    for candidate in candidates:
        if candidate == url:
            break  # the common case: fetched at its own canonical address
        theirs = article_ref(candidate, profile) if candidate else None
        if theirs is not None and theirs.key == ref.key:
            return canonical_of_ref(theirs, profile)  # one parse of the candidate, not two
    return canonical_of_ref(ref, profile)
