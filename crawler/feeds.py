"""Parse discovery documents: robots.txt Sitemap lines, sitemaps (and indexes), RSS/Atom feeds."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from lxml import etree

# Decompressed sitemaps are capped: a gzip bomb must not take the crawl's memory.
MAX_XML_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Entry:
    """A URL named by a feed or sitemap, with the date it gave (ISO 8601) if any."""

    url: str
    date: str | None = None


def _parser(*, recover: bool = True) -> etree.XMLParser:
    # No entity expansion, no DTD loading, no network: XML from the web is hostile.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=recover,
    )


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def maybe_gunzip(body: bytes) -> bytes:
    """Gunzip a body that starts with the gzip magic number, capped at MAX_XML_BYTES."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as stream:
            data = stream.read(MAX_XML_BYTES + 1)
    except (OSError, EOFError, zlib.error):
        return b""
    return data[:MAX_XML_BYTES]


FEED_ROOTS = frozenset({"rss", "rdf", "feed"})  # RSS 2.0, RSS 1.0 (rdf:RDF), Atom
SITEMAP_ROOTS = frozenset({"sitemapindex", "urlset"})


@dataclass(frozen=True)
class Document:
    """A feed or sitemap as read, once: its kind (`feed`, `index`, `urlset`, or `invalid`),
    what it names, and why it is broken (one line for its capture's error; None if it is not).
    A broken document is read as far as it goes: what it names is still followed."""

    kind: str
    entries: list[Entry]
    problem: str | None = None


def _read(body: bytes) -> tuple[etree._Element | None, str | None]:
    """The document's root element and its problem. Well-formed XML, the common case, is
    parsed once; anything else is parsed again in recover mode."""
    data = maybe_gunzip(body).lstrip()
    if not data:
        return None, "empty document" if not body.strip() else "not readable (bad gzip)"
    try:
        return etree.fromstring(data, parser=_parser(recover=False)), None
    except etree.XMLSyntaxError as exc:
        problem = f"not well-formed XML: {str(exc)[:200]}"
    try:
        return etree.fromstring(data, parser=_parser()), problem
    except etree.XMLSyntaxError:
        return None, problem


def robots_sitemaps(text: str) -> list[str]:
    """The URLs of `Sitemap:` lines in a robots.txt, in order, without duplicates."""
    found: list[str] = []
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        value = value.split("#", 1)[0].strip()
        if sep and name.strip().lower() == "sitemap" and value and value not in found:
            found.append(value)
    return found


def read_sitemap(body: bytes) -> Document:
    """A sitemap or sitemap index; kind `invalid` (no entries) when it is neither."""
    root, problem = _read(body)
    if root is None:
        return Document("invalid", [], problem)
    kind = _local(root.tag)
    if kind not in SITEMAP_ROOTS:
        return Document("invalid", [], problem or f"not a sitemap: root element <{kind}>")
    entries = []
    for child in root:
        loc = lastmod = None
        for field in child:
            name = _local(field.tag)
            if name == "loc" and field.text:
                loc = field.text.strip()
            elif name == "lastmod" and field.text:
                lastmod = field.text.strip()
        if loc:
            entries.append(Entry(loc, lastmod))
    return Document("index" if kind == "sitemapindex" else "urlset", entries, problem)


def parse_sitemap(body: bytes) -> tuple[str, list[Entry]]:
    """(`index` or `urlset`, entries) of a sitemap; ('invalid', []) when it is not one."""
    document = read_sitemap(body)
    return document.kind, document.entries


def read_feed(body: bytes) -> Document:
    """Item links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, with their dates when given."""
    root, problem = _read(body)
    if root is None:
        return Document("invalid", [], problem)
    kind = _local(root.tag)
    if kind not in FEED_ROOTS:
        problem = problem or f"not a feed: root element <{kind}>"
    entries = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "item":
            entry = _rss_item(element)
        elif name == "entry":
            entry = _atom_entry(element)
        else:
            continue
        if entry is not None:
            entries.append(entry)
    return Document("feed" if kind in FEED_ROOTS else "invalid", entries, problem)


def parse_feed(body: bytes) -> list[Entry]:
    """The entries of `read_feed`."""
    return read_feed(body).entries


def _rss_item(item: etree._Element) -> Entry | None:
    link = guid = date = None
    for field in item:
        name = _local(field.tag)
        text = (field.text or "").strip()
        if name == "link" and text:
            link = text
        elif name == "guid" and text and field.get("isPermaLink", "true") != "false":
            guid = text
        elif name in ("pubdate", "date") and text:
            date = _rfc822_to_iso(text) if name == "pubdate" else text
    url = link or (guid if guid and guid.startswith("http") else None)
    return Entry(url, date) if url else None


def _atom_entry(entry: etree._Element) -> Entry | None:
    url = date = None
    for field in entry:
        name = _local(field.tag)
        if name == "link" and field.get("rel", "alternate") == "alternate" and field.get("href"):
            url = url or field.get("href")
        elif name in ("published", "updated") and field.text:
            date = date or field.text.strip()
    return Entry(url, date) if url else None


def _rfc822_to_iso(text: str) -> str | None:
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return None
