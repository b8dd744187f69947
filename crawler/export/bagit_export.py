"""BagIt export: a directory bag (sha256) holding the stories as JSONL and Parquet, their
captures as WARC with its CDXJ index, and a Frictionless data package describing them.

Layout: `data/` holds the payload; `manifest.json` (newsmirror's manifest) sits at the top
beside `bag-info.txt` as a tag file, and the tag manifest lists it, so validating the bag
checks it too. The manifest gives the sha256 of every other file of the bag.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import bagit

from crawler import __version__
from crawler.clock import utc_now
from crawler.export.datapackage import NAME as DATAPACKAGE
from crawler.export.datapackage import (
    datapackage,
    jsonl_schema,
    parquet_schema,
    resource,
    write_datapackage,
)
from crawler.export.history import HISTORY_COLUMNS
from crawler.export.jsonl import write_jsonl
from crawler.export.manifest import MANIFEST_NAME, build_manifest, write_manifest
from crawler.export.output import check_output, staged
from crawler.export.parquet import write_parquet
from crawler.export.selection import Selection, article_columns
from crawler.export.warc import cdxj_path, write_warc
from crawler.storage import Store

FORMAT = "bagit"
JSONL, PARQUET, WARC = "stories.jsonl", "stories.parquet", "captures.warc.gz"
CHECKSUMS = ["sha256"]
# Who made and who answers for a bag is the archivist's to say (--bag-info); a bag that
# does not say so says that plainly rather than naming newsmirror in their place.
NOT_STATED = "not stated; set it with --bag-info {}=..."
DEFAULT_INFO = {
    "Source-Organization": NOT_STATED.format("Source-Organization"),
    "Contact-Name": NOT_STATED.format("Contact-Name"),
}


def export(
    store: Store,
    db_path: Path,
    selection: Selection,
    out: Path,
    *,
    overwrite: bool,
    with_history: bool,
    bag_info: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    check_output(out, overwrite, directory=True)
    with staged(out, overwrite, directory=True) as stage:
        summary = _summary(store, selection)
        rows = _write_payload(store, selection, stage, with_history, summary)
        info = _bag_info(
            db_path,
            selection=selection,
            rows=rows,
            with_history=with_history,
            summary=summary,
            given=bag_info or {},
        )
        # make_bag moves everything in the directory into data/ and writes the tag files.
        bagit.make_bag(str(stage), info, checksums=CHECKSUMS)
        manifest = build_manifest(
            export_format=FORMAT,
            db=db_path,
            filters=selection.as_dict(),
            rows=rows,
            files=[(stage / name, name) for name in _bag_files(stage)],
            extra={"with_history": with_history, "bag_info": info},
        )
        write_manifest(stage / MANIFEST_NAME, manifest)
        # Rewrites the tag manifest (bag-info.txt is written again with the same fields),
        # so manifest.json is covered by the bag's own fixity checks.
        bagit.Bag(str(stage)).save()
    return manifest


def _write_payload(
    store: Store, selection: Selection, stage: Path, with_history: bool, summary: dict[str, str]
) -> dict[str, int]:
    rows = write_jsonl(store, selection, stage / JSONL, with_history=with_history)
    write_parquet(store, selection, stage / PARQUET, with_history=with_history)
    records = write_warc(store, selection, stage / WARC)
    index = cdxj_path(stage / WARC)
    columns = article_columns(store) + (list(HISTORY_COLUMNS) if with_history else [])
    resources = [
        resource(
            stage / JSONL,
            name="stories",
            title="Stories, one JSON object a line",
            file_format="jsonl",
            mediatype="application/jsonl",
            schema=jsonl_schema(columns),
            table=True,
        ),
        resource(
            stage / PARQUET,
            name="stories-parquet",
            title="Stories as Parquet (the same rows, typed; instants in UTC)",
            file_format="parquet",
            mediatype="application/vnd.apache.parquet",
            schema=parquet_schema(columns),
        ),
        resource(
            stage / WARC,
            name="captures-warc",
            title="Raw captures of the stories, WARC 1.1, gzip per record",
            file_format="warc",
            mediatype="application/warc",
        ),
        resource(
            index,
            name="captures-cdxj",
            title="CDXJ index of the WARC",
            file_format="cdxj",
            mediatype="text/plain",
        ),
    ]
    write_datapackage(
        stage / DATAPACKAGE,
        datapackage(
            title=f"newsmirror export: {summary['sites'] or 'no stories'}",
            description=_description(summary, rows),
            created=utc_now(),
            source=f"newsmirror SQLite archive {Path(store.path).name}",
            resources=resources,
        ),
    )
    return {**rows, **{f"warc_{name}": count for name, count in records.items()}}


def _bag_files(stage: Path) -> list[str]:
    """Every file of the bag but the tag manifest, which is rewritten once manifest.json
    (which cannot hold its own hash) is added."""
    return sorted(
        path.relative_to(stage).as_posix()
        for path in stage.rglob("*")
        if path.is_file() and not path.name.startswith("tagmanifest-")
    )


def _summary(store: Store, selection: Selection) -> dict[str, str]:
    """Sites and the days the selected stories were published and captured."""
    where, params = selection.where()
    row = store.db.conn.execute(
        "SELECT min(substr(a.published_at, 1, 10)), max(substr(a.published_at, 1, 10)), "  # noqa: S608
        "min(a.first_seen_at), max(a.last_seen_at), group_concat(DISTINCT a.site) "
        f"FROM articles AS a WHERE {where}",
        params,
    ).fetchone()
    published = f"{row[0]}/{row[1]}" if row[0] else "none"
    captured = f"{row[2][:10]}/{row[3][:10]}" if row[2] else "none"
    sites = ", ".join(sorted((row[4] or "").split(","))) if row[4] else ""
    return {"published": published, "captured": captured, "sites": sites}


def _description(summary: dict[str, str], rows: Mapping[str, int]) -> str:
    return (
        f"{rows['stories']:,} stories of {summary['sites'] or 'no site'}, published "
        f"{summary['published']}, captured {summary['captured']}, archived across the "
        "outlet's mirror domains by newsmirror: JSON Lines and Parquet tables and the raw "
        "captures as WARC."
    )


def _bag_info(
    db_path: Path,
    *,
    selection: Selection,
    rows: Mapping[str, int],
    with_history: bool,
    summary: dict[str, str],
    given: Mapping[str, str],
) -> dict[str, str]:
    filters = selection.as_dict()
    info = {
        **DEFAULT_INFO,
        "External-Description": _description(summary, rows),
        "Bagging-Date": utc_now()[:10],
        "Bag-Software-Agent": f"newsmirror {__version__} (bagit.py {bagit.VERSION})",
        "Newsmirror-Version": __version__,
        "Source-Database": f"{db_path.resolve()} ({db_path.stat().st_size:,} bytes)",
        "Export-Filters": json.dumps(filters, ensure_ascii=False) if filters else "none",
        "Export-With-History": "yes" if with_history else "no",
        "Published-Dates": summary["published"],
        "Captured-Dates": summary["captured"],
        **{f"Rows-{name.replace('_', '-').title()}": str(n) for name, n in rows.items()},
    }
    return {**info, **given}
