"""WACZ export: the WARC, its index and the selected stories' pages in one zip for ReplayWeb.page.

The package follows WACZ 1.1.1 as py-wacz writes it (and passes `wacz validate`):

- `archive/data.warc.gz`: the WARC of `crawler.export.warc` (same captures, same records),
  stored, not deflated, so a replayer reads one record by byte range.
- `indexes/index.cdx.gz`: its CDXJ lines, sorted, gzipped in blocks of 1024 lines
  (compressed CDXJ, "ZipNum"), stored; `indexes/index.idx`: the first key of each block
  with its offset, length and sha256, after the line
  `!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}`. ReplayWeb.page loads
  only the .idx and reads blocks on demand, so a large archive opens quickly.
- `pages/pages.jsonl`: the header `{"format": "json-pages-1.0", "id": "pages", ...}`, then
  one line per selected story with a 200 capture in the WARC: `id` (the story key), `url`,
  `ts`, `title`. The capture shown is the story's latest on its primary host, else its
  latest on any host.
- `datapackage.json`: every file above with its sha256 and size, `wacz_version`, `created`,
  `software`, `title`, `description`; `datapackage-digest.json`: the sha256 of
  `datapackage.json`.

Everything streams into the zip: the WARC into its member as records are written, the index
blocks out of the scratch database in order, the pages a page of stories at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

from crawler import __version__
from crawler.export.selection import PAGE, Selection
from crawler.export.single import export_file
from crawler.export.warc import (
    RecordStream,
    ScratchIndex,
    capture_clause,
    describe_selection,
    warc_date,
    write_records,
)
from crawler.storage import Store

WACZ_VERSION = "1.1.1"
WARC_MEMBER = "archive/data.warc.gz"
INDEX_MEMBER = "indexes/index.cdx.gz"
IDX_MEMBER = "indexes/index.idx"
PAGES_MEMBER = "pages/pages.jsonl"
BLOCK_LINES = 1024  # index lines per gzip block: py-wacz's and ArchiveWeb.page's choice
_STORY_OUTCOMES = ("article", "unchanged")


def write_wacz(store: Store, selection: Selection, path: Path) -> dict[str, int]:
    """Write the WACZ of the selection to `path`, replacing it. Returns the WARC's counts
    (`crawler.export.warc.write_warc`) and `pages`."""
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with ScratchIndex(path.parent) as scratch, ZipFile(path, "w", allowZip64=True) as archive:
        package = _Package(archive, created)
        with package.member(WARC_MEMBER, deflate=False) as warc:
            counts = write_records(
                store, selection, warc, scratch, filename=PurePosixPath(WARC_MEMBER).name
            )
        _write_index(package, scratch)
        with package.member(PAGES_MEMBER, deflate=True) as pages:
            counts["pages"] = _write_pages(store, selection, pages)
        package.finish(
            title=f"newsmirror: {selection.site}" if selection.site else "newsmirror",
            description=_description(selection),
        )
    return counts


def export(
    store: Store,
    db_path: Path,
    selection: Selection,
    out: Path,
    *,
    overwrite: bool,
    with_history: bool,
) -> dict[str, Any]:
    """`newsmirror export --format wacz`: the package at `out`, then `<out>.manifest.json`;
    returns the manifest. An existing `out` or manifest is refused (OutputError) unless
    `overwrite`; the package is written beside `out` and renamed into place at the end.
    `with_history` changes nothing: the WARC inside holds every capture it selects."""
    del with_history
    return export_file(
        export_format="wacz",
        db_path=db_path,
        selection=selection,
        out=out,
        overwrite=overwrite,
        write=lambda path: write_wacz(store, selection, path),
        extra={"wacz_version": WACZ_VERSION},
    )


class _Package:
    """The zip being written, and the resources datapackage.json will list."""

    def __init__(self, archive: ZipFile, created: dt.datetime) -> None:
        self.archive = archive
        self.created = created
        self.resources: list[dict[str, Any]] = []

    def _info(self, name: str, *, deflate: bool) -> ZipInfo:
        info = ZipInfo(name, date_time=self.created.timetuple()[:6])
        # WACZ: the WARC and the compressed index are stored, so they can be read by range.
        info.compress_type = ZIP_DEFLATED if deflate else ZIP_STORED
        return info

    @contextmanager
    def member(self, name: str, *, deflate: bool) -> Iterator[RecordStream]:
        """A member written as a stream (zip64 headers: its size is not known in advance)."""
        with self.archive.open(self._info(name, deflate=deflate), "w", force_zip64=True) as raw:
            stream = RecordStream(raw)
            yield stream
        self.resources.append(
            {
                "name": PurePosixPath(name).name.lower(),
                "path": name,
                "hash": "sha256:" + stream.digest.hexdigest(),
                "bytes": stream.position,
            }
        )

    def finish(self, *, title: str, description: str) -> None:
        package = {
            "profile": "data-package",
            "resources": self.resources,
            "title": title,
            "description": description,
            "created": self.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "wacz_version": WACZ_VERSION,
            "software": f"newsmirror {__version__}",
        }
        data = json.dumps(package, indent=2, ensure_ascii=False).encode("utf-8")
        self.archive.writestr(self._info("datapackage.json", deflate=True), data)
        digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
        self.archive.writestr(
            self._info("datapackage-digest.json", deflate=True),
            json.dumps(digest, indent=2).encode("utf-8"),
        )


def _write_index(package: _Package, scratch: ScratchIndex) -> None:
    """The sorted index as gzip blocks, and the .idx of their first keys. The .idx goes to a
    scratch file first (a zip takes one member at a time), then into the package."""
    idx_path = scratch.directory / "index.idx"
    with (
        package.member(INDEX_MEMBER, deflate=False) as blocks,
        idx_path.open("w", encoding="utf-8", newline="\n") as idx,
    ):
        meta = {"format": "cdxj-gzip-1.0", "filename": PurePosixPath(INDEX_MEMBER).name}
        idx.write(f"!meta 0 {json.dumps(meta)}\n")
        block: list[str] = []
        for line in scratch.sorted_lines():
            block.append(line)
            if len(block) == BLOCK_LINES:
                _write_block(block, blocks, idx)
                block = []
        if block:
            _write_block(block, blocks, idx)
    with package.member(IDX_MEMBER, deflate=True) as out, idx_path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            out.write(chunk)


def _write_block(lines: list[str], blocks: RecordStream, idx: Any) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # one gzip member
    data = compressor.compress("".join(line + "\n" for line in lines).encode("utf-8"))
    data += compressor.flush()
    key = " ".join(lines[0].split(" ", 2)[:2])  # SURT and timestamp of the block's first line
    entry = {
        "offset": blocks.position,
        "length": len(data),
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
    }
    idx.write(f"{key} {json.dumps(entry)}\n")
    blocks.write(data)


def _write_pages(store: Store, selection: Selection, out: RecordStream) -> int:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Stories"}
    out.write((json.dumps(header) + "\n").encode("utf-8"))
    count = 0
    for page in iter_pages(store, selection):
        out.write((json.dumps(page, ensure_ascii=False) + "\n").encode("utf-8"))
        count += 1
    return count


def iter_pages(store: Store, selection: Selection) -> Iterator[dict[str, str]]:
    """One page per selected story that has a 200 capture in the export: its latest capture
    on the primary host, else its latest on any host; in story key order, a page at a time."""
    conn = store.db.conn
    roles = dict(conn.execute("SELECT host, role FROM mirrors").fetchall())
    stories_where, stories_params = selection.where("a")
    captures_where, captures_params = capture_clause(selection)
    after = ""
    while True:
        stories = conn.execute(
            f"SELECT a.key, a.title FROM articles AS a WHERE a.key > ? AND {stories_where} "  # noqa: S608 - clauses built from constants
            "ORDER BY a.key LIMIT ?",
            [after, *stories_params, PAGE],
        ).fetchall()
        if not stories:
            return
        keys = [key for key, _ in stories]
        best: dict[str, tuple[tuple[bool, str, int], str, str]] = {}
        rows = conn.execute(
            "SELECT c.id, c.article_key, c.url, c.host, c.fetched_at FROM captures AS c "  # noqa: S608
            f"WHERE c.article_key IN ({', '.join('?' for _ in keys)}) "
            "AND c.raw_sha256 IS NOT NULL AND c.status = 200 "
            f"AND c.outcome IN ({', '.join('?' for _ in _STORY_OUTCOMES)}) AND {captures_where}",
            [*keys, *_STORY_OUTCOMES, *captures_params],
        )
        for capture_id, key, url, host, fetched_at in rows:
            rank = (roles.get(host) == "primary", fetched_at, capture_id)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, url, fetched_at)
        for key, title in stories:
            if key not in best:
                continue
            _, url, fetched_at = best[key]
            page = {"id": key, "url": url, "ts": warc_date(fetched_at)}
            if title:
                page["title"] = title
            yield page
        after = keys[-1]


def _description(selection: Selection) -> str:
    filters = json.dumps(selection.as_dict(), ensure_ascii=False, sort_keys=True)
    return f"newsmirror export: {describe_selection(selection)}; filters {filters}"
