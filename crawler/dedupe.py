"""Content identity of a story's text: the hash that decides whether two captures are one version."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Invisible characters that str.split() does not treat as whitespace but that templates
# and CMSs sprinkle into text (zero-width space, word joiner, BOM). ZWNJ (U+200C) is left
# alone: in Persian it changes how a word is written.
_INVISIBLE = "\u200b\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


def normalize_text(text: str | None) -> str:
    """NFC-normalised text with every run of whitespace collapsed to one space."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if any(char in text for char in _INVISIBLE):  # a plain scan is far cheaper than re.sub
        text = _INVISIBLE_RE.sub(" ", text)
    return " ".join(text.split())


def content_hash(title: str | None, body: str | None) -> str:
    """sha256 hex of the normalised title and body.

    Two captures whose title and body differ only in whitespace (line breaks, paragraph
    spacing, non-breaking spaces) or Unicode composition are one version of a story.
    """
    # normalize_text() leaves no newline, so "\n" cannot be confused with the text.
    joined = normalize_text(title) + "\n" + normalize_text(body)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()
