"""CSV export: one story per row, RFC 4180 (CRLF, minimal quoting), UTF-8 with a BOM.

The BOM is there for spreadsheets: Excel reads a CSV file as UTF-8 only when it starts with
one, and shows mojibake for every curly quote otherwise; LibreOffice, Google Sheets, pandas,
R and DuckDB skip it. Python readers open the file with `encoding="utf-8-sig"`.
Lists and objects are JSON strings; NULL is an empty field.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from crawler.export.history import HISTORY_COLUMNS, RowCounts, iter_pages
from crawler.export.selection import Selection, article_columns
from crawler.export.single import story_exporter
from crawler.storage import Store

FORMAT = "csv"


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_csv(
    store: Store, selection: Selection, path: Path, *, with_history: bool
) -> dict[str, int]:
    """Write the selected stories to `path`; returns the row counts."""
    columns = article_columns(store) + (list(HISTORY_COLUMNS) if with_history else [])
    counts = RowCounts(with_history)
    # newline="" hands line endings to the csv module: CRLF between records, and line
    # breaks inside quoted bodies kept exactly as stored.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for page in iter_pages(store, selection, with_history=with_history):
            writer.writerows([cell(row.get(name)) for name in columns] for row in page)
            counts.add(page)
    return counts.as_dict()


export = story_exporter(
    FORMAT,
    write_csv,
    lambda with_history: {
        "with_history": with_history,
        "encoding": "utf-8-sig",
        "dialect": "RFC 4180",
    },
)
