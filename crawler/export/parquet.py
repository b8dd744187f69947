"""Parquet export: typed columns (UTC timestamps, list<string>), written a row group at a time.

published_at and modified_at become UTC instants, so they sort and compare across offsets;
the outlet's own strings, offset included, are kept beside them as published_at_local and
modified_at_local, so nothing is lost. A value that is not ISO 8601 is a null instant with
its text kept in the _local column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.export.history import RowCounts, iter_pages, version_columns
from crawler.export.selection import Selection, article_columns
from crawler.export.single import story_exporter
from crawler.storage import Store

FORMAT = "parquet"
# About 25 MB of text a group at 5 KB a story: big enough for fast scans, small enough
# that memory stays flat while the file streams out.
ROW_GROUP = 5_000
TIMESTAMP = pa.timestamp("us", tz="UTC")
INSTANTS = ("published_at", "modified_at", "first_seen_at", "last_seen_at")
LOCAL = {"published_at": "published_at_local", "modified_at": "modified_at_local"}
INTEGERS = ("word_count", "version_count", "id")
LISTS = ("authors", "tags", "mirrors", "hosts")
REQUIRED = ("key", "site")
BY_HOST = pa.map_(pa.string(), pa.map_(pa.string(), pa.int64()))
CAPTURES = pa.struct(
    [
        pa.field("total", pa.int64()),
        pa.field("first", TIMESTAMP),
        pa.field("last", TIMESTAMP),
        pa.field("by_host", BY_HOST),
    ]
)


def column_type(name: str) -> pa.DataType:
    if name in INSTANTS:
        return TIMESTAMP
    if name in INTEGERS:
        return pa.int64()
    if name in LISTS:
        return pa.list_(pa.string())
    # Any other column, one a later migration adds included, is text.
    return pa.string()


def _fields(columns: Sequence[str]) -> list[pa.Field]:
    fields = []
    for name in columns:
        fields.append(pa.field(name, column_type(name), nullable=name not in REQUIRED))
        if name in LOCAL:
            fields.append(pa.field(LOCAL[name], pa.string()))
    return fields


def story_schema(store: Store, with_history: bool) -> pa.Schema:
    fields = _fields(article_columns(store))
    if with_history:
        version = pa.struct(_fields(version_columns(store)))
        fields += [pa.field("versions", pa.list_(version)), pa.field("captures", CAPTURES)]
    return pa.schema(fields)


def instant(value: Any) -> dt.datetime | None:
    """An ISO 8601 string as an aware datetime (a naive one is taken as UTC); else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def typed(row: dict[str, Any]) -> dict[str, Any]:
    """A story or version row with the values its Parquet columns take."""
    values = dict(row)
    for name, local in LOCAL.items():
        if name in row:
            values[local] = row[name]
    for name in INSTANTS:
        if name in row:
            values[name] = instant(row[name])
    if "versions" in row:
        values["versions"] = [typed(version) for version in row["versions"]]
    if "captures" in row:
        summary = row["captures"]
        values["captures"] = {
            **summary,
            "first": instant(summary["first"]),
            "last": instant(summary["last"]),
        }
    return values


def write_parquet(
    store: Store, selection: Selection, path: Path, *, with_history: bool
) -> dict[str, int]:
    """Write the selected stories to `path`, one row group per ROW_GROUP stories."""
    schema = story_schema(store, with_history)
    counts = RowCounts(with_history)
    with pq.ParquetWriter(path, schema) as writer:
        for page in iter_pages(store, selection, with_history=with_history, size=ROW_GROUP):
            table = pa.Table.from_pylist([typed(row) for row in page], schema=schema)
            writer.write_table(table, row_group_size=ROW_GROUP)
            counts.add(page)
    return counts.as_dict()


export = story_exporter(
    FORMAT,
    write_parquet,
    lambda with_history: {"with_history": with_history, "row_group_size": ROW_GROUP},
)
