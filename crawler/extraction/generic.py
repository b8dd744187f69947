"""The generic layer: trafilatura's article extractor, for pages no other layer could read."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any

from lxml import etree

from crawler.extraction.clean import block_paragraphs, normalize_text
from crawler.extraction.dates import parse_date
from crawler.extraction.merge import LazyLayer
from crawler.extraction.values import absolute_url, dedupe, split_tags

# htmldate drops dates after `max_date`, which defaults to today: a fixed far bound keeps the
# result independent of when extraction runs.
_DATE_PARAMS = {"original_date": True, "extensive_search": True, "max_date": "2199-12-31"}
# A precision-mode body shorter than this may have been over-pruned: recall mode is asked too.
SHORT_BODY_WORDS = 25
# Share of the precision body's words the recall body must hold to count as agreeing.
AGREEMENT = 0.8

logger = logging.getLogger(__name__)


def read_generic(
    fresh: Callable[[], etree._Element], url: str, tz: dt.tzinfo, page: etree._Element
) -> LazyLayer:
    """Field candidates from trafilatura. `fresh()` gives a copy of the page that trafilatura
    may modify (it edits what it is given); `page` is the page itself, never modified.

    The body: trafilatura in precision mode (favor_precision), which on the dev set of 64
    real news pages (shared/bench-data) trades a little recall for clearly fewer menu and
    teaser lines (4-shingle F1 0.958 -> 0.970). When it gives next to nothing, recall mode
    runs too, and its body is taken when it holds what precision mode found (the two agree)
    or precision mode found nothing.

    The other fields come from trafilatura's metadata pass, which costs about a third of the
    layer's time (~5 ms a page on the dev set): it runs only when precedence reaches this
    layer for a title, a date or an author the page's structured data lacks, at most once
    per page. Tags and an image are taken from it when it ran anyway, never worth a pass of
    their own (on the dev set a third of the passes were for tags alone, and none found any).
    """
    body = _body(fresh, url)
    metadata = functools.cache(lambda: _metadata(page, url, tz))

    def if_read(name: str) -> Any:
        return metadata().get(name) if metadata.cache_info().currsize else None

    return LazyLayer(
        {
            "body": lambda: body,
            **{
                field: functools.partial(lambda name: metadata().get(name), field)
                for field in ("title", "published_at", "authors")
            },
            **{field: functools.partial(if_read, field) for field in ("tags", "image_url")},
        }
    )


def _extract(tree: etree._Element, url: str, **options: Any) -> list[str]:
    # Imported here: trafilatura and its dependencies take a fifth of a second to import,
    # and the profile path, which most pages take, never needs them.
    import trafilatura  # noqa: PLC0415

    try:
        document = trafilatura.bare_extraction(
            tree, url=url or None, include_comments=False, include_tables=True, **options
        )
    except Exception:  # a third-party extractor must not take the whole extraction down
        logger.debug("trafilatura failed on %s", url, exc_info=True)
        return []
    if document is None or isinstance(document, dict):
        return []
    if isinstance(document.body, etree._Element):
        paragraphs = block_paragraphs(document.body)
        if paragraphs:
            return paragraphs
    text = document.text if isinstance(document.text, str) else ""
    return [p for p in (normalize_text(line) for line in text.splitlines()) if p]


def _body(fresh: Callable[[], etree._Element], url: str) -> list[str] | None:
    precise = _extract(fresh(), url, favor_precision=True)
    if _words(precise) >= SHORT_BODY_WORDS:
        return precise
    broad = _extract(fresh(), url, favor_recall=True)
    return (broad if agrees(precise, broad) else precise) or None


def agrees(precise: list[str], broad: list[str]) -> bool:
    """Whether the broader candidate should replace the precise one: it is longer and holds
    most of the precise one's words (or the precise one is empty)."""
    if _words(broad) <= _words(precise):
        return False
    if not precise:
        return True
    held = set(" ".join(broad).split())
    words = " ".join(precise).split()
    return sum(word in held for word in words) >= AGREEMENT * len(words)


def _words(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def _metadata(page: etree._Element, url: str, tz: dt.tzinfo) -> dict[str, Any]:
    import trafilatura  # noqa: PLC0415

    try:
        # A copy: the page tree is shared with the other layers.
        document = trafilatura.extract_metadata(
            copy.deepcopy(page), default_url=url or None, date_config=dict(_DATE_PARAMS)
        )
    except Exception:
        logger.debug("trafilatura metadata failed on %s", url, exc_info=True)
        return {}
    author = document.author if isinstance(document.author, str) else ""
    return {
        "title": normalize_text(document.title) if isinstance(document.title, str) else None,
        "published_at": parse_date(document.date, tz),
        "authors": dedupe(a for a in author.split(";") if a.strip()),
        "tags": split_tags(t for t in document.tags or [] if isinstance(t, str)),
        "image_url": absolute_url(document.image, url) if isinstance(document.image, str) else None,
    }
