"""Paragraphs that are page furniture rather than story, recognised by their text alone.

Generic extractors (and a site's JSON-LD ``articleBody``) keep lines such as "Related: ...",
newsletter sign-ups, "Click here to get the app", unrendered WordPress shortcodes or a
lone "Advertisement" label. No profile names them, so the generic path drops them here.
Every rule is short-paragraph only: a long paragraph is story whatever its first words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crawler.extraction.clean import fold_text

# A paragraph that is only one of these (case and trailing punctuation aside) is a label.
_LABELS = frozenset(
    {
        "advertisement", "advertising", "ad", "sponsored", "sponsored content", "comments",
        "comment", "share", "share this", "share this article", "share this story", "tags",
        "related", "related articles", "related stories", "related posts", "related content",
        "more stories", "recommended", "recommended for you", "you may also like",
        "you might also like", "read more", "read next", "most popular", "most read",
        "trending", "trending now", "follow us", "skip advertisement",
    }
)  # fmt: skip
# Labels after which, late in a body, only furniture follows (a tag list, comments, teasers).
_END_LABELS = frozenset(
    {
        "tags", "comments", "related", "related articles", "related stories", "related posts",
        "related content", "more stories", "recommended", "recommended for you",
        "you may also like", "you might also like", "read next", "most popular", "most read",
    }
)  # fmt: skip
_PROMPT_RE = re.compile(
    r"^(?:related|read more|read also|also read|see also|recommended|more on this)\s*:"
    r"|^(?:click here|tap here|like this story|follow us|subscribe to"
    r"|tell us what you think|leave a comment|leave a reply|share this|download (?:our|the) app"
    r"|get the latest)\b"
    r"|^also on \S+\.[a-z]{2,}\b"
)
_NEWSLETTER_RE = re.compile(r"\bnewsletters?\b")
_SIGN_UP_RE = re.compile(r"\bsubscrib|\bsign(?:ing)?[ -]up\b|\binbox\b")
_SHORTCODE_RE = re.compile(r"^\[/?[a-z][\w-]*(?:\s[^\]]*)?\].*\]$|^\[/?[a-z][\w-]*(?:\s[^\]]*)?\]$")
# A stray timestamp line: a year and a clock time, with no sentence around them.
_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_CLOCK_RE = re.compile(r"(?<!\d)\d{1,2}[:h]\d\d(?!\d)")
_SHORT_WORDS = 40
_LABEL_TRIM = " .:!…-–—|>»"


def label_of(paragraph: str) -> str:
    return fold_text(paragraph).strip(_LABEL_TRIM)


def is_furniture(paragraph: str) -> bool:
    """A paragraph that is a label, a call to action, a sign-up box or a shortcode."""
    words = len(paragraph.split())
    if words > _SHORT_WORDS:
        return False
    key = label_of(paragraph)
    if key in _LABELS or _PROMPT_RE.search(key) or _SHORTCODE_RE.match(key):
        return True
    return bool(_NEWSLETTER_RE.search(key) and _SIGN_UP_RE.search(key))


def is_timestamp(paragraph: str) -> bool:
    """A short line holding a year and a clock time and no sentence: a dateline."""
    return (
        len(paragraph.split()) <= 12
        and not paragraph.rstrip().endswith((".", "!", "?"))
        and _YEAR_RE.search(paragraph) is not None
        and _CLOCK_RE.search(paragraph) is not None
    )


def strip_furniture(paragraphs: Sequence[str]) -> list[str]:
    """The paragraphs without furniture. In the last third of a body an end label (Tags,
    Comments, Related stories...) ends it; a timestamp line goes from either end."""
    count = len(paragraphs)
    kept: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if count >= 3 and index >= count * 2 / 3 and label_of(paragraph) in _END_LABELS:
            break
        edge = index < 2 or index >= count - 2
        if is_furniture(paragraph) or (edge and is_timestamp(paragraph)):
            continue
        kept.append(paragraph)
    return kept
