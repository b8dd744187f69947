"""BagIt export of a real crawl: bagit-python and frictionless validate it, its payload is the
same data as the single-file exports, and bag-info.txt says where it came from."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import bagit
import frictionless
import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler import __version__
from crawler.replay import ReplaySite
from tests.conftest import crawl_two_phases, export_cli

pytestmark = pytest.mark.crawl

PAYLOAD = {
    "data/stories.jsonl",
    "data/stories.parquet",
    "data/captures.warc.gz",
    "data/captures.cdxj",
    "data/datapackage.json",
}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory: pytest.TempPathFactory, replay_site: ReplaySite) -> Path:
    return crawl_two_phases(tmp_path_factory.mktemp("bagit") / "archive.db", replay_site)


@pytest.fixture(scope="module")
def sql(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(db_path)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def bag(tmp_path_factory: pytest.TempPathFactory, db_path: Path) -> Path:
    out = tmp_path_factory.mktemp("bag") / "iran"
    code, _, stderr = export_cli(
        db_path,
        out,
        "--format", "bagit", "--section", "Iran", "--since", "2026-11-01", "--with-history",
        "--bag-info", "Source-Organization=Example Archive",
        "--bag-info", "Contact-Email=archive@example.org",
    )  # fmt: skip
    assert code == 0, stderr
    return out


def bag_info(path: Path) -> dict[str, str]:
    return dict(bagit.Bag(str(path)).info)


def selected_keys(sql: sqlite3.Connection) -> list[str]:
    rows = sql.execute(
        "SELECT key FROM articles WHERE (section = 'Iran' OR section LIKE 'Iran / %') "
        "AND substr(published_at, 1, 10) >= '2026-11-01' ORDER BY key"
    )
    return [key for (key,) in rows]


def test_bagit_validates_the_bag_and_every_payload_checksum(bag: Path) -> None:
    opened = bagit.Bag(str(bag))
    opened.validate()  # raises BagValidationError on any missing file or checksum
    assert opened.algorithms == ["sha256"]
    assert set(opened.payload_files()) == PAYLOAD
    assert (bag / "bagit.txt").read_text("utf-8").startswith("BagIt-Version: ")


def test_bagit_notices_a_changed_payload_file(bag: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bag, copy)
    with (copy / "data" / "stories.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("{}\n")
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(copy)).validate()


# frictionless 5 leaves the byte stream of a `file` resource open once it has hashed it;
# collected here, in this test, so the warning is ignored only for frictionless's leak.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_frictionless_validates_the_data_package_row_by_row(bag: Path, tmp_path: Path) -> None:
    descriptor = bag / "data" / "datapackage.json"
    report = frictionless.validate(str(descriptor))
    gc.collect()
    assert report.valid, report.flatten(["resourceName", "type", "message"])
    package = json.loads(descriptor.read_text("utf-8"))
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == {"stories", "stories-parquet", "captures-warc", "captures-cdxj"}
    assert {r["path"] for r in resources.values()} == {
        Path(p).name for p in PAYLOAD - {"data/datapackage.json"}
    }
    for name in ("stories", "stories-parquet"):
        fields = {f["name"]: f["type"] for f in resources[name]["schema"]["fields"]}
        assert fields["published_at"] == "datetime"
        assert fields["authors"] == "array"
        assert fields["word_count"] == "integer"
    # The check is a real one: one bad cell in one row makes the package invalid.
    (tmp_path / "data").mkdir()
    for name in ("datapackage.json", "stories.jsonl"):
        (tmp_path / "data" / name).write_bytes((bag / "data" / name).read_bytes())
    lines = (tmp_path / "data" / "stories.jsonl").read_text("utf-8").splitlines()
    row = json.loads(lines[0])
    row["word_count"] = "many"
    lines[0] = json.dumps(row, ensure_ascii=False)
    (tmp_path / "data" / "stories.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad = frictionless.Resource(
        {**resources["stories"], "path": "stories.jsonl"}, basepath=str(tmp_path / "data")
    )
    report = frictionless.validate(bad)
    assert not report.valid
    assert "type-error" in {error[0] for error in report.flatten(["type"])}


def test_payload_holds_the_selected_stories_as_jsonl_parquet_and_warc(
    bag: Path, sql: sqlite3.Connection
) -> None:
    keys = selected_keys(sql)
    assert keys
    lines = (bag / "data" / "stories.jsonl").read_text("utf-8").splitlines()
    stories = [json.loads(line) for line in lines]
    assert [story["key"] for story in stories] == keys
    assert all("versions" in story and "captures" in story for story in stories)
    table = pq.read_table(bag / "data" / "stories.parquet")
    assert table.column("key").to_pylist() == keys
    with (bag / "data" / "captures.warc.gz").open("rb") as handle:
        uris = {
            record.rec_headers.get_header("WARC-Target-URI")
            for record in ArchiveIterator(handle, check_digests="raise")
            if record.rec_type == "response"
        }
    marks = ", ".join("?" for _ in keys)
    stored = {
        url
        for (url,) in sql.execute(
            f"SELECT url FROM captures WHERE raw_sha256 IS NOT NULL AND article_key IN ({marks})",  # noqa: S608
            keys,
        )
    }
    assert uris <= stored
    assert len((bag / "data" / "captures.cdxj").read_text("utf-8").splitlines()) >= len(uris)


def test_payload_tables_are_the_same_bytes_as_single_file_exports(
    bag: Path, db_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "iran.jsonl"
    code, _, stderr = export_cli(
        db_path, out, "--format", "jsonl", "--section", "Iran", "--since", "2026-11-01",
        "--with-history",
    )  # fmt: skip
    assert code == 0, stderr
    assert out.read_bytes() == (bag / "data" / "stories.jsonl").read_bytes()


def test_bag_info_names_source_dates_filters_and_tool_version(
    bag: Path, db_path: Path, sql: sqlite3.Connection
) -> None:
    info = bag_info(bag)
    assert info["Source-Organization"] == "Example Archive"  # given with --bag-info
    assert info["Contact-Email"] == "archive@example.org"
    assert info["Newsmirror-Version"] == __version__
    assert info["Bag-Software-Agent"].startswith(f"newsmirror {__version__} ")
    assert info["Source-Database"].startswith(str(db_path.resolve()))
    assert json.loads(info["Export-Filters"]) == {"since": "2026-11-01", "section": "Iran"}
    assert info["Export-With-History"] == "yes"
    first, last = sql.execute(
        "SELECT min(substr(published_at, 1, 10)), max(substr(published_at, 1, 10)) FROM articles "
        "WHERE (section = 'Iran' OR section LIKE 'Iran / %') "
        "AND substr(published_at, 1, 10) >= '2026-11-01'"
    ).fetchone()
    assert info["Published-Dates"] == f"{first}/{last}"
    assert len(info["Bagging-Date"]) == 10
    assert info["Rows-Stories"] == str(len(selected_keys(sql)))
    assert "Payload-Oxum" in info


def test_manifest_inside_lists_every_file_with_its_sha256_and_is_covered_by_the_bag(
    bag: Path, sql: sqlite3.Connection
) -> None:
    manifest = json.loads((bag / "manifest.json").read_text("utf-8"))
    assert manifest["format"] == "bagit"
    assert manifest["filters"] == {"since": "2026-11-01", "section": "Iran"}
    assert manifest["rows"]["stories"] == len(selected_keys(sql))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    expected = {
        p.relative_to(bag).as_posix()
        for p in bag.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", "tagmanifest-sha256.txt")
    }
    assert set(listed) == expected
    for name, entry in listed.items():
        data = (bag / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entry["bytes"] == len(data)
    tags = (bag / "tagmanifest-sha256.txt").read_text("utf-8")
    assert hashlib.sha256((bag / "manifest.json").read_bytes()).hexdigest() in tags


def test_an_existing_bag_is_refused_unless_overwrite(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "bag"
    assert export_cli(db_path, out, "--format", "bagit", "--key", "presstv:780007")[0] == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    code, stdout, stderr = export_cli(db_path, out, "--format", "bagit")
    assert (code, stdout) == (2, "")
    assert "exists" in stderr
    assert stderr.count("\n") == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    code, _, stderr = export_cli(db_path, out, "--format", "bagit", "--overwrite")
    assert code == 0, stderr
    bagit.Bag(str(out)).validate()
    assert int(bag_info(out)["Rows-Stories"]) > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag"]  # no staging left behind


def test_overwrite_never_replaces_a_directory_that_is_not_an_export_cli(
    db_path: Path, tmp_path: Path
) -> None:
    """A mistyped --out with --overwrite must not delete someone's folder."""
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious", encoding="utf-8")
    for export_format in ("bagit", "jsonl"):
        code, stdout, stderr = export_cli(db_path, folder, "--format", export_format, "--overwrite")
        assert (code, stdout) == (2, ""), export_format
        assert stderr.count("\n") == 1
        assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["papers"]
