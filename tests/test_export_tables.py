"""JSONL, CSV and Parquet exports of a real crawl: every column, the right stories, the manifest."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.export import csv_export, jsonl, parquet
from crawler.export.selection import Selection
from crawler.items import Capture
from crawler.replay import ReplayConfig, ReplaySite, build_site, serve
from crawler.storage import Store
from tests.conftest import FAST, connect_args, export_cli, run_newsmirror

pytestmark = pytest.mark.crawl

NASTY_BODY = (
    "He said \"no\", then 'maybe'; a comma, a tab\there.\r\n"
    "A CRLF above, a bare CR\rhere, and a blank line below.\n\n"
    "=SUM(A1:A2) stays text; emoji 🛰️; Persian متن; line\u2028separator, para\u2029graph, nel\x85."
)


def _recheck_days(site: ReplaySite) -> str:
    """A 7-day window on the replay site's calendar, whatever day the tests run."""
    behind = dt.datetime.now(dt.UTC) - site.at_phase(2).truth.now
    return f"{behind.total_seconds() / 86400 + 7:.3f}"


def _nasty_captures() -> list[Capture]:
    """Stories of another site with the content CSV and JSON Lines get wrong most often."""
    nasty = {
        "key": "testsite:1",
        "site": "testsite",
        "source_id": "1",
        "canonical_url": "https://news.example.org/story/1",
        "title": 'Quotes "inside", commas, and a\nline break',
        "lead": "",
        "body": NASTY_BODY,
        "section": "World / Asia",
        "published_at": "2026-11-02T23:30:00-05:00",  # 2026-11-03 in UTC: days are as printed
        "authors": ['Ann "A." O\'Neil', "Zoë, Jr."],
        "tags": ["a,b", 'quote"d', "ünïcode"],
        "language": "fa",
        "extraction": "generic",
    }
    bare = {
        "key": "testsite:2",
        "site": "testsite",
        "source_id": "2",
        "canonical_url": "https://news.example.org/story/2",
        "title": "No date, no lists",
        "body": "Short.",
        "authors": [],
        "tags": [],
    }
    return [
        Capture(
            site="testsite",
            url=str(article["canonical_url"]),
            host="news.example.org",
            fetched_at="2026-11-25T10:00:00.000+00:00",
            outcome="article",
            page_type="article",
            status=200,
            headers={"Content-Type": ["text/html; charset=utf-8"]},
            content_type="text/html",
            body=f"<html><body>{article['title']}</body></html>".encode(),
            article_key=str(article["key"]),
            article=dict(article),
        )
        for article in (nasty, bare)
    ]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The replay site crawled in phase 1 and again in phase 2 (edits, takedowns), plus two
    hand-made stories of another site."""
    site = build_site(ReplayConfig())
    path = tmp_path_factory.mktemp("export") / "archive.db"
    with serve(site) as server:
        for phase in (1, 2):
            server.set_phase(phase)
            result = run_newsmirror(
                "crawl", "presstv", "--db", str(path), *connect_args(server), *FAST,
                "--recheck-days", _recheck_days(site),
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
    with Store(path) as store:
        run_id = store.begin_run("testsite", {"test": True})
        store.write_captures(run_id, _nasty_captures())
        store.finish_run(run_id, "finished", {})
    return path


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params or []).fetchall()
    finally:
        conn.close()


def _db_stories(db: Path) -> dict[str, dict[str, Any]]:
    return {row["key"]: dict(row) for row in _query(db, "SELECT * FROM articles")}


def _total(db: Path) -> int:
    return int(_query(db, "SELECT count(*) FROM articles")[0][0])


def _columns(db: Path) -> list[str]:
    return [row["name"] for row in _query(db, "PRAGMA table_info(articles)")]


def _jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [json.loads(line) for line in handle]


def _files(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


# --- JSONL -----------------------------------------------------------------------------------


def test_jsonl_holds_every_articles_column_one_line_per_story(archive: Path, outdir: Path) -> None:
    out = outdir / "stories.jsonl"
    code, stdout, stderr = export_cli(archive, out, "--format", "jsonl")
    assert code == 0, stderr
    assert stdout.startswith(f"Exported {_total(archive)} stories as jsonl to {out}: 1 file, ")
    assert stdout.count("\n") == 1
    lines = out.read_bytes().split(b"\n")
    assert lines[-1] == b""
    rows = [json.loads(line) for line in lines[:-1]]
    stories = _db_stories(archive)
    assert len(rows) == len(stories) == _total(archive)
    assert [row["key"] for row in rows] == sorted(stories)
    columns = _columns(archive)
    for row in rows:
        assert list(row) == columns
        expected = stories[row["key"]]
        for name in columns:
            if name in ("authors", "tags", "mirrors", "field_sources") and expected[name]:
                assert row[name] == json.loads(expected[name]), name
            else:
                assert row[name] == expected[name], name


def test_jsonl_keeps_each_story_on_one_line_for_every_reader(archive: Path, outdir: Path) -> None:
    out = outdir / "stories.jsonl"
    assert export_cli(archive, out, "--format", "jsonl", "--site", "testsite")[0] == 0
    text = out.read_text(encoding="utf-8")
    # str.splitlines() also breaks at U+2028, U+2029 and NEL: they are escaped.
    assert len(text.splitlines()) == 2
    nasty = json.loads(text.splitlines()[0])
    assert nasty["body"] == NASTY_BODY
    assert nasty["authors"] == ['Ann "A." O\'Neil', "Zoë, Jr."]
    assert "متن" in text  # not \u-escaped: ensure_ascii is off


FILTERS: dict[str, tuple[list[str], str, list[Any]]] = {
    "since": (["--since", "2026-11-03"], "substr(published_at, 1, 10) >= ?", ["2026-11-03"]),
    "until": (["--until", "2026-11-02"], "substr(published_at, 1, 10) <= ?", ["2026-11-02"]),
    "since_until": (
        ["--since", "2026-11-01", "--until", "2026-11-04"],
        "substr(published_at, 1, 10) BETWEEN ? AND ?",
        ["2026-11-01", "2026-11-04"],
    ),
    "section_with_subsections": (
        ["--section", "Iran"],
        "section = ? OR section LIKE ?",
        ["Iran", "Iran / %"],
    ),
    "subsection": (["--section", "World / Asia"], "section = ?", ["World / Asia"]),
    "host_mirror": (
        ["--host", "www.presstv.co.uk"],
        "key IN (SELECT article_key FROM article_hosts WHERE host = ?)",
        ["www.presstv.co.uk"],
    ),
    "host_lagging": (
        ["--host", "www.presstv.tv"],
        "key IN (SELECT article_key FROM article_hosts WHERE host = ?)",
        ["www.presstv.tv"],
    ),
    "site": (["--site", "testsite"], "site = ?", ["testsite"]),
    "keys": (
        ["--key", "presstv:780007", "--key", "testsite:1", "--key", "presstv:0"],
        "key IN (?, ?)",
        ["presstv:780007", "testsite:1"],
    ),
    "combined": (
        ["--site", "presstv", "--section", "Middle East", "--since", "2026-11-01"],
        "site = ? AND (section = ? OR section LIKE ?) AND substr(published_at, 1, 10) >= ?",
        ["presstv", "Middle East", "Middle East / %", "2026-11-01"],
    ),
}


@pytest.mark.parametrize("case", sorted(FILTERS))
def test_filters_select_exactly_the_stories_sql_selects(
    case: str, archive: Path, outdir: Path
) -> None:
    args, where, params = FILTERS[case]
    sql = f"SELECT key FROM articles WHERE {where}"  # noqa: S608 - conditions from FILTERS
    expected = [r["key"] for r in _query(archive, sql, params)]
    assert expected, case
    assert len(expected) < _total(archive) - 2 or case == "host_mirror"
    out = outdir / "selected.jsonl"
    code, _, stderr = export_cli(archive, out, "--format", "jsonl", *args)
    assert code == 0, stderr
    assert [row["key"] for row in _jsonl(out)] == sorted(expected)
    manifest = json.loads((outdir / "selected.jsonl.manifest.json").read_text("utf-8"))
    assert manifest["rows"] == {"stories": len(expected)}


def test_with_history_nests_versions_with_hosts_and_a_capture_summary(
    archive: Path, outdir: Path
) -> None:
    out = outdir / "history.jsonl"
    code, _, stderr = export_cli(archive, out, "--format", "jsonl", "--with-history")
    assert code == 0, stderr
    rows = {row["key"]: row for row in _jsonl(out)}
    edited = [key for key, row in rows.items() if row["version_count"] > 1]
    assert len(edited) >= 8
    for key, row in rows.items():
        versions = _query(
            archive,
            "SELECT * FROM versions WHERE article_key = ? ORDER BY first_seen_at, id",
            [key],
        )
        assert len(row["versions"]) == row["version_count"] == len(versions)
        for got, want in zip(row["versions"], versions, strict=True):
            assert got["content_hash"] == want["content_hash"]
            assert got["hosts"] == json.loads(want["hosts"])
            assert (got["title"], got["body"]) == (want["title"], want["body"])
            assert (got["first_seen_at"], got["last_seen_at"]) == (
                want["first_seen_at"],
                want["last_seen_at"],
            )
        counts = _query(
            archive,
            "SELECT host, outcome, count(*) AS n, min(fetched_at) AS first, "
            "max(fetched_at) AS last FROM captures WHERE article_key = ? GROUP BY host, outcome",
            [key],
        )
        summary = row["captures"]
        assert summary["total"] == sum(c["n"] for c in counts)
        assert summary["first"] == min(c["first"] for c in counts)
        assert summary["last"] == max(c["last"] for c in counts)
        assert summary["by_host"] == {
            host: {c["outcome"]: c["n"] for c in counts if c["host"] == host}
            for host in summary["by_host"]
        }
        assert set(summary["by_host"]) == {c["host"] for c in counts}
    # An edited story: its versions' hosts together are the story's mirrors.
    story = rows[edited[0]]
    assert {h for v in story["versions"] for h in v["hosts"]} == set(story["mirrors"])
    # Takedowns of phase 2 show in the summary, and hosts come primary first.
    gone = [
        r for r in rows.values() if "gone" in r["captures"]["by_host"].get("www.presstv.ir", {})
    ]
    assert gone
    assert next(iter(gone[0]["captures"]["by_host"])) == "www.presstv.ir"
    manifest = json.loads((outdir / "history.jsonl.manifest.json").read_text("utf-8"))
    assert manifest["rows"]["versions"] == _query(archive, "SELECT count(*) FROM versions")[0][0]
    assert manifest["with_history"] is True


# --- CSV -------------------------------------------------------------------------------------


def test_csv_is_rfc4180_and_round_trips_every_value(archive: Path, outdir: Path) -> None:
    out = outdir / "stories.csv"
    code, _, stderr = export_cli(archive, out, "--format", "csv")
    assert code == 0, stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfkey,site,")  # UTF-8 BOM, for spreadsheets
    assert raw.split(b"\r\n", 1)[0].decode("utf-8-sig") == ",".join(_columns(archive))
    assert raw.endswith(b"\r\n")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        records = list(reader)
    assert header == _columns(archive)
    stories = _db_stories(archive)
    assert len(records) == len(stories)
    for record in records:
        row = dict(zip(header, record, strict=True))
        expected = stories[row["key"]]
        for name in header:
            want = expected[name]
            if name in ("authors", "tags", "mirrors"):
                assert json.loads(row[name]) == json.loads(want), name
            else:
                assert row[name] == ("" if want is None else str(want)), name
    nasty = next(dict(zip(header, r, strict=True)) for r in records if r[0] == "testsite:1")
    assert nasty["body"] == NASTY_BODY
    assert json.loads(nasty["tags"]) == ["a,b", 'quote"d', "ünïcode"]


def test_csv_with_history_carries_versions_and_captures_as_json(
    archive: Path, outdir: Path
) -> None:
    out = outdir / "history.csv"
    assert (
        export_cli(archive, out, "--format", "csv", "--with-history", "--key", "presstv:780007")[0]
        == 0
    )
    with out.open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    versions = json.loads(row["versions"])
    assert len(versions) == int(row["version_count"]) == 2
    assert json.loads(row["captures"])["total"] >= 3


# --- Parquet ---------------------------------------------------------------------------------


def _instant(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    parsed = dt.datetime.fromisoformat(text)
    return parsed.astimezone(dt.UTC)


def test_parquet_columns_are_typed(archive: Path, outdir: Path) -> None:
    out = outdir / "stories.parquet"
    code, _, stderr = export_cli(archive, out, "--format", "parquet")
    assert code == 0, stderr
    schema = pq.read_schema(out)
    timestamp = pa.timestamp("us", tz="UTC")
    for name in ("published_at", "modified_at", "first_seen_at", "last_seen_at"):
        assert schema.field(name).type == timestamp, name
    for name in ("published_at_local", "modified_at_local", "title", "body", "field_sources"):
        assert schema.field(name).type == pa.string(), name
    for name in ("word_count", "version_count"):
        assert schema.field(name).type == pa.int64(), name
    for name in ("authors", "tags", "mirrors"):
        assert schema.field(name).type == pa.list_(pa.string()), name
    assert not schema.field("key").nullable
    assert set(schema.names) == {*_columns(archive), "published_at_local", "modified_at_local"}


def test_parquet_reads_back_to_the_database_values(archive: Path, outdir: Path) -> None:
    out = outdir / "stories.parquet"
    assert export_cli(archive, out, "--format", "parquet")[0] == 0
    rows = pq.read_table(out).to_pylist()
    stories = _db_stories(archive)
    assert [row["key"] for row in rows] == sorted(stories)
    for row in rows:
        expected = stories[row["key"]]
        for name, want in expected.items():
            got = row[name]
            if name in ("authors", "tags", "mirrors"):
                assert got == json.loads(want), name
            elif name in ("published_at", "modified_at", "first_seen_at", "last_seen_at"):
                assert got == _instant(want), name
            else:
                assert got == want, name
        assert row["published_at_local"] == expected["published_at"]
        assert row["modified_at_local"] == expected["modified_at"]
    nasty = next(row for row in rows if row["key"] == "testsite:1")
    assert nasty["published_at"] == dt.datetime(2026, 11, 3, 4, 30, tzinfo=dt.UTC)
    assert nasty["body"] == NASTY_BODY


def test_parquet_is_written_in_row_groups_as_it_streams(
    archive: Path, outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "ROW_GROUP", 7)
    out = outdir / "groups.parquet"
    assert export_cli(archive, out, "--format", "parquet", "--with-history")[0] == 0
    metadata = pq.ParquetFile(out).metadata
    total = _total(archive)
    assert metadata.num_rows == total
    assert metadata.num_row_groups == -(-total // 7)
    assert {metadata.row_group(i).num_rows for i in range(total // 7)} == {7}
    rows = {row["key"]: row for row in pq.read_table(out).to_pylist()}
    story = rows["presstv:780007"]
    assert [v["hosts"] for v in story["versions"]] == [
        json.loads(r["hosts"])
        for r in _query(
            archive,
            "SELECT hosts FROM versions WHERE article_key = ? ORDER BY first_seen_at, id",
            ["presstv:780007"],
        )
    ]
    assert isinstance(story["versions"][0]["first_seen_at"], dt.datetime)
    assert dict(story["captures"]["by_host"])["www.presstv.ir"] == [("article", 1)]


# --- Manifest, refusals, failures ------------------------------------------------------------


@pytest.mark.parametrize("export_format", ["jsonl", "csv", "parquet"])
def test_manifest_records_rows_filters_source_and_sha256(
    export_format: str, archive: Path, outdir: Path
) -> None:
    out = outdir / f"iran.{export_format}"
    code, stdout, stderr = export_cli(
        archive, out, "--format", export_format, "--section", "Iran", "--since", "2026-11-01"
    )
    assert code == 0, stderr
    manifest_file = outdir / f"iran.{export_format}.manifest.json"
    assert sorted(p.name for p in outdir.iterdir()) == sorted([out.name, manifest_file.name])
    manifest = json.loads(manifest_file.read_text("utf-8"))
    expected = _query(
        archive,
        "SELECT count(*) FROM articles WHERE (section = 'Iran' OR section LIKE 'Iran / %') "
        "AND substr(published_at, 1, 10) >= '2026-11-01'",
    )[0][0]
    assert manifest["format"] == export_format
    assert manifest["rows"] == {"stories": expected}
    assert manifest["filters"] == {"since": "2026-11-01", "section": "Iran"}
    assert manifest["source_db"]["path"] == str(archive.resolve())
    assert manifest["tool"] == "newsmirror"
    assert dt.datetime.fromisoformat(manifest["created_at"]).tzinfo is not None
    (entry,) = manifest["files"]
    assert entry == {
        "path": out.name,
        "bytes": out.stat().st_size,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }
    assert f"{expected} stories" in stdout
    assert str(manifest_file) in stdout


def test_an_existing_out_is_refused_and_left_untouched(archive: Path, outdir: Path) -> None:
    out = outdir / "taken.jsonl"
    out.write_text("precious\n", encoding="utf-8")
    before = _files(outdir)
    code, stdout, stderr = export_cli(archive, out, "--format", "jsonl")
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert "exists" in stderr
    assert "--overwrite" in stderr
    assert _files(outdir) == before


def test_an_existing_manifest_is_refused_too(archive: Path, outdir: Path) -> None:
    (outdir / "new.csv.manifest.json").write_text("{}", encoding="utf-8")
    before = _files(outdir)
    code, _, stderr = export_cli(archive, outdir / "new.csv", "--format", "csv")
    assert code == 2
    assert "new.csv.manifest.json exists" in stderr
    assert _files(outdir) == before


def test_overwrite_replaces_the_export_and_its_manifest(archive: Path, outdir: Path) -> None:
    out = outdir / "again.parquet"
    assert export_cli(archive, out, "--format", "parquet", "--site", "testsite")[0] == 0
    code, _, stderr = export_cli(archive, out, "--format", "parquet", "--overwrite")
    assert code == 0, stderr
    assert pq.ParquetFile(out).metadata.num_rows == _total(archive)
    manifest = json.loads((outdir / "again.parquet.manifest.json").read_text("utf-8"))
    assert manifest["rows"] == {"stories": _total(archive)}
    assert manifest["files"][0]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert sorted(p.name for p in outdir.iterdir()) == [
        "again.parquet",
        "again.parquet.manifest.json",
    ]


def test_a_failing_export_leaves_nothing_behind(
    archive: Path, outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    real = jsonl.story_line

    def failing(row: dict[str, Any]) -> str:
        written.append(row["key"])
        if len(written) > 30:
            raise OSError(28, "No space left on device")
        return real(row)

    monkeypatch.setattr(jsonl, "story_line", failing)
    code, stdout, stderr = export_cli(archive, outdir / "full.jsonl", "--format", "jsonl")
    assert code == 1
    assert stdout == ""
    assert stderr == "newsmirror: export failed, nothing written: No space left on device\n"
    assert list(outdir.iterdir()) == []


def test_a_failing_overwrite_keeps_the_previousexport_cli(
    archive: Path, outdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = outdir / "kept.csv"
    assert export_cli(archive, out, "--format", "csv", "--site", "testsite")[0] == 0
    before = _files(outdir)

    def failing(value: Any) -> Any:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(csv_export, "cell", failing)
    code, _, stderr = export_cli(archive, out, "--format", "csv", "--overwrite")
    assert code == 1
    assert "Input/output error" in stderr
    assert _files(outdir) == before
    assert sorted(p.name for p in outdir.iterdir()) == ["kept.csv", "kept.csv.manifest.json"]


BAD_INPUT = {
    "bad_date": (["--format", "jsonl", "--since", "2026-02-30"], "--since"),
    "until_before_since": (
        ["--format", "jsonl", "--since", "2026-11-05", "--until", "2026-11-01"],
        "is after",
    ),
    "unknown_format": (["--format", "xml"], "--format"),
    "no_format": ([], "--format"),
    "bag_info_without_bag": (["--format", "csv", "--bag-info", "A=b"], "--bag-info"),
    "bad_bag_info": (["--format", "bagit", "--bag-info", "no equals sign"], "NAME=VALUE"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_is_one_line_exit_2_and_creates_nothing(
    case: str, archive: Path, outdir: Path
) -> None:
    args, needle = BAD_INPUT[case]
    code, stdout, stderr = export_cli(archive, outdir / "x.out", *args)
    assert code == 2
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert needle in stderr
    assert list(outdir.iterdir()) == []


@pytest.mark.parametrize("db", ["not-sqlite", "missing", "directory"])
def test_a_bad_db_is_refused_and_nothing_is_created(db: str, tmp_path: Path, outdir: Path) -> None:
    path = tmp_path / "archive.db"
    if db == "not-sqlite":
        path.write_text("just text, not a database\n", encoding="utf-8")
    elif db == "directory":
        path.mkdir()
    code, _, stderr = export_cli(path, outdir / "x.jsonl", "--format", "jsonl")
    assert code == 2
    assert stderr.count("\n") == 1
    assert list(outdir.iterdir()) == []
    if db == "not-sqlite":
        assert path.read_text(encoding="utf-8") == "just text, not a database\n"


def test_an_unwritable_place_is_refused(archive: Path) -> None:
    # Not a directory anyone can create files in, root included.
    code, _, stderr = export_cli(
        archive, Path("/proc/newsmirror-test/x.jsonl"), "--format", "jsonl"
    )
    assert code == 2
    assert "/proc/newsmirror-test" in stderr
    assert stderr.count("\n") == 1


def test_export_in_a_real_process_prints_one_summary_line(archive: Path, outdir: Path) -> None:
    out = outdir / "cli.jsonl"
    result = run_newsmirror(
        "export",
        "--format",
        "jsonl",
        "--db",
        str(archive),
        "--out",
        str(out),
        "--key",
        "testsite:2",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"Exported 1 stories as jsonl to {out}: 1 file, ")


# --- Streaming -------------------------------------------------------------------------------


def _synthetic_captures(count: int) -> Iterator[list[Capture]]:
    batch: list[Capture] = []
    for n in range(count):
        key = f"presstv:{100_000 + n}"
        words = " ".join(f"w{(n * 7 + i) % 9973}" for i in range(120))
        article = {
            "key": key,
            "site": "presstv",
            "source_id": str(100_000 + n),
            "canonical_url": f"https://www.presstv.ir/Detail/{100_000 + n}",
            "title": f"Story {n}",
            "body": f"{words}\n\n{words[::-1]}",
            "section": "Iran",
            "published_at": f"2026-02-{1 + n % 28:02d}T10:00:00+03:30",
            "authors": [],
            "tags": ["Iran"],
            "language": "en",
            "extraction": "profile",
        }
        batch.append(
            Capture(
                site="presstv",
                url=str(article["canonical_url"]),
                host="www.presstv.ir",
                fetched_at="2026-03-01T00:00:00.000+00:00",
                outcome="article",
                page_type="article",
                status=200,
                body=f"<html>{n}</html>".encode(),
                article_key=key,
                article=article,
            )
        )
        if len(batch) == 1000:
            yield batch
            batch = []
    if batch:
        yield batch


@pytest.fixture(scope="module")
def big_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.db"
    with Store(path) as store:
        run_id = store.begin_run("presstv", {"test": True})
        for batch in _synthetic_captures(8_000):
            store.write_captures(run_id, batch)
        store.finish_run(run_id, "finished", {})
    return path


@pytest.mark.parametrize(
    ("export_format", "with_history"),
    [("jsonl", False), ("jsonl", True), ("csv", False), ("parquet", False)],
)
def test_memory_does_not_grow_with_the_number_of_stories(
    export_format: str,
    with_history: bool,
    big_archive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Parquet holds one row group in memory by design; smaller than the small export here.
    monkeypatch.setattr(parquet, "ROW_GROUP", 500)
    write = {
        "jsonl": jsonl.write_jsonl,
        "csv": csv_export.write_csv,
        "parquet": parquet.write_parquet,
    }[export_format]
    peaks: dict[int, int] = {}
    with Store(big_archive, readonly=True) as store:
        # A week of the four: about 2,000 stories, then all 8,000.
        for selection in (Selection(since="2026-02-01", until="2026-02-07"), Selection()):
            tracemalloc.start()
            try:
                rows = write(store, selection, tmp_path / "out", with_history=with_history)
                peaks[rows["stories"]] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    small, large = sorted(peaks)
    assert (small, large) == (2_002, 8_000)
    assert peaks[large] < 1.5 * peaks[small], peaks
