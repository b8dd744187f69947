"""Parameters for SQL `IN (...)` lists: in chunks SQLite accepts, with their placeholders."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

IN_CHUNK = 500  # parameters per IN (...) query, well under SQLite's limit

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """`items` in slices of at most `size`, in order."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marks(items: Sequence[object]) -> str:
    """One `?` per item, comma-separated: the placeholders of an IN (...) list."""
    return ", ".join("?" for _ in items)
