"""One page, read once: a streaming scan answers what extraction asks, a tree only when needed.

Building an lxml tree of a whole page costs more than everything the profile path then does
with it. frostwork (from the Scrapy project; w3lib depends on it) answers a fixed set of CSS
selectors in one pass over the page without building a tree: the structured-data questions
every page is asked (JSON-LD scripts, <meta>, rel=canonical, <title>, <html lang>, the first
headlines and captions) and every profile selector it supports. An element a selector
matches comes back as its source HTML, and only that fragment is parsed (a body container,
a headline), so element text is read by the same code as before.

The lxml tree of the whole page is built on first use, for what the scan cannot answer: a
selector outside frostwork's subset (XPath functions, pseudo-classes), boilerplate selectors
that depend on where the container sits, breadcrumb markup, and trafilatura.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cssselect import SelectorError, parse
from cssselect.parser import Attrib, Class, CombinedSelector, Element, Hash
from frostwork._frostwork import Plan, audit_schema, selector_terminals
from lxml import etree
from lxml import html as lxml_html

from crawler.extraction.clean import elements_of

logger = logging.getLogger(__name__)

Selected = etree._Element | str
# A <meta> or itemprop element's attributes, in the order the question names them (None:
# absent).
Row = tuple[str | None, ...]

_NOT_TEXT_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_START_TAG_RE = re.compile(r"<([A-Za-z][^\s/>]*)")

# The structured-data questions, as frostwork CSS and as the same question of an lxml tree.
JSONLD = "script[type*='ld+json' i]::text"
CANONICAL = "link[rel~='canonical' i]::attr(href)"
TITLE = "title"
LANG = "html::attr(lang)"
XML_LANG = "html::attr(xml:lang)"
FIGCAPTION = "article figcaption, main figcaption"
HEADLINE = "h1"
_META = "meta[content]"
META_ATTRS = ("property", "name", "itemprop", "http-equiv", "content")
# Every microdata element: a group's container takes a single selector, not a list; the
# two date properties are picked out of the rows.
_ITEMPROP = "[itemprop]"
ITEMPROP_DATES = ("datePublished", "dateModified")
ITEMPROP_ATTRS = ("itemprop", "content", "datetime")
_STRUCTURED = (JSONLD, CANONICAL, TITLE, LANG, XML_LANG, FIGCAPTION, HEADLINE)
_GROUPS = (
    (_META, tuple((name, f"::attr({name})") for name in META_ATTRS)),
    (_ITEMPROP, tuple((name, f"::attr({name})") for name in ITEMPROP_ATTRS)),
)

_TREE_QUERIES = {
    JSONLD: etree.XPath(
        "//script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',"
        " 'abcdefghijklmnopqrstuvwxyz'), 'ld+json')]/text()"
    ),
    CANONICAL: etree.XPath(
        "//link[contains(concat(' ', translate(normalize-space(@rel),"
        " 'CANONIL', 'canonil'), ' '), ' canonical ')]/@href"
    ),
    TITLE: etree.XPath("//title"),
    FIGCAPTION: etree.XPath("//article//figcaption | //main//figcaption"),
    HEADLINE: etree.XPath("//h1"),
    _META: etree.XPath("//meta[@content]"),
    # Through the attribute axis: several times faster than //*[@itemprop=...] on large pages.
    _ITEMPROP: etree.XPath("//@itemprop[. = 'datePublished' or . = 'dateModified']/parent::*"),
}


def page_text(html: str | bytes) -> str | None:
    """The page as text to read: bytes decoded by BOM, then <meta charset>, then UTF-8
    (w3lib), and control characters that are never text removed (libxml2 stops at NUL, and
    lxml refuses the others in text set back on a tree; vertical tab and form feed are
    whitespace). None when there is nothing to read."""
    if isinstance(html, bytes):
        from w3lib.encoding import html_to_unicode  # noqa: PLC0415 - only bytes need it

        _, text = html_to_unicode(None, html)
    elif isinstance(html, str):
        text = html
    else:
        return None
    if _NOT_TEXT_RE.search(text):
        text = _NOT_TEXT_RE.sub(lambda m: " " if m[0] in "\x0b\x0c" else "", text)
    if not text or text.isspace():
        return None
    return text


def _parser(encoding: str | None) -> lxml_html.HTMLParser:
    # A new parser per page: lxml parsers must not be shared between threads. lxml.html's
    # parser makes HtmlElements, which trafilatura insists on.
    return lxml_html.HTMLParser(
        encoding=encoding, remove_comments=True, remove_pis=True, collect_ids=False
    )


def parse_text(text: str) -> etree._Element | None:
    """An lxml tree of page text (from page_text), or None when lxml finds no document."""
    try:
        # Text straight to lxml: encoding a large page to UTF-8 first costs as much as half
        # the parse.
        root = etree.fromstring(text, parser=_parser(None))
    except ValueError:
        # An XML declaration naming an encoding, or lone surrogates: hand over UTF-8 bytes.
        data = text.encode("utf-8", errors="replace")
        try:
            root = etree.fromstring(data, parser=_parser("utf-8"))
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None
    except (etree.ParserError, etree.XMLSyntaxError):
        return None
    return root if isinstance(root, etree._Element) else None


_fragment_parsers = threading.local()


def parse_fragment(outer: str) -> etree._Element | None:
    """The element whose source HTML `outer` is, parsed on its own; None when the fragment
    does not parse back to an element of the tag it starts with (a wrapper frostwork made up,
    say), so that the caller asks the whole tree instead."""
    match = _START_TAG_RE.match(outer)
    if match is None:
        return None
    tag = match.group(1).lower()
    # Fragments are small and many: one parser per thread, reused (making one costs about
    # as much as parsing a headline).
    parser = getattr(_fragment_parsers, "parser", None)
    if parser is None:
        # etree's parser, not lxml.html's: no Python class lookup for every element made.
        parser = _fragment_parsers.parser = etree.HTMLParser(
            remove_comments=True, remove_pis=True, collect_ids=False
        )
    try:
        root = etree.fromstring(outer, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        root = parse_text(outer)
    if root is None:
        return None
    if tag == "html":
        return root if root.tag == "html" else None
    for element in root.iter(tag):
        return element
    return None


def reads_alike_in_a_fragment(selector: str) -> bool:
    """Whether a boilerplate selector, asked below a body container, matches the same
    elements in the container's fragment as in the whole page.

    Asked from the container, a CSS selector looks only at the container's subtree, the
    container included (cssselect's descendant-or-self), so combinators are safe; but a
    pseudo-class may depend on where the container sits among its siblings
    (`div:first-child p`), and an XPath may look anywhere (`(//p)[2]`, ancestor::).
    """
    if selector.startswith("xpath:"):
        return False
    try:
        parsed = parse(selector)
    except SelectorError:
        return True  # matches nothing, in a fragment or in the page
    return all(s.pseudo_element is None and _is_plain(s.parsed_tree) for s in parsed)


def _is_plain(node: object) -> bool:
    """Tags, classes, ids, attributes and combinators; no pseudo-class of any kind."""
    if isinstance(node, Element):
        return True
    if isinstance(node, (Class, Hash, Attrib)):
        return _is_plain(node.selector)
    if isinstance(node, CombinedSelector):
        return _is_plain(node.selector) and _is_plain(node.subselector)
    return False


@dataclass(frozen=True)
class ScanPlan:
    """Selectors compiled once into one frostwork pass: the structured-data questions and
    whichever of `selectors` frostwork supports (the others are asked of the lxml tree)."""

    plan: Plan | None
    columns: dict[str, int]  # selector -> flat column
    outer: frozenset[str]  # selectors whose values are elements' source HTML
    groups: dict[int, int]  # _GROUPS index -> grouped column, for the groups it supports

    @classmethod
    def of(cls, selectors: Iterable[str]) -> ScanPlan:
        wanted = list(dict.fromkeys([*_STRUCTURED, *selectors]))
        queries = [_query(s) for s in wanted]
        try:
            verdicts, group_verdicts, _ = audit_schema(queries, _GROUPS)
            supported = [s for s, (ok, _) in zip(wanted, verdicts, strict=True) if ok]
            groups = [
                index
                for index, ((ok, _), fields) in enumerate(group_verdicts)
                if ok and all(field_ok for field_ok, _ in fields)
            ]
            kept = [_query(s) for s in supported]
            terminals = selector_terminals(kept)
            plan = Plan(kept, [_GROUPS[index] for index in groups])
        except (ValueError, TypeError, RuntimeError):  # an engine that will not compile it
            logger.debug("no scan plan for %s", wanted, exc_info=True)
            return cls(None, {}, frozenset(), {})
        return cls(
            plan,
            {s: i for i, s in enumerate(supported)},
            frozenset(s for s, t in zip(supported, terminals, strict=True) if t == "outer"),
            {index: column for column, index in enumerate(groups)},
        )


def _query(selector: str) -> str | tuple[str, str]:
    if selector.startswith("xpath:"):
        return (selector.removeprefix("xpath:"), "xpath")
    return (selector, "css")


@functools.cache
def scan_plan(selectors: tuple[str, ...]) -> ScanPlan:
    """The plan for a profile's selectors (cached: profiles are frozen and few)."""
    return ScanPlan.of(selectors)


class Document:
    """What extraction reads of one page. `Document(text, plan)` scans the page once;
    `Document.of_tree(tree)` answers everything from an already-built tree."""

    # False: every question goes to the lxml tree (tests compare the two ways of reading).
    scan_pages = True

    def __init__(self, text: str | None, plan: ScanPlan | None = None) -> None:
        self.text = text
        self._plan = plan
        self._flat: Sequence[Sequence[str]] | None = None
        self._grouped: Sequence[Sequence[Sequence[Sequence[str]]]] | None = None
        self._tree: etree._Element | None = None
        self._parsed = False
        if text is not None and plan is not None and plan.plan is not None and self.scan_pages:
            self._scan(text, plan.plan)

    @classmethod
    def of_tree(cls, tree: etree._Element) -> Document:
        document = cls(None)
        document._tree, document._parsed = tree, True
        return document

    def _scan(self, text: str, plan: Plan) -> None:
        try:
            flat, grouped = plan.extract_grouped(text)
        except Exception:  # a third-party engine must not take extraction down: use the tree
            logger.debug("frostwork could not scan the page", exc_info=True)
            return
        self._flat, self._grouped = flat, grouped

    @property
    def tree(self) -> etree._Element | None:
        """The page's lxml tree, parsed on first use (None when there is no document)."""
        if not self._parsed:
            self._parsed = True
            self._tree = parse_text(self.text) if self.text is not None else None
        return self._tree

    def select(self, selector: str) -> list[Selected]:
        """What a selector yields: elements (parsed from their source HTML when scanned) and
        strings (::text, ::attr(), XPath scalars)."""
        found = self._scanned(selector)
        if found is not None:
            return found
        # Imported here: selectors.py builds on this module.
        from crawler.extraction.selectors import select  # noqa: PLC0415

        tree = self.tree
        return select(tree, selector) if tree is not None else []

    def _scanned(self, selector: str, limit: int | None = None) -> list[Selected] | None:
        """The scan's answer (its first `limit` values), or None when the tree must be asked."""
        if self._flat is None or self._plan is None:
            return None
        column = self._plan.columns.get(selector)
        if column is None:
            return None
        values = self._flat[column][:limit]
        if selector not in self._plan.outer:
            return list(values)
        elements: list[Selected] = []
        for outer in values:
            element = parse_fragment(outer)
            if element is None:
                return None  # not an element lxml agrees on: the whole tree decides
            elements.append(element)
        return elements

    # --- the structured-data questions -----------------------------------------------------

    def strings(self, question: str) -> list[str]:
        """JSONLD or CANONICAL: the script texts or hrefs, in page order."""
        found = self._scanned(question)
        if found is not None:
            return [value for value in found if isinstance(value, str)]
        tree = self.tree
        result = _TREE_QUERIES[question](tree) if tree is not None else []
        values = result if isinstance(result, list) else []
        return [str(value) for value in values if isinstance(value, str)]

    def elements(self, question: str, limit: int | None = None) -> list[etree._Element]:
        """TITLE, FIGCAPTION or HEADLINE: the elements, in page order, at most `limit`."""
        found = self._scanned(question, limit)
        if found is not None:
            return [element for element in found if isinstance(element, etree._Element)]
        tree = self.tree
        if tree is None:
            return []
        return elements_of(_TREE_QUERIES[question], tree)[:limit]

    def language_attrs(self) -> tuple[str | None, str | None]:
        """<html lang> and <html xml:lang>."""
        lang, xml_lang = self._scanned(LANG), self._scanned(XML_LANG)
        if lang is not None and xml_lang is not None:
            return _first_string(lang), _first_string(xml_lang)
        tree = self.tree
        if tree is None:
            return None, None
        root = tree.getroottree().getroot()
        return root.get("lang"), root.get("xml:lang")

    def metas(self) -> list[Row]:
        """(property, name, itemprop, http-equiv, content) of every <meta content>."""
        return self._rows(0)

    def itemprop_dates(self) -> list[Row]:
        """(itemprop, content, datetime) of the elements whose itemprop is datePublished or
        dateModified, in page order."""
        return [row for row in self._rows(1) if row[0] in ITEMPROP_DATES]

    def _rows(self, group: int) -> list[Row]:
        column = self._plan.groups.get(group) if self._plan is not None else None
        if self._grouped is not None and column is not None:
            return [
                tuple(values[0] if values else None for values in row)
                for row in self._grouped[column]
            ]
        container, subfields = _GROUPS[group]
        tree = self.tree
        if tree is None:
            return []
        names = [name for name, _ in subfields]
        return [
            tuple(element.get(name) for name in names)
            for element in elements_of(_TREE_QUERIES[container], tree)
        ]


def _first_string(values: list[Selected]) -> str | None:
    return next((value for value in values if isinstance(value, str)), None)
