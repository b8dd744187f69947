"""The profile layer: a site profile's field selectors evaluated on a parsed page."""

from __future__ import annotations

import datetime as dt
import functools
import re

from cssselect import SelectorError
from cssselect.xpath import ExpressionError
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.extraction.breadcrumbs import Crumb
from crawler.extraction.clean import (
    GENERIC_BOILERPLATE_TAGS,
    block_paragraphs,
    element_text,
    has_boilerplate_token,
    is_boilerplate_element,
    normalize_text,
    remove_elements,
)
from crawler.extraction.dates import read_date
from crawler.extraction.document import Document, Selected, reads_alike_in_a_fragment
from crawler.extraction.merge import LazyLayer
from crawler.extraction.values import absolute_url, dedupe
from crawler.profiles import SiteProfile

_css = HTMLTranslator()
# Attributes that hold the value when a selector names an element rather than ::attr(x).
_IMAGE_ATTRS = ("src", "data-src", "data-original", "content", "href")
_DATE_ATTRS = ("datetime", "content")
# One step of cssselect's output that tests a class, or one attribute's value, and nothing
# else; only a step followed by another step or the end is rewritten ("/.." changes what a
# positional predicate after it would count).
_CLASS_STEP_RE = re.compile(
    r"(descendant-or-self|descendant)::\*\[@class and contains\(@class, '([^']+)'\) and "
    r"contains\(concat\(' ', normalize-space\(@class\), ' '\), ' \2 '\)\](?=/|$)"
)
_ATTR_STEP_RE = re.compile(r"(descendant-or-self|descendant)::\*\[@([\w-]+) = ('[^']*')\](?=/|$)")
_BARE_TAG_RE = re.compile(r"^[a-z][a-z0-9]*$")
_BARE_CLASS_RE = re.compile(r"^\.([\w-]+)$")


@functools.cache
def compile_selector(selector: str) -> etree.XPath | None:
    """CSS (with parsel's ::text / ::attr(name)) or `xpath:`-prefixed XPath, compiled once.
    None for a selector that does not compile (profiles are validated on load; in-memory
    ones may not be)."""
    try:
        if selector.startswith("xpath:"):
            return etree.XPath(selector.removeprefix("xpath:"))
        return etree.XPath(css_to_xpath(selector))
    except (etree.XPathSyntaxError, SelectorError, ExpressionError):
        return None


def css_to_xpath(selector: str) -> str:
    """parsel's translation, with a class or attribute test on any element (`.news-body`,
    `[itemprop='articleBody']`) moved onto the attribute axis. Same result; libxml2 skips
    elements without the attribute instead of testing each one, 2-5x faster on a large
    page, where these scans are most of the profile path's cost after parsing."""
    xpath = _css.css_to_xpath(selector)
    xpath = _CLASS_STEP_RE.sub(
        r"\1::*/@class[contains(., '\2')][contains(concat(' ', normalize-space(.), ' '), ' \2 ')]/..",
        xpath,
    )
    return _ATTR_STEP_RE.sub(r"\1::*/@\2[. = \3]/..", xpath)


def select(root: etree._Element, selector: str) -> list[Selected]:
    """Elements and strings a selector yields; an XPath returning a scalar string counts."""
    compiled = compile_selector(selector)
    if compiled is None:
        return []
    try:
        result = compiled(root)
    except etree.XPathError:
        return []
    if isinstance(result, str):
        return [result]
    if not isinstance(result, list):
        return []
    return [r for r in result if isinstance(r, (str, etree._Element))]


@functools.cache
def compile_union(selectors: tuple[str, ...]) -> etree.XPath | None:
    """All selectors as one XPath union: one walk of the tree instead of one per selector."""
    parts = []
    for selector in selectors:
        compiled = compile_selector(selector)
        if compiled is not None:
            parts.append(compiled.path)
    if not parts:
        return None
    try:
        return etree.XPath(" | ".join(f"({part})" for part in parts))
    except etree.XPathSyntaxError:
        return None


@functools.cache
def profile_only_selectors(selectors: tuple[str, ...]) -> tuple[str, ...]:
    """Boilerplate selectors the generic rules do not already cover. A bare tag ("figure")
    or a single class (".share-box") that the generic rules match would only be evaluated
    twice while walking a body."""
    return tuple(s for s in selectors if not _is_generic(s))


def _is_generic(selector: str) -> bool:
    if _BARE_TAG_RE.match(selector):
        return selector in GENERIC_BOILERPLATE_TAGS
    match = _BARE_CLASS_RE.match(selector)
    return match is not None and has_boilerplate_token(match.group(1))


def select_union(root: etree._Element, selectors: tuple[str, ...]) -> list[etree._Element]:
    """Elements any of the selectors match, in document order."""
    union = compile_union(selectors)
    if union is None:
        return []
    try:
        found = union(root)
    except etree.XPathError:
        return []
    return [m for m in found if isinstance(m, etree._Element)] if isinstance(found, list) else []


def remove_selected(container: etree._Element, selectors: tuple[str, ...]) -> None:
    """Remove what the selectors match below (never including) the container."""
    remove_elements(m for m in select_union(container, selectors) if m is not container)


def _text_of(item: Selected) -> str:
    return normalize_text(item) if isinstance(item, str) else element_text(item)


def _attr_of(item: Selected, attrs: tuple[str, ...]) -> str:
    if isinstance(item, str):
        return item
    return next((item.get(a, "") for a in attrs if item.get(a)), "") or element_text(item)


def first_text(doc: Document, selectors: tuple[str, ...]) -> str | None:
    """The first non-empty text the selectors give, tried in order."""
    for selector in selectors:
        for item in doc.select(selector):
            text = _text_of(item)
            if text:
                return text
    return None


def all_texts(doc: Document, selectors: tuple[str, ...]) -> list[str]:
    """Every text of the first selector that yields any (authors, tags)."""
    for selector in selectors:
        texts = dedupe(t for t in (_text_of(i) for i in doc.select(selector)) if t)
        if texts:
            return texts
    return []


def body_paragraphs(doc: Document, profile: SiteProfile) -> list[str] | None:
    """Paragraphs of the first body container with text. The profile's boilerplate and the
    generic boilerplate inside it are skipped while walking, never removed: the page tree
    stays intact for the other fields and nothing needs copying. A selector that yields
    strings (::text) gives one paragraph per string.

    A container the scan found is parsed on its own, and the boilerplate selectors are asked
    of that fragment: the same elements as in the whole page for CSS without pseudo-classes
    (see reads_alike_in_a_fragment); any other selector makes the containers come from the
    whole page's tree instead.
    """
    own_boilerplate = profile_only_selectors(profile.boilerplate.selectors)
    in_fragment = _read_alike_in_a_fragment(own_boilerplate)
    tree = None if in_fragment else doc.tree
    for selector in profile.selectors.body:
        found = doc.select(selector) if tree is None else select(tree, selector)
        for item in found:
            if isinstance(item, str):
                strings = [normalize_text(s) for s in found if isinstance(s, str)]
                paragraphs = [s for s in strings if s]
            else:
                skip = functools.partial(_is_skipped, set(select_union(item, own_boilerplate)))
                paragraphs = block_paragraphs(item, skip=skip)
            if paragraphs:
                return paragraphs
    return None


@functools.cache
def _read_alike_in_a_fragment(selectors: tuple[str, ...]) -> bool:
    return all(reads_alike_in_a_fragment(s) for s in selectors)


def _is_skipped(profile_boilerplate: set[etree._Element], element: etree._Element) -> bool:
    return element in profile_boilerplate or is_boilerplate_element(element)


def date_value(
    doc: Document, selectors: tuple[str, ...], formats: tuple[str, ...], tz: dt.tzinfo
) -> str | None:
    for selector in selectors:
        for item in doc.select(selector):
            iso = read_date(_attr_of(item, _DATE_ATTRS), formats, tz)
            if iso is None and not isinstance(item, str):
                iso = read_date(element_text(item), formats, tz)
            if iso:
                return iso
    return None


def crumbs(doc: Document, selectors: tuple[str, ...]) -> list[Crumb]:
    for selector in selectors:
        found = [
            Crumb(_text_of(item), None if isinstance(item, str) else item.get("href"))
            for item in doc.select(selector)
        ]
        found = [c for c in found if c.text]
        if found:
            return found
    return []


def image_url(doc: Document, selectors: tuple[str, ...], url: str) -> str | None:
    for selector in selectors:
        for item in doc.select(selector):
            absolute = absolute_url(_attr_of(item, _IMAGE_ATTRS), url)
            if absolute:
                return absolute
    return None


def field_selectors(profile: SiteProfile) -> tuple[str, ...]:
    """Every selector the profile layer may ask, for the page scan."""
    s = profile.selectors
    return (
        *s.title, *s.lead, *s.body, *s.published_at, *s.modified_at, *s.section, *s.authors,
        *s.tags, *s.image_url, *s.image_caption,
    )  # fmt: skip


def read_profile(doc: Document, profile: SiteProfile, url: str) -> LazyLayer:
    """Lazy field candidates from the profile's selectors; section is a list of crumbs."""
    s = profile.selectors
    tz = profile.tzinfo
    return LazyLayer(
        {
            "title": lambda: first_text(doc, s.title),
            "lead": lambda: first_text(doc, s.lead),
            "body": lambda: body_paragraphs(doc, profile),
            "published_at": lambda: date_value(doc, s.published_at, s.date_formats, tz),
            "modified_at": lambda: date_value(doc, s.modified_at, s.date_formats, tz),
            "section": lambda: crumbs(doc, s.section),
            "authors": lambda: all_texts(doc, s.authors),
            "tags": lambda: all_texts(doc, s.tags),
            "image_url": lambda: image_url(doc, s.image_url, url),
            "image_caption": lambda: first_text(doc, s.image_caption),
            "language": lambda: profile.language,
        }
    )
