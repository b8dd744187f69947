"""WARC 1.1 export: the archive's captures as gzip-per-record WARC records, with a CDXJ index.

Which captures. With a story filter (since, until, section, host or key) the WARC holds the
captures of the selected stories (`captures.article_key`), and `--host` keeps only that
host's captures of them. With no filter, or only `site`, it holds every capture the site's
runs made (`crawl_runs.site`), listings, feeds, sitemaps, robots.txt, seizure notices and
404s included: an archivist's WARC of the crawl. Captures are read in id (crawl) order, a
page at a time by id, and each body is read and written on its own, so memory stays flat.

Records. A `warcinfo` record first (software, format, source database name, filters,
creation time). Then, per capture with a raw page, a `response` record (or a `revisit`, see
below) and a `request` record, linked by `WARC-Concurrent-To` and written in that order,
as warcio's own request/response pairs are:

- `WARC-Target-URI` is the logical URL (never the `--connect-to` origin), `WARC-Date` the
  stored `fetched_at` with its milliseconds (WARC 1.1 allows fractions of a second).
- The HTTP block is `HTTP/1.1 <status> <reason phrase>`, the stored headers and the stored
  body. Scrapy stores the body after undoing the transfer coding (chunked) and every
  content coding it could decode, and it deletes `Content-Encoding` when it decoded them
  all, so a `Content-Encoding` still in the stored headers is true of the stored body and
  is kept. `Transfer-Encoding` is dropped and `Content-Length` set to the stored body's
  length; their original values, when they differ, are kept as
  `X-Newsmirror-Original-Transfer-Encoding` / `X-Newsmirror-Original-Content-Length`.
  Header values that are not ASCII are %-encoded (RFC 8187), as warcio does.
- A body already written earlier in the same file becomes a `revisit` record (profile
  `identical-payload-digest`, `WARC-Refers-To-Target-URI`, `WARC-Refers-To-Date` and
  `WARC-Refers-To`), with this capture's status and headers and no payload.
- The request record is rebuilt from what the database knows: `GET <path?query>
  HTTP/1.1`, the logical `Host`, and the `User-Agent` of the run that made the capture.
  Other request headers (Accept, conditional headers) are not stored, so not written.
- Captures without a raw page are not written and are counted as `captures_skipped`:
  fetches that got no response (DNS, timeout, reset, refused redirect) and 304 answers to
  conditional requests. A 304 is not written as a revisit: replay tools resolve revisits
  by payload digest, which a 304 does not have, and the earlier 200 of the URL, with the
  body, is in the WARC when it is in the selection; the 304s stay in `captures`.

Index. Beside the WARC, a CDXJ index (`cdxj_path()`): one line per response and revisit
record, `<SURT> <14-digit timestamp> {url, mime, status, digest, length, offset, filename,
recordDigest}` as cdxj-indexer (pywb, ReplayWeb.page) writes it, sorted by the whole line
(SURT, then timestamp). Lines are sorted out of memory: they go to a scratch SQLite table
keyed by the line (a B-tree, so SQLite keeps them in order on disk with a bounded page
cache), beside the output, removed at the end; the same scratch database remembers which
bodies were written already. SURTs come from the `surt` package, as cdxj-indexer's do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import quote, urlsplit

import surt
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.export.manifest import build_manifest, write_manifest
from crawler.export.output import OutputError, check_output, staged
from crawler.export.selection import PAGE, Selection, keys_clause
from crawler.export.single import check_single, manifest_path
from crawler.storage import Store

WARC_VERSION = "1.1"
SOFTWARE = f"newsmirror/{__version__}"
ORIGINAL_PREFIX = "X-Newsmirror-Original-"
# Headers that describe the message as it crossed the wire, not the stored body.
_REWRITTEN = {"content-length": "Content-Length", "transfer-encoding": "Transfer-Encoding"}
_UNSAFE = re.compile(r"[\r\n\x00]")
# Printable ASCII but space: what a request target may carry as is.
_TARGET_SAFE = "".join(chr(code) for code in range(0x21, 0x7F))
_WORK_CACHE_KIB = 16_384  # scratch database page cache: its memory bound
_COMMIT_EVERY = 5_000


def cdxj_path(path: Path) -> Path:
    """The CDXJ index beside a WARC: `x.warc.gz` → `x.cdxj`, any other `x.y` → `x.cdxj`."""
    if path.name.endswith(".warc.gz"):
        return path.with_name(path.name[: -len(".warc.gz")] + ".cdxj")
    return path.with_suffix(".cdxj")


def write_warc(store: Store, selection: Selection, path: Path) -> dict[str, int]:
    """Write the selected captures to `path` (gzip-per-record WARC 1.1) and its CDXJ index to
    `cdxj_path(path)`, replacing both. Returns counts: records, responses, revisits,
    requests, captures_skipped (selected captures without a raw page)."""
    return write_warc_files(store, selection, path, cdxj_path(path), filename=path.name)


def export(
    store: Store,
    db_path: Path,
    selection: Selection,
    out: Path,
    *,
    overwrite: bool,
    with_history: bool,
) -> dict[str, Any]:
    """`newsmirror export --format warc`: the WARC at `out`, its index beside it
    (`cdxj_path(out)`), then `<out>.manifest.json`; returns the manifest.

    An existing `out`, index or manifest is refused (OutputError) unless `overwrite`. The
    WARC and its index are written beside their place and renamed into it at the end; if
    the manifest cannot be written, they are removed. `with_history` changes nothing: a
    WARC holds every capture of what it selects, which is the history."""
    del with_history
    index = cdxj_path(out)
    if index == out:
        raise OutputError(f"{out}: the WARC and its index {index.name} would be one file")
    check_single(out, overwrite)
    check_output(index, overwrite)
    with staged(out, overwrite) as stage, staged(index, overwrite) as stage_index:
        counts = write_warc_files(store, selection, stage, stage_index, filename=out.name)
    try:
        manifest = build_manifest(
            export_format="warc",
            db=db_path,
            filters=selection.as_dict(),
            rows=counts,
            files=[(out, out.name), (index, index.name)],
            extra={"warc_version": WARC_VERSION, "index": index.name},
        )
        with staged(manifest_path(out), overwrite=True) as stage:
            write_manifest(stage, manifest)
    except BaseException:
        # Data without its manifest is not an export (as crawler.export.single does).
        out.unlink(missing_ok=True)
        index.unlink(missing_ok=True)
        raise
    return manifest


def write_warc_files(
    store: Store, selection: Selection, warc: Path, index: Path, *, filename: str
) -> dict[str, int]:
    """The WARC at `warc` and its CDXJ at `index`; `filename` is the WARC's name as the
    index and warcinfo give it (its final name when `warc` is a staging path)."""
    with ScratchIndex(warc.parent) as scratch:
        with warc.open("wb") as raw:
            counts = write_records(store, selection, RecordStream(raw), scratch, filename=filename)
        with index.open("w", encoding="utf-8", newline="\n") as out:
            for line in scratch.sorted_lines():
                out.write(line + "\n")
    return counts


# --- which captures -----------------------------------------------------------------------


def has_story_filter(selection: Selection) -> bool:
    return bool(
        selection.since or selection.until or selection.section or selection.host or selection.keys
    )


def capture_clause(selection: Selection, alias: str = "c") -> tuple[str, list[Any]]:
    """SQL condition on `captures` (as `alias`) selecting the captures an export holds."""
    if has_story_filter(selection):
        where, params = keys_clause(selection, f"{alias}.article_key")
        if selection.host:
            where += f" AND {alias}.host = ?"
            params.append(selection.host)
        return where, params
    if selection.site:
        # Only the alias is formatted in; the site stays a parameter.
        return f"{alias}.run_id IN (SELECT id FROM crawl_runs WHERE site = ?)", [  # noqa: S608
            selection.site
        ]
    return "1", []


def describe_selection(selection: Selection) -> str:
    if has_story_filter(selection):
        text = "captures of the selected stories"
        return text + (f", on {selection.host} only" if selection.host else "")
    if selection.site:
        return f"every capture made by the runs of {selection.site}"
    return "every capture in the database"


@dataclass(frozen=True, slots=True)
class CaptureRow:
    id: int
    run_id: int | None
    url: str
    fetched_at: str
    status: int | None
    headers: str | None
    raw_sha256: str | None
    size: int | None  # of the raw page


def iter_captures(store: Store, selection: Selection) -> Iterator[CaptureRow]:
    """The selected captures in id order, read a page at a time by id."""
    where, params = capture_clause(selection)
    after = 0
    while True:
        rows = store.db.conn.execute(
            "SELECT c.id, c.run_id, c.url, c.fetched_at, c.status, c.headers, c.raw_sha256, "  # noqa: S608 - clause built from constants
            "r.size FROM captures AS c LEFT JOIN raw_pages AS r ON r.sha256 = c.raw_sha256 "
            f"WHERE c.id > ? AND {where} ORDER BY c.id LIMIT ?",
            [after, *params, PAGE],
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield CaptureRow(*row)
        after = rows[-1][0]


# --- records ------------------------------------------------------------------------------


class RecordStream:
    """A binary output that knows its position and the sha256 of everything written and
    of the current record (what the index's offsets and recordDigest are)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.position = 0
        self.digest = hashlib.sha256()
        self._record = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.raw.write(data)
        self.position += len(data)
        self.digest.update(data)
        self._record.update(data)
        return len(data)

    def flush(self) -> None:
        self.raw.flush()

    def start_record(self) -> int:
        self._record = hashlib.sha256()
        return self.position

    def record_digest(self) -> str:
        return "sha256:" + self._record.hexdigest()


@dataclass(frozen=True, slots=True)
class Payload:
    """A body already written in this file: what a revisit of it refers to."""

    digest: str
    uri: str
    date: str
    record_id: str


class ScratchIndex:
    """A scratch SQLite database beside the output: the bodies written so far (for
    revisits) and the index lines, kept sorted on disk. Removed when closed."""

    def __init__(self, directory: Path) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=".newsmirror-export-", dir=directory)
        self.directory = Path(self._tmp.name)
        self.conn = sqlite3.connect(self.directory / "scratch.sqlite")
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            f"cache_size = -{_WORK_CACHE_KIB}",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(
            "CREATE TABLE payloads (sha256 TEXT PRIMARY KEY, digest TEXT, uri TEXT, date TEXT, "
            "record_id TEXT) WITHOUT ROWID"
        )
        self.conn.execute("CREATE TABLE lines (line TEXT PRIMARY KEY) WITHOUT ROWID")
        self._pending = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()
        self._tmp.cleanup()

    def payload(self, sha256: str) -> Payload | None:
        row = self.conn.execute(
            "SELECT digest, uri, date, record_id FROM payloads WHERE sha256 = ?", [sha256]
        ).fetchone()
        return Payload(*row) if row else None

    def remember(self, sha256: str, payload: Payload) -> None:
        self.conn.execute(
            "INSERT INTO payloads VALUES (?, ?, ?, ?, ?)",
            [sha256, payload.digest, payload.uri, payload.date, payload.record_id],
        )
        self._written()

    def add_line(self, line: str) -> None:
        self.conn.execute("INSERT INTO lines VALUES (?)", [line])
        self._written()

    def _written(self) -> None:
        self._pending += 1
        if self._pending >= _COMMIT_EVERY:
            self.conn.commit()
            self._pending = 0

    def sorted_lines(self) -> Iterator[str]:
        """The index lines in order (SQLite's BINARY order on UTF-8: code point order)."""
        self.conn.commit()
        for (line,) in self.conn.execute("SELECT line FROM lines ORDER BY line"):
            yield line


@dataclass
class Counts:
    records: int = 0
    responses: int = 0
    revisits: int = 0
    requests: int = 0
    captures_skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "responses": self.responses,
            "revisits": self.revisits,
            "requests": self.requests,
            "captures_skipped": self.captures_skipped,
        }


def write_records(
    store: Store,
    selection: Selection,
    out: RecordStream,
    scratch: ScratchIndex,
    *,
    filename: str,
) -> dict[str, int]:
    """Write the WARC records of the selection to `out`, its index lines to `scratch`."""
    writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
    counts = Counts()
    info = writer.create_warcinfo_record(filename, _warcinfo_fields(store, selection))
    warcinfo_id = str(info.rec_headers.get_header("WARC-Record-ID"))
    writer.write_record(info)
    counts.records += 1
    agents = _RunAgents(store)
    for capture in iter_captures(store, selection):
        if capture.raw_sha256 is None or capture.status is None or capture.size is None:
            counts.captures_skipped += 1
            continue
        date = warc_date(capture.fetched_at)
        http = response_headers(capture.status, capture.headers, capture.size)
        common = {"WARC-Date": date, "WARC-Warcinfo-ID": warcinfo_id}
        seen = scratch.payload(capture.raw_sha256)
        if seen is None:
            body = store.raw_page(capture.raw_sha256)
            if body is None:  # a foreign key makes this impossible; never write a lie
                counts.captures_skipped += 1
                continue
            record = writer.create_warc_record(
                capture.url,
                "response",
                payload=BytesIO(body),
                length=len(body),
                http_headers=http,
                warc_headers_dict=common,
            )
            counts.responses += 1
        else:
            record = writer.create_revisit_record(
                capture.url,
                digest=seen.digest,
                refers_to_uri=seen.uri,
                refers_to_date=seen.date,
                http_headers=http,
                warc_headers_dict={**common, "WARC-Refers-To": seen.record_id},
            )
            counts.revisits += 1
        record_id = str(record.rec_headers.get_header("WARC-Record-ID"))
        offset = out.start_record()
        writer.write_record(record)
        digest = str(record.rec_headers.get_header("WARC-Payload-Digest"))
        if seen is None:
            scratch.remember(capture.raw_sha256, Payload(digest, capture.url, date, record_id))
        scratch.add_line(
            index_line(
                url=capture.url,
                date=date,
                mime="warc/revisit" if seen else http.get_header("Content-Type"),
                status=capture.status,
                digest=digest,
                length=out.position - offset,
                offset=offset,
                filename=filename,
                record_digest=out.record_digest(),
            )
        )
        request = writer.create_warc_record(
            capture.url,
            "request",
            http_headers=request_headers(capture.url, agents.user_agent(capture.run_id)),
            warc_headers_dict={**common, "WARC-Concurrent-To": record_id},
        )
        writer.write_record(request)
        counts.requests += 1
        counts.records += 2
    out.flush()
    return counts.as_dict()


def _warcinfo_fields(store: Store, selection: Selection) -> dict[str, str]:
    return {
        "software": SOFTWARE,
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": (
            f"newsmirror export: {describe_selection(selection)}. Response bodies as stored "
            "(transfer and decoded content codings undone); request records rebuilt from "
            "the URL and the run's User-Agent."
        ),
        "source-database": store.path.name,
        "filters": json.dumps(selection.as_dict(), ensure_ascii=False, sort_keys=True),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }


class _RunAgents:
    """The User-Agent each run sent (crawl_runs.params), for the one run being read:
    captures come in id order, and runs never overlap, so one entry is enough."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._run: int | None = None
        self._agent: str | None = None

    def user_agent(self, run_id: int | None) -> str | None:
        if run_id is None:
            return None
        if run_id != self._run:
            row = self.store.db.conn.execute(
                "SELECT json_extract(params, '$.user_agent') FROM crawl_runs WHERE id = ?",
                [run_id],
            ).fetchone()
            self._run = run_id
            self._agent = row[0] if row and isinstance(row[0], str) else None
        return self._agent


def warc_date(fetched_at: str) -> str:
    """A stored timestamp as a WARC-Date: UTC, milliseconds, `Z`."""
    parsed = dt.datetime.fromisoformat(fetched_at)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    utc = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def cdx_timestamp(date: str) -> str:
    """A WARC-Date as the 14-digit timestamp of CDX indexes."""
    return re.sub(r"\D", "", date)[:14]


def response_headers(status: int, stored: str | None, length: int) -> StatusAndHeaders:
    """The status line and stored headers of a response, made true of the stored body."""
    headers: list[tuple[str, str]] = []
    originals: list[tuple[str, str]] = []
    length_at: int | None = None
    decoded: dict[str, list[Any]] = json.loads(stored) if stored else {}
    for name, values in decoded.items():
        canonical = _REWRITTEN.get(name.lower())
        for value in values if isinstance(values, list) else [values]:
            text = _clean(str(value))
            if canonical is None:
                headers.append((_clean(name), text))
                continue
            if canonical == "Content-Length" and length_at is None:
                length_at = len(headers)
            if canonical != "Content-Length" or text.strip() != str(length):
                originals.append((ORIGINAL_PREFIX + canonical, text))
    headers.insert(
        len(headers) if length_at is None else length_at, ("Content-Length", str(length))
    )
    return StatusAndHeaders(_status_line(status), headers + originals, protocol="HTTP/1.1")


def _status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""  # RFC 9112: the space stays, the reason phrase may be empty
    return f"{status} {phrase}"


def request_headers(url: str, user_agent: str | None) -> StatusAndHeaders:
    """The request a capture answered, as far as the database knows it."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    headers = [("Host", parts.netloc)]
    if user_agent:
        headers.append(("User-Agent", _clean(user_agent)))
    return StatusAndHeaders(
        f"GET {quote(target, safe=_TARGET_SAFE)} HTTP/1.1", headers, is_http_request=True
    )


def _clean(text: str) -> str:
    """No line breaks in a header: stored data must not be able to add headers or records."""
    return _UNSAFE.sub(" ", text)


def index_line(
    *,
    url: str,
    date: str,
    mime: str | None,
    status: int,
    digest: str,
    length: int,
    offset: int,
    filename: str,
    record_digest: str,
) -> str:
    """One CDXJ line, fields and value types as cdxj-indexer writes them."""
    fields: dict[str, str] = {"url": url}
    if mime:
        fields["mime"] = re.split(r"[;\s]", mime, maxsplit=1)[0].strip()
    fields |= {
        "status": str(status),
        "digest": digest,
        "length": str(length),
        "offset": str(offset),
        "filename": filename,
        "recordDigest": record_digest,
    }
    return f"{url_key(url)} {cdx_timestamp(date)} {json.dumps(fields)}"


def url_key(url: str) -> str:
    """The SURT form of a URL that pywb and ReplayWeb.page look records up by."""
    try:
        return str(surt.surt(url))
    except Exception:  # noqa: BLE001 - as cdxj-indexer: a URL surt cannot parse is its own key
        return url
