"""WARC export: real crawls of the replay site (with edits, takedowns and 304s) read back with warcio."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import sqlite3
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cdxj_indexer.main import CDXJIndexer
from warcio.archiveiterator import ArchiveIterator

from crawler.export import warc
from crawler.export.output import OutputError
from crawler.export.selection import Selection
from crawler.export.warc import cdxj_path, export, response_headers, warc_date, write_warc
from crawler.replay import ReplaySite
from crawler.storage import Store
from tests.conftest import crawl_two_phases

pytestmark = pytest.mark.crawl

HOSTS = {"www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv", "www.presstv.com"}
MIRROR = "www.presstv.co.uk"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory, replay_site: ReplaySite) -> Path:
    return crawl_two_phases(tmp_path_factory.mktemp("warc") / "archive.db", replay_site)


@pytest.fixture(scope="module")
def store(db_path: Path) -> Iterator[Store]:
    with Store(db_path, readonly=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def sql(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path)
    yield conn
    conn.close()


@dataclass
class Record:
    type: str
    headers: dict[str, str]
    status: str | None
    http: list[tuple[str, str]]
    request_line: str | None
    payload: bytes
    offset: int
    length: int


@dataclass
class Written:
    path: Path
    counts: dict[str, int]
    records: list[Record]


def read_records(path: Path) -> list[Record]:
    """Every record, digests checked by warcio as it reads (a mismatch raises)."""
    records = []
    with path.open("rb") as handle:
        iterator = ArchiveIterator(handle, check_digests="raise")
        for record in iterator:
            payload = record.raw_stream.read()
            assert record.digest_checker.passed is not False
            http = record.http_headers
            records.append(
                Record(
                    type=record.rec_type,
                    headers=dict(record.rec_headers.headers),
                    status=http.get_statuscode() if http and record.rec_type != "request" else None,
                    http=list(http.headers) if http else [],
                    request_line=(
                        f"{http.protocol} {http.statusline}"
                        if record.rec_type == "request"
                        else None
                    ),
                    payload=payload,
                    offset=iterator.get_record_offset(),
                    length=iterator.get_record_length(),
                )
            )
    return records


def export_warc(tmp_path: Path, store: Store, selection: Selection) -> Written:
    path = tmp_path / "captures.warc.gz"
    counts = write_warc(store, selection, path)
    return Written(path, counts, read_records(path))


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory, store: Store) -> Written:
    return export_warc(tmp_path_factory.mktemp("everything"), store, Selection())


def sha1_digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")  # noqa: S324 - WARC's digest


def captures_by_uri_and_date(
    sql: sqlite3.Connection, where: str = "1", params: tuple[str, ...] = ()
) -> dict[tuple[str, str], Any]:
    rows = sql.execute(
        "SELECT url, fetched_at, raw_sha256, status, article_key, host FROM captures "  # noqa: S608
        f"WHERE {where}",
        params,
    ).fetchall()
    found = {
        (url, warc_date(at)): (sha, status, key, host) for url, at, sha, status, key, host in rows
    }
    assert len(found) == len(rows)  # no two captures of one URL in the same millisecond
    return found


def http_header(record: Record, name: str) -> list[str]:
    return [value for key, value in record.http if key.lower() == name.lower()]


def test_warcinfo_first_then_a_response_or_revisit_and_a_request_per_capture_with_a_body(
    everything: Written, sql: sqlite3.Connection
) -> None:
    records = everything.records
    assert records[0].type == "warcinfo"
    assert records[0].headers["WARC-Filename"] == "captures.warc.gz"
    info = records[0].payload.decode("utf-8")
    assert "software: newsmirror/" in info
    assert "format: WARC File Format 1.1" in info
    assert "source-database: archive.db" in info
    assert all(record.type != "warcinfo" for record in records[1:])

    with_body, distinct, without = sql.execute(
        "SELECT count(raw_sha256), count(DISTINCT raw_sha256), count(*) - count(raw_sha256) "
        "FROM captures"
    ).fetchone()
    types = Counter(record.type for record in records)
    assert types["response"] == distinct
    assert types["revisit"] == with_body - distinct > 0
    assert types["request"] == with_body
    assert everything.counts == {
        "records": len(records),
        "responses": distinct,
        "revisits": with_body - distinct,
        "requests": with_body,
        "captures_skipped": without,
    }
    # The database has what is skipped: 304 answers and fetches that got no response.
    statuses = {
        row[0] for row in sql.execute("SELECT status FROM captures WHERE raw_sha256 IS NULL")
    }
    assert 304 in statuses
    assert all(record.headers.get("WARC-Warcinfo-ID") for record in records[1:])
    assert {r.headers["WARC-Warcinfo-ID"] for r in records[1:]} == {
        records[0].headers["WARC-Record-ID"]
    }


def test_response_payloads_are_the_stored_raw_pages_with_their_status_and_headers(
    everything: Written, store: Store, sql: sqlite3.Connection
) -> None:
    captures = captures_by_uri_and_date(sql)
    responses = [r for r in everything.records if r.type == "response"]
    assert responses
    statuses = set()
    for record in responses:
        sha, status, _, _ = captures[record.headers["WARC-Target-URI"], record.headers["WARC-Date"]]
        assert record.payload == store.raw_page(sha)
        assert record.headers["WARC-Payload-Digest"] == sha1_digest(record.payload)
        assert record.status == str(status)
        assert http_header(record, "Content-Length") == [str(len(record.payload))]
        assert not http_header(record, "Transfer-Encoding")
        statuses.add(status)
    assert {200, 404} <= statuses  # takedowns and lagging mirrors' 404 pages are kept too
    assert all(
        r.headers["WARC-Date"].endswith("Z") and "." in r.headers["WARC-Date"] for r in responses
    )


def test_a_body_seen_before_is_a_revisit_of_the_first_response_with_it(
    everything: Written, sql: sqlite3.Connection
) -> None:
    captures = captures_by_uri_and_date(sql)
    responses: dict[str, Record] = {}
    first_by_digest: dict[str, Record] = {}
    for record in everything.records:
        if record.type == "response":
            responses[record.headers["WARC-Record-ID"]] = record
            first_by_digest.setdefault(record.headers["WARC-Payload-Digest"], record)
        if record.type != "revisit":
            continue
        assert record.headers["WARC-Profile"] == REVISIT_PROFILE
        assert record.payload == b""
        original = responses[record.headers["WARC-Refers-To"]]  # written before it
        assert original is first_by_digest[record.headers["WARC-Payload-Digest"]]
        assert record.headers["WARC-Refers-To-Target-URI"] == original.headers["WARC-Target-URI"]
        assert record.headers["WARC-Refers-To-Date"] == original.headers["WARC-Date"]
        sha, status, _, _ = captures[record.headers["WARC-Target-URI"], record.headers["WARC-Date"]]
        original_sha = captures[original.headers["WARC-Target-URI"], original.headers["WARC-Date"]][
            0
        ]
        assert sha == original_sha
        assert record.status == str(status)


def test_each_request_is_concurrent_to_its_response_and_names_the_logical_host(
    everything: Written,
) -> None:
    records = everything.records[1:]
    assert len(records) % 2 == 0
    for answer, request in zip(records[::2], records[1::2], strict=True):
        assert answer.type in ("response", "revisit")
        assert request.type == "request"
        assert request.headers["WARC-Concurrent-To"] == answer.headers["WARC-Record-ID"]
        url = answer.headers["WARC-Target-URI"]
        assert request.headers["WARC-Target-URI"] == url
        assert request.headers["WARC-Date"] == answer.headers["WARC-Date"]
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        assert request.request_line == f"GET {target} HTTP/1.1"
        assert http_header(request, "Host") == [parts.netloc]
        assert http_header(request, "User-Agent")[0].startswith("newsmirror/")


def test_target_uris_are_logical_urls_and_the_loopback_origin_appears_nowhere(
    everything: Written,
) -> None:
    uris = {r.headers["WARC-Target-URI"] for r in everything.records if r.type != "warcinfo"}
    assert {urlsplit(uri).hostname for uri in uris} == HOSTS
    assert b"127.0.0.1" not in gzip.decompress(everything.path.read_bytes())


def gzip_members(data: bytes) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, decompressed) of each gzip member, in order."""
    offset = 0
    while offset < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        content = inflater.decompress(data[offset:])
        assert inflater.eof
        length = len(data) - offset - len(inflater.unused_data)
        yield offset, length, content
        offset += length


def test_every_record_is_its_own_gzip_member(everything: Written) -> None:
    members = list(gzip_members(everything.path.read_bytes()))
    assert len(members) == len(everything.records)
    for (offset, length, content), record in zip(members, everything.records, strict=True):
        assert content.startswith(b"WARC/1.1\r\n")
        assert content.count(b"\r\nWARC-Type: ") == 1
        assert (offset, length) == (record.offset, record.length)


def read_cdxj(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == sorted(lines)
    parsed = []
    for line in lines:
        key, timestamp, fields = line.split(" ", 2)
        parsed.append((key, timestamp, json.loads(fields)))
    return parsed


def test_cdxj_has_one_sorted_line_per_response_and_revisit_pointing_at_it(
    everything: Written,
) -> None:
    index = cdxj_path(everything.path)
    assert index.name == "captures.cdxj"
    lines = read_cdxj(index)
    indexed = [r for r in everything.records if r.type in ("response", "revisit")]
    assert len(lines) == len(indexed)
    data = everything.path.read_bytes()
    by_offset = {r.offset: r for r in indexed}
    for key, timestamp, fields in lines:
        offset, length = int(fields["offset"]), int(fields["length"])
        record = by_offset[offset]
        assert length == record.length
        assert fields["filename"] == "captures.warc.gz"
        assert fields["url"] == record.headers["WARC-Target-URI"]
        assert fields["digest"] == record.headers["WARC-Payload-Digest"]
        assert fields["status"] == record.status
        assert timestamp == "".join(ch for ch in record.headers["WARC-Date"] if ch.isdigit())[:14]
        assert key == warc.url_key(fields["url"])
        media = http_header(record, "Content-Type")[0].split(";")[0].strip()
        assert fields["mime"] == ("warc/revisit" if record.type == "revisit" else media)
        member = data[offset : offset + length]
        assert fields["recordDigest"] == "sha256:" + hashlib.sha256(member).hexdigest()
        (alone,) = list(ArchiveIterator(io.BytesIO(member)))  # seeking there gives the record
        assert alone.rec_headers.get_header("WARC-Record-ID") == record.headers["WARC-Record-ID"]


def test_cdxj_matches_what_cdxj_indexer_makes_of_the_warc(everything: Written) -> None:
    """pywb and ReplayWeb.page read indexes made by cdxj-indexer: ours must say the same."""
    made = io.StringIO()
    CDXJIndexer(made, [str(everything.path)], sort=True).process_all()
    ours = cdxj_path(everything.path).read_text(encoding="utf-8").splitlines()
    stripped = []
    for line in ours:
        key, timestamp, fields = line.split(" ", 2)
        values = json.loads(fields)
        del values["recordDigest"]
        stripped.append(f"{key} {timestamp} {json.dumps(values)}")
    assert stripped == made.getvalue().splitlines()


def test_key_export_holds_only_that_story(
    tmp_path: Path, store: Store, sql: sqlite3.Connection
) -> None:
    # A story edited on the primary in phase 2: more than one body, on several hosts.
    (key,) = sql.execute(
        "SELECT article_key FROM captures WHERE article_key IS NOT NULL AND raw_sha256 IS NOT NULL "
        "GROUP BY article_key ORDER BY count(DISTINCT raw_sha256) DESC, article_key LIMIT 1"
    ).fetchone()
    written = export_warc(tmp_path, store, Selection(keys=(key,)))
    captures = captures_by_uri_and_date(sql, "article_key = ?", (key,))
    answers = [r for r in written.records if r.type in ("response", "revisit")]
    assert {(r.headers["WARC-Target-URI"], r.headers["WARC-Date"]) for r in answers} == {
        uri_date for uri_date, (sha, *_) in captures.items() if sha
    }
    assert written.counts["captures_skipped"] == sum(1 for sha, *_ in captures.values() if not sha)
    assert len({urlsplit(r.headers["WARC-Target-URI"]).hostname for r in answers}) > 1
    assert len(read_cdxj(cdxj_path(written.path))) == len(answers)


def test_host_filter_keeps_that_hosts_captures_of_the_stories_it_served(
    tmp_path: Path, store: Store, sql: sqlite3.Connection
) -> None:
    written = export_warc(tmp_path, store, Selection(host=MIRROR))
    expected = {
        uri_date
        for uri_date, (sha, _, key, host) in captures_by_uri_and_date(
            sql,
            "host = ? AND article_key IN (SELECT article_key FROM article_hosts WHERE host = ?)",
            (MIRROR, MIRROR),
        ).items()
        if sha
    }
    answers = [r for r in written.records if r.type in ("response", "revisit")]
    assert expected
    assert {(r.headers["WARC-Target-URI"], r.headers["WARC-Date"]) for r in answers} == expected


def test_pages_of_captures_are_read_by_id_whatever_the_page_size(
    tmp_path: Path, store: Store, everything: Written, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warc, "PAGE", 7)
    small = export_warc(tmp_path, store, Selection())
    assert small.counts == everything.counts
    assert [(r.type, r.headers.get("WARC-Target-URI")) for r in small.records] == [
        (r.type, r.headers.get("WARC-Target-URI")) for r in everything.records
    ]


def test_export_writes_a_manifest_beside_and_refuses_an_existing_out(
    tmp_path: Path, store: Store, db_path: Path
) -> None:
    out = tmp_path / "site.warc.gz"
    manifest = export(
        store, db_path, Selection(site="presstv"), out, overwrite=False, with_history=False
    )
    index = tmp_path / "site.cdxj"
    on_disk = json.loads((tmp_path / "site.warc.gz.manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest
    assert manifest["format"] == "warc"
    assert manifest["filters"] == {"site": "presstv"}
    assert manifest["rows"]["records"] == len(read_records(out))
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        "site.warc.gz": hashlib.sha256(out.read_bytes()).hexdigest(),
        "site.cdxj": hashlib.sha256(index.read_bytes()).hexdigest(),
    }
    assert (
        json.loads(index.read_text().splitlines()[0].split(" ", 2)[2])["filename"] == "site.warc.gz"
    )
    before = out.read_bytes()
    with pytest.raises(OutputError, match="exists"):
        export(store, db_path, Selection(), out, overwrite=False, with_history=False)
    assert out.read_bytes() == before
    export(
        store, db_path, Selection(keys=("presstv:780015",)), out, overwrite=True, with_history=False
    )
    assert len(read_records(out)) < len(read_records_bytes(before))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "site.cdxj",
        "site.warc.gz",
        "site.warc.gz.manifest.json",
    ]


def read_records_bytes(data: bytes) -> list[Any]:
    return list(ArchiveIterator(io.BytesIO(data)))


def test_an_existing_index_is_refused_too(tmp_path: Path, store: Store, db_path: Path) -> None:
    (tmp_path / "site.cdxj").write_text("mine\n")
    with pytest.raises(OutputError, match=r"site\.cdxj exists"):
        export(
            store,
            db_path,
            Selection(),
            tmp_path / "site.warc.gz",
            overwrite=False,
            with_history=False,
        )
    assert (tmp_path / "site.cdxj").read_text() == "mine\n"
    assert not (tmp_path / "site.warc.gz").exists()


def test_index_names_beside_the_warc() -> None:
    assert cdxj_path(Path("d/a.warc.gz")) == Path("d/a.cdxj")
    assert cdxj_path(Path("d/a.warc")) == Path("d/a.cdxj")
    assert cdxj_path(Path("d/a")) == Path("d/a.cdxj")


def test_stored_headers_are_made_true_of_the_stored_body() -> None:
    stored = {
        "Content-Type": ["text/html"],
        "Transfer-Encoding": ["chunked"],
        "Content-Length": ["10"],
        "Content-Encoding": ["x-unknown"],  # Scrapy leaves only codings it did not undo
        "X-Evil": ["a\r\nSet-Cookie: b"],
    }
    headers = response_headers(200, json.dumps(stored), 1234)
    assert headers.protocol == "HTTP/1.1"
    assert headers.statusline == "200 OK"
    assert headers.headers == [
        ("Content-Type", "text/html"),
        ("Content-Length", "1234"),
        ("Content-Encoding", "x-unknown"),
        ("X-Evil", "a  Set-Cookie: b"),
        ("X-Newsmirror-Original-Transfer-Encoding", "chunked"),
        ("X-Newsmirror-Original-Content-Length", "10"),
    ]
    same = response_headers(404, json.dumps({"Content-Length": ["5"]}), 5)
    assert (same.statusline, same.headers) == ("404 Not Found", [("Content-Length", "5")])
    assert response_headers(599, None, 0).statusline == "599 "
