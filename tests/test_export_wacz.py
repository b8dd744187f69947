"""WACZ export of a real crawl: `wacz validate` accepts it, and its WARC, index and pages agree."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zipfile import ZIP_STORED, ZipFile

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.export.warc import warc_date
from crawler.replay import ReplaySite
from tests.conftest import crawl_two_phases, export_cli

pytestmark = pytest.mark.crawl

WACZ = Path(sys.executable).with_name("wacz")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory, replay_site: ReplaySite) -> Path:
    return crawl_two_phases(tmp_path_factory.mktemp("wacz") / "archive.db", replay_site)


@pytest.fixture(scope="module")
def sql(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path)
    yield conn
    conn.close()


def export(db: Path, out: Path, *args: str) -> tuple[int, str, str]:
    return export_cli(db, out, "--format", "wacz", *args)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory, db_path: Path) -> Path:
    out = tmp_path_factory.mktemp("package") / "archive.wacz"
    code, _, stderr = export(db_path, out)
    assert code == 0, stderr
    return out


def wacz_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(WACZ), "validate", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def warc_records(archive: ZipFile) -> list[dict[str, Any]]:
    """Every record of the WARC inside, digests checked as warcio reads."""
    records = []
    with archive.open("archive/data.warc.gz") as handle:
        iterator = ArchiveIterator(io.BytesIO(handle.read()), check_digests="raise")
        for record in iterator:
            record.raw_stream.read()
            records.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "date": record.rec_headers.get_header("WARC-Date"),
                    "id": record.rec_headers.get_header("WARC-Record-ID"),
                    "offset": iterator.get_record_offset(),
                    "length": iterator.get_record_length(),
                }
            )
    return records


def index_lines(archive: ZipFile) -> list[str]:
    """The CDXJ lines of the compressed index, read block by block through index.idx."""
    blocks = archive.read("indexes/index.cdx.gz")
    idx = archive.read("indexes/index.idx").decode("utf-8").splitlines()
    assert idx[0].startswith("!meta 0 ")
    assert json.loads(idx[0][len("!meta 0 ") :])["format"] == "cdxj-gzip-1.0"
    lines: list[str] = []
    for entry in idx[1:]:
        surt, timestamp, fields = entry.split(" ", 2)
        where = json.loads(fields)
        block = blocks[where["offset"] : where["offset"] + where["length"]]
        text = gzip.decompress(block).decode("utf-8").splitlines()
        assert text[0].split(" ", 2)[:2] == [surt, timestamp]
        lines += text
    assert len(blocks) == sum(json.loads(e.split(" ", 2)[2])["length"] for e in idx[1:])
    return lines


def test_wacz_validate_accepts_the_package(package: Path) -> None:
    result = wacz_validate(package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout


def test_wacz_validate_rejects_a_tampered_package(package: Path, tmp_path: Path) -> None:
    """The check above is a real one: change one page and validation fails."""
    tampered = tmp_path / "tampered.wacz"
    with ZipFile(package) as source, ZipFile(tampered, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "pages/pages.jsonl":
                data += b'{"id": "x", "url": "https://www.presstv.ir/x", "ts": "2026"}\n'
            target.writestr(info, data)
    result = wacz_validate(tampered)
    assert result.returncode != 0
    assert "Validation failed" in result.stdout


def test_package_holds_the_warc_its_index_and_pages_stored_for_range_reads(
    package: Path,
) -> None:
    with ZipFile(package) as archive:
        names = {info.filename: info for info in archive.infolist()}
        assert set(names) == {
            "archive/data.warc.gz",
            "indexes/index.cdx.gz",
            "indexes/index.idx",
            "pages/pages.jsonl",
            "datapackage.json",
            "datapackage-digest.json",
        }
        # A replayer reads one record or one index block by byte range: those are stored.
        assert names["archive/data.warc.gz"].compress_type == ZIP_STORED
        assert names["indexes/index.cdx.gz"].compress_type == ZIP_STORED
        described = json.loads(archive.read("datapackage.json"))
    assert described["wacz_version"] == "1.1.1"
    assert {r["path"] for r in described["resources"]} == set(names) - {
        "datapackage.json",
        "datapackage-digest.json",
    }


def test_warc_inside_holds_every_capture_with_a_body(
    package: Path, sql: sqlite3.Connection
) -> None:
    with ZipFile(package) as archive:
        records = warc_records(archive)
    with_body, distinct = sql.execute(
        "SELECT count(raw_sha256), count(DISTINCT raw_sha256) FROM captures"
    ).fetchone()
    types = [record["type"] for record in records]
    assert types[0] == "warcinfo"
    assert types.count("response") == distinct
    assert types.count("revisit") == with_body - distinct
    assert types.count("request") == with_body
    manifest = json.loads(package.with_name("archive.wacz.manifest.json").read_text("utf-8"))
    assert manifest["rows"]["records"] == len(records)


def test_index_points_at_each_response_and_revisit_record(package: Path) -> None:
    with ZipFile(package) as archive:
        records = warc_records(archive)
        lines = index_lines(archive)
        warc = archive.read("archive/data.warc.gz")
    assert lines == sorted(lines)
    by_offset = {r["offset"]: r for r in records if r["type"] in ("response", "revisit")}
    assert len(lines) == len(by_offset)
    for line in lines:
        fields = json.loads(line.split(" ", 2)[2])
        record = by_offset[int(fields["offset"])]
        assert int(fields["length"]) == record["length"]
        assert fields["url"] == record["uri"]
        assert fields["filename"] == "data.warc.gz"
        member = warc[int(fields["offset"]) : int(fields["offset"]) + int(fields["length"])]
        (alone,) = list(ArchiveIterator(io.BytesIO(member)))
        assert alone.rec_headers.get_header("WARC-Record-ID") == record["id"]


def test_pages_list_each_story_at_a_200_capture_in_the_warc(
    package: Path, sql: sqlite3.Connection
) -> None:
    with ZipFile(package) as archive:
        header, *pages = [
            json.loads(line) for line in archive.read("pages/pages.jsonl").splitlines()
        ]
        answers = {
            (r["uri"], r["date"])
            for r in warc_records(archive)
            if r["type"] in ("response", "revisit")
        }
    assert header["format"] == "json-pages-1.0"
    stories = dict(sql.execute("SELECT key, title FROM articles").fetchall())
    served = {
        key
        for (key,) in sql.execute(
            "SELECT DISTINCT article_key FROM captures WHERE status = 200 "
            "AND raw_sha256 IS NOT NULL AND outcome IN ('article', 'unchanged')"
        )
    }
    assert [page["id"] for page in pages] == sorted(served)
    assert served <= set(stories)
    captures = {
        (url, warc_date(at))
        for url, at in sql.execute("SELECT url, fetched_at FROM captures WHERE status = 200")
    }
    for page in pages:
        assert page["title"] == stories[page["id"]]
        assert (page["url"], page["ts"]) in answers
        assert (page["url"], page["ts"]) in captures


def test_key_filter_packs_only_that_story(
    db_path: Path, tmp_path: Path, sql: sqlite3.Connection
) -> None:
    out = tmp_path / "one.wacz"
    code, stdout, stderr = export(db_path, out, "--key", "presstv:780007")
    assert code == 0, stderr
    assert "1 pages" in stdout
    assert wacz_validate(out).returncode == 0
    with ZipFile(out) as archive:
        _, page = [json.loads(line) for line in archive.read("pages/pages.jsonl").splitlines()]
        uris = {r["uri"] for r in warc_records(archive) if r["type"] != "warcinfo"}
    assert page["id"] == "presstv:780007"
    urls = {
        url
        for (url,) in sql.execute(
            "SELECT url FROM captures WHERE article_key = ? AND raw_sha256 IS NOT NULL",
            ["presstv:780007"],
        )
    }
    assert uris == urls


def test_an_existing_package_is_refused(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "taken.wacz"
    out.write_bytes(b"mine")
    code, stdout, stderr = export(db_path, out)
    assert (code, stdout) == (2, "")
    assert "exists" in stderr
    assert stderr.count("\n") == 1
    assert out.read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.wacz"]


def test_overwrite_replaces_package_and_manifest(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.wacz"
    assert export(db_path, out, "--key", "presstv:780007")[0] == 0
    code, _, stderr = export(db_path, out, "--overwrite")
    assert code == 0, stderr
    assert wacz_validate(out).returncode == 0
    manifest = json.loads((tmp_path / "again.wacz.manifest.json").read_text("utf-8"))
    assert manifest["filters"] == {}
    assert manifest["rows"]["pages"] > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.wacz", "again.wacz.manifest.json"]


@pytest.mark.skipif(shutil.which("unzip") is None, reason="needs the unzip tool")
def test_common_unzip_tools_read_the_streamed_zip64_members(package: Path) -> None:
    result = subprocess.run(
        ["unzip", "-tq", str(package)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
