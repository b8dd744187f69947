"""JSON-LD: a page's schema.org objects, the story among them, and the story's fields."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import re
from collections import deque
from collections.abc import Iterable
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from crawler.extraction.breadcrumbs import Crumb
from crawler.extraction.clean import block_paragraphs, fold_text, normalize_text
from crawler.extraction.dates import parse_date
from crawler.extraction.document import JSONLD, Document
from crawler.extraction.merge import LazyLayer
from crawler.extraction.values import (
    absolute_url,
    dedupe,
    looks_like_url,
    normalize_language,
    split_tags,
)

# A JSON-LD articleBody counts as the story only when it looks whole: sites often put a
# teaser there. Whole means at least this many words and sentences, no trailing ellipsis,
# and not just the description again.
BODY_MIN_WORDS = 40
BODY_MIN_SENTENCES = 2

# Schema.org types of a story: NewsArticle, ReportageNewsArticle, BlogPosting, LiveBlogPosting...
_ARTICLE_SUFFIXES = ("Article", "Posting")
_ARTICLE_TYPES = frozenset({"Report"})
# Bounds on what a hostile page can make the JSON-LD walk do.
_MAX_NODES = 5000
_MAX_CHARS = 2_000_000
# strict=False lets raw control characters through inside strings, as pages write them.
_DECODER = json.JSONDecoder(strict=False)
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WRAPPER_RE = re.compile(r"<!--|-->|^\s*//\s*<!\[CDATA\[|//\s*\]\]>\s*$|<!\[CDATA\[|\]\]>")
_WORD_RE = re.compile(r"\w+")
_SENTENCE_END_RE = re.compile(r"[.!?…。؟](?:[\"'”’)\]]*)(?:\s|$)")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>]*>")
_ENTITY_RE = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,6}|#x[0-9a-fA-F]{2,5});")

Node = dict[str, Any]


def load_jsonld(text: str) -> Any:
    """Parse one JSON-LD script, tolerating what pages get wrong: HTML comments or CDATA
    around it, raw control characters, trailing commas. None when it stays unreadable."""
    if len(text) > _MAX_CHARS:
        return None
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError):
        pass  # repaired below; most pages need no repair, so it is not paid for up front
    cleaned = _CONTROL_RE.sub(" ", _WRAPPER_RE.sub("", text.strip()))
    for candidate in (cleaned, _TRAILING_COMMA_RE.sub(r"\1", cleaned)):
        try:
            return _DECODER.decode(candidate)
        except (ValueError, RecursionError):
            continue
    return None


def jsonld_nodes(scripts: Iterable[str]) -> tuple[list[Node], dict[str, Node]]:
    """Every typed JSON-LD object in the page's ld+json scripts, shallowest first (so a
    page's own article comes before articles it merely lists), and an index of objects by @id."""
    nodes: list[Node] = []
    by_id: dict[str, Node] = {}
    queue: deque[Any] = deque(load_jsonld(script) for script in scripts if script)
    seen = 0
    while queue and seen < _MAX_NODES:
        item = queue.popleft()
        seen += 1
        if isinstance(item, list):
            queue.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@type" in item:
            nodes.append(item)
        node_id = item.get("@id")
        if isinstance(node_id, str) and len(item) > 1:
            by_id.setdefault(node_id, item)
        queue.extend(value for value in item.values() if isinstance(value, (dict, list)))
    return nodes, by_id


def types_of(node: Node) -> list[str]:
    """@type values without a vocabulary prefix ("http://schema.org/NewsArticle")."""
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return [v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)]


def is_article_node(node: Node) -> bool:
    return any(t.endswith(_ARTICLE_SUFFIXES) or t in _ARTICLE_TYPES for t in types_of(node))


def pick_article_node(nodes: list[Node]) -> Node | None:
    """The page's story: the shallowest article node with a body, else with a headline."""
    articles = [n for n in nodes if is_article_node(n)]
    for key in ("articleBody", "headline"):
        for node in articles:
            if text_of(node.get(key)):
                return node
    return articles[0] if articles else None


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def text_of(value: Any) -> str | None:
    """A JSON-LD string value: entities decoded (script text is not), whitespace collapsed."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    return normalize_text(html.unescape(value)) or None


def unescape(text: str) -> str:
    """Entities decoded, twice when the page escaped them twice ("&amp;quot;" written for a
    quote: common in CMS-generated articleBody)."""
    text = html.unescape(text)
    return html.unescape(text) if _ENTITY_RE.search(text) else text


def body_paragraphs(value: Any, description: str | None) -> list[str] | None:
    """articleBody as paragraphs, or None when it does not look like the whole story."""
    raw = unescape(value) if isinstance(value, str) else ""
    if not raw:
        return None
    if _TAG_RE.search(raw):
        try:
            paragraphs = block_paragraphs(lxml_html.fragment_fromstring(raw, create_parent="div"))
        except (etree.ParserError, ValueError):
            return None
    else:
        paragraphs = [p for p in (normalize_text(line) for line in raw.splitlines()) if p]
    text = " ".join(paragraphs)
    if (
        len(_WORD_RE.findall(text)) < BODY_MIN_WORDS
        or len(_SENTENCE_END_RE.findall(text + " ")) < BODY_MIN_SENTENCES
        or text.endswith(("...", "…", "[…]", "[...]"))
        or (description is not None and fold_text(text) == fold_text(description))
    ):
        return None
    return paragraphs


class JsonLd:
    """The JSON-LD of one page, parsed on first use; one method per field of its story."""

    def __init__(self, doc: Document, url: str, tz: dt.tzinfo) -> None:
        self.doc = doc
        self.url = url
        self.tz = tz

    @functools.cached_property
    def _parsed(self) -> tuple[list[Node], dict[str, Node]]:
        return jsonld_nodes(self.doc.strings(JSONLD))

    @functools.cached_property
    def article(self) -> Node:
        return pick_article_node(self._parsed[0]) or {}

    def resolve(self, value: Any) -> Any:
        """Follow a {"@id": ...} reference to the object it names (Yoast-style @graph)."""
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("@id"), str):
            return self._parsed[1].get(value["@id"], value)
        return value

    def names(self, value: Any) -> list[str]:
        names = []
        for item in as_list(value):
            resolved = self.resolve(item)
            name = (
                text_of(resolved.get("name")) if isinstance(resolved, dict) else text_of(resolved)
            )
            if name and not looks_like_url(name):
                names.append(name)
        return dedupe(names)

    @functools.cached_property
    def _image(self) -> tuple[str | None, str | None]:
        for key in ("image", "thumbnailUrl"):
            for item in as_list(self.article.get(key)):
                resolved = self.resolve(item)
                caption = None
                if isinstance(resolved, dict):
                    src = text_of(resolved.get("url")) or text_of(resolved.get("contentUrl"))
                    caption = text_of(resolved.get("caption")) or text_of(
                        resolved.get("description")
                    )
                else:
                    src = text_of(resolved)
                absolute = absolute_url(src, self.url)
                if absolute:
                    return absolute, caption
        return None, None

    def title(self) -> str | None:
        return text_of(self.article.get("headline")) or text_of(self.article.get("name"))

    def body(self) -> list[str] | None:
        return body_paragraphs(self.article.get("articleBody"), self.lead())

    def lead(self) -> str | None:
        return text_of(self.article.get("description"))

    def published_at(self) -> str | None:
        return parse_date(self.article.get("datePublished"), self.tz) or parse_date(
            self.article.get("dateCreated"), self.tz
        )

    def modified_at(self) -> str | None:
        return parse_date(self.article.get("dateModified"), self.tz)

    def section(self) -> str | None:
        # A list of sections names several categories, not a path: the first is the main one.
        return text_of(self.article.get("articleSection"))

    def authors(self) -> list[str]:
        return self.names(self.article.get("author")) or self.names(self.article.get("creator"))

    def tags(self) -> list[str]:
        return split_tags(
            t for t in (text_of(k) for k in as_list(self.article.get("keywords"))) if t
        )

    def image_url(self) -> str | None:
        return self._image[0]

    def image_caption(self) -> str | None:
        return self._image[1]

    def language(self) -> str | None:
        value = self.article.get("inLanguage")
        if isinstance(value, dict):
            value = value.get("alternateName") or value.get("name")
        return normalize_language(text_of(value))

    def site_name(self) -> str | None:
        publisher = self.resolve(self.article.get("publisher"))
        return text_of(publisher.get("name")) if isinstance(publisher, dict) else None

    def layer(self) -> LazyLayer:
        fields = (
            "title", "body", "lead", "published_at", "modified_at", "section", "authors",
            "tags", "image_url", "image_caption", "language", "site_name",
        )  # fmt: skip
        return LazyLayer({name: getattr(self, name) for name in fields})

    def breadcrumb(self) -> list[Crumb]:
        """The first BreadcrumbList's crumbs, ordered by position."""
        for node in self._parsed[0]:
            if "BreadcrumbList" not in types_of(node):
                continue
            entries: list[tuple[float, int, Crumb]] = []
            for index, entry in enumerate(as_list(node.get("itemListElement"))):
                element = self.resolve(entry)
                if not isinstance(element, dict):
                    continue
                item = self.resolve(element.get("item"))
                name = text_of(element.get("name"))
                href: str | None = None
                if isinstance(item, dict):
                    name = name or text_of(item.get("name"))
                    href = text_of(item.get("@id")) or text_of(item.get("url"))
                elif isinstance(item, str):
                    href = item
                position = element.get("position")
                order = float(position) if isinstance(position, (int, float)) else float(index)
                if name:
                    entries.append((order, index, Crumb(name, href)))
            if entries:
                return [crumb for _, _, crumb in sorted(entries, key=lambda e: (e[0], e[1]))]
        return []
