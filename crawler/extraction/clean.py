"""Text clean-up: normalise text, walk block elements into paragraphs, recognise boilerplate."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence

from lxml import etree

from crawler.profiles import Boilerplate

# Invisible characters that only break words and hashes. U+200C (ZWNJ) and U+200D (ZWJ) are
# kept on purpose: they are orthographic in Persian and Indic scripts and in emoji sequences.
_INVISIBLE_RE = re.compile("[\u200b\u2060\ufeff\u00ad]")
# Typographic quotes fold to ASCII so profile texts match whichever quotes a page uses.
# (Regexes rather than str.translate: translate is slow on non-ASCII text.)
_SINGLE_QUOTES_RE = re.compile("[’‘‛′]")
_DOUBLE_QUOTES_RE = re.compile("[“”„″]")

# Elements that end a paragraph. Lower-case HTML names plus the TEI-like names trafilatura
# writes in its output tree (head, list, item, quote, row, lb), so one walker reads both.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
        "head", "list", "item", "quote", "row", "doc", "body",
    }
)  # fmt: skip
_LINE_BREAKS = frozenset({"br", "lb"})
_CELLS = frozenset({"td", "th", "cell"})
# Never text, wherever they appear.
_NOT_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "math"})

# Boilerplate by element name, skipped inside a body container whatever the site.
GENERIC_BOILERPLATE_TAGS = frozenset(
    {
        "script", "style", "figure", "figcaption", "aside", "nav", "footer", "form", "iframe",
        "noscript", "template", "button", "select", "object", "embed", "svg", "dialog",
    }
)  # fmt: skip
# Boilerplate by class/id token. Tokens are split on whitespace, '-' and '_' so "share-box"
# and "social_links" match while "shareholder" or "advertiser-news" do not.
_BOILERPLATE_TOKENS = frozenset(
    {
        "share", "sharing", "sharebar", "social", "related", "breadcrumb", "breadcrumbs",
        "newsletter", "advert", "advertisement", "ads", "promo", "sponsored",
    }
)  # fmt: skip
_TOKEN_SPLIT_RE = re.compile(r"[\s_-]+")
_WORD_RE = re.compile(r"\w+")


def normalize_text(text: str) -> str:
    """One line: invisible characters removed, any run of whitespace (NBSP too) as one space."""
    # isascii() is a flag CPython keeps on every str: ASCII text has none of these.
    if not text.isascii() and _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
    # str.split() splits on every Unicode space (NBSP too) and is far faster than a regex.
    return " ".join(text.split())


def fold_text(text: str) -> str:
    """A comparison key: normalised, case-folded, typographic quotes as ASCII."""
    text = normalize_text(text)
    if not text.isascii():
        text = _DOUBLE_QUOTES_RE.sub('"', _SINGLE_QUOTES_RE.sub("'", text))
    return text.casefold()


def elements_of(xpath: etree.XPath, tree: etree._Element) -> list[etree._Element]:
    """The elements an element-selecting XPath finds (typed for mypy)."""
    result = xpath(tree)
    return [r for r in result if isinstance(r, etree._Element)] if isinstance(result, list) else []


def element_text(element: etree._Element) -> str:
    """All text of an element on one line (script and style excluded)."""
    if len(element) == 0:  # the usual headline, link or caption: no walk needed
        return "" if element.tag in _NOT_TEXT else normalize_text(element.text or "")
    return " ".join(block_paragraphs(element))


def count_words(text: str) -> int:
    """The number of \\w+ runs in the text.

    A whitespace-separated token made only of letters and digits is one run (str.isalnum
    is how re defines \\w, bar "_"), so only the other tokens go through the regex, all in
    one call: about twice as fast as findall over the whole text, which matters on the
    profile path.
    """
    tokens = text.split()
    odd = [token for token in tokens if not token.isalnum()]
    return len(tokens) - len(odd) + len(_WORD_RE.findall(" ".join(odd)))


def block_paragraphs(
    root: etree._Element, skip: Callable[[etree._Element], bool] | None = None
) -> list[str]:
    """The element's text as paragraphs: a block element or a <br> ends one.

    Elements for which `skip` is true (boilerplate) are passed over as if absent, text after
    them kept, so the page tree is never modified and nothing needs copying. Iterative
    (lxml's iterwalk), so pathological nesting cannot hit Python's recursion limit.
    """
    paragraphs: list[str] = []
    buffer: list[str] = []
    skipped: set[etree._Element] = set()

    def flush() -> None:
        if not buffer:
            return
        raw = "".join(buffer)
        buffer.clear()
        if not raw.isspace():  # most flushes only see the indentation between blocks
            text = normalize_text(raw)
            if text:
                paragraphs.append(text)

    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _NOT_TEXT or (skip is not None and element is not root and skip(element)):
                skipped.add(element)
                walker.skip_subtree()
            elif tag in BLOCK_TAGS or tag in _LINE_BREAKS:
                flush()
            elif tag in _CELLS:
                buffer.append(" ")
            if element.text and element not in skipped:
                buffer.append(element.text)
            continue
        if element in skipped:
            skipped.discard(element)
        elif tag in BLOCK_TAGS:
            flush()
        elif tag in _CELLS:
            buffer.append(" ")
        if element is not root and element.tail:
            buffer.append(element.tail)
    flush()
    return paragraphs


def is_boilerplate_element(element: etree._Element) -> bool:
    """Generic boilerplate: by tag, or by a class/id token such as share, related, promo."""
    tag = element.tag
    if not isinstance(tag, str):
        return False
    if tag in GENERIC_BOILERPLATE_TAGS:
        return True
    names = element.get("class"), element.get("id")
    if names == (None, None):  # most elements: no string work at all
        return False
    return has_boilerplate_token(" ".join(n for n in names if n))


def has_boilerplate_token(names: str) -> bool:
    """Whether class/id names hold a boilerplate token (share, related, promo...)."""
    return not _BOILERPLATE_TOKENS.isdisjoint(_TOKEN_SPLIT_RE.split(names.lower()))


def remove_elements(elements: Iterable[etree._Element]) -> None:
    """Remove elements from their tree, keeping the text that follows each (its tail)."""
    for element in elements:
        parent = element.getparent()
        if parent is None:
            continue
        if element.tail:
            previous = element.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + element.tail
            else:
                parent.text = (parent.text or "") + element.tail
        parent.remove(element)


@functools.cache
def _cut_keys(cut_at: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Folded cut_at texts, and their first characters for a cheap first test."""
    keys = tuple(k for k in (fold_text(text) for text in cut_at) if k)
    return keys, frozenset(k[0] for k in keys)


def finish_paragraphs(
    paragraphs: Sequence[str],
    boilerplate: Boilerplate | None,
    *,
    caption: str | None = None,
    titles: Iterable[str] = (),
) -> list[str]:
    """Apply paragraph-level rules: cut_at ends the body, drop patterns and the image caption
    go, and a leading paragraph that repeats the headline goes.

    Paragraphs arrive normalised, so a paragraph is folded only when its first character
    could start a cut text, and then only a prefix of it (twice the longest cut text: case
    folding can lengthen a string).
    """
    cut_keys, cut_starts = _cut_keys(boilerplate.cut_at) if boilerplate else ((), frozenset())
    prefix = 2 * max((len(k) for k in cut_keys), default=0)
    drop = boilerplate.drop if boilerplate else ()
    caption_key = fold_text(caption) if caption else None
    result: list[str] = []
    for paragraph in paragraphs:
        if (
            cut_keys
            and fold_text(paragraph[:1]) in cut_starts
            and fold_text(paragraph[:prefix]).startswith(cut_keys)
        ):
            break
        is_caption = (
            caption_key is not None
            and abs(len(paragraph) - len(caption_key)) < 8  # cheap test before folding
            and fold_text(paragraph) == caption_key
        )
        if is_caption or any(p.search(paragraph) for p in drop):
            continue
        result.append(paragraph)
    title_keys = {fold_text(t) for t in titles}
    if result and fold_text(result[0]) in title_keys:
        result.pop(0)
    return result
