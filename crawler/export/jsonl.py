"""JSONL export: one story per line, every `articles` column; versions and captures on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from crawler.export.history import RowCounts, iter_pages
from crawler.export.selection import Selection
from crawler.export.single import story_exporter
from crawler.storage import Store

FORMAT = "jsonl"
# json.dumps(ensure_ascii=False) leaves these raw, and str.splitlines() and some JSON Lines
# readers break lines at them: escaped, a story stays on its one line for every reader.
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}


def story_line(row: dict[str, Any]) -> str:
    """One story as a JSON line (no newline): lists as lists, field_sources as an object."""
    sources = row.get("field_sources")
    if isinstance(sources, str):
        row = {**row, "field_sources": json.loads(sources) if sources else {}}
    line = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _LINE_BREAKS.items():
        if raw in line:
            line = line.replace(raw, escaped)
    return line


def write_jsonl(
    store: Store, selection: Selection, path: Path, *, with_history: bool
) -> dict[str, int]:
    """Write the selected stories to `path`; returns the row counts."""
    counts = RowCounts(with_history)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for page in iter_pages(store, selection, with_history=with_history):
            handle.writelines(story_line(row) + "\n" for row in page)
            counts.add(page)
    return counts.as_dict()


export = story_exporter(FORMAT, write_jsonl, lambda with_history: {"with_history": with_history})
