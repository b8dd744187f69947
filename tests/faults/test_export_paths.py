"""Export paths are never built from data: stories whose key, title, section and URL hold
`../`, `/`, backslashes, NUL bytes and absolute paths export, in every format, into exactly
the files `--out` names (and the manifest and index beside it), and nowhere else."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from crawler.export.formats import FORMATS, manifest_location
from crawler.export.warc import cdxj_path
from crawler.items import Capture
from crawler.storage import Store
from tests.conftest import run_newsmirror

TOKEN = f"nm-escape-{random.Random(6).getrandbits(48):x}"
HOSTILE = [
    f"../../../{TOKEN}-dots",
    f"/tmp/{TOKEN}-absolute",  # noqa: S108 - data naming a path, never a file we use
    f"a/b/{TOKEN}\0nul",
    f"..\\..\\{TOKEN}-backslash",
    f"{TOKEN}/../../../../etc/passwd",
]
OUT = {
    "jsonl": "stories.jsonl",
    "csv": "stories.csv",
    "parquet": "stories.parquet",
    "warc": "stories.warc.gz",
    "wacz": "stories.wacz",
    "bagit": "bag",
}


def _captures() -> list[Capture]:
    captures = []
    for n, evil in enumerate(HOSTILE, start=1):
        article = {
            "key": f"testsite:{evil}",
            "site": "testsite",
            "source_id": evil,
            "canonical_url": f"https://news.example.org/{evil.replace(chr(0), '%00')}",
            "title": evil,
            "lead": evil,
            "body": f"Story {n}: {evil}",
            "section": f"{evil} / {evil}",
            "published_at": f"2026-11-0{n}T10:00:00+00:00",
            "authors": [evil],
            "tags": [evil],
            "language": "en",
            "extraction": "generic",
        }
        captures.append(
            Capture(
                site="testsite",
                url=str(article["canonical_url"]),
                host="news.example.org",
                fetched_at=f"2026-11-0{n}T10:00:00.000+00:00",
                outcome="article",
                page_type="article",
                status=200,
                headers={"Content-Type": ["text/html; charset=utf-8"]},
                content_type="text/html",
                body=f"<html><body><h1>{evil}</h1></body></html>".encode(),
                article_key=str(article["key"]),
                article=article,
            )
        )
    return captures


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "archive.db"
    with Store(path) as store:
        run_id = store.begin_run("testsite", {"test": True})
        store.write_captures(run_id, _captures())
        store.finish_run(run_id, "finished", {})
    return path


def _tree(root: Path) -> set[Path]:
    return set(root.rglob("*"))


def _escaped() -> list[Path]:
    """Anything named after the hostile data where an escaping path would land."""
    places = (Path("/tmp"), Path("/"))  # noqa: S108 - where the data above points
    return [p for where in places for p in where.glob(f"*{TOKEN}*")]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_hostile_keys_titles_and_sections_export_only_into_out(
    archive: Path, tmp_path: Path, fmt: str
) -> None:
    workdir = tmp_path / "cwd"  # the export runs here: a relative path from data lands here
    target = tmp_path / "exports" / "deeper"
    workdir.mkdir()
    target.mkdir(parents=True)
    out = target / OUT[fmt]
    before = _tree(tmp_path) | _tree(archive.parent)
    result = run_newsmirror(
        "export", "--format", fmt, "--db", str(archive), "--out", str(out), cwd=workdir
    )
    assert result.returncode == 0, result.stderr
    allowed = {out, manifest_location(fmt, out)}
    # SQLite's own files beside the database (a read-only last connection leaves them).
    allowed_too = {archive.with_name(archive.name + end) for end in ("-wal", "-shm")}
    if fmt == "warc":
        allowed.add(cdxj_path(out))
    created = (_tree(tmp_path) | _tree(archive.parent)) - before
    outside = {p for p in created - allowed_too if p not in allowed and out not in p.parents}
    assert outside == set(), sorted(outside)
    assert allowed <= created
    assert [p for p in created if TOKEN in str(p)] == []  # no name inside a bag from data
    assert _escaped() == []
    if fmt == "jsonl":
        keys = {json.loads(line)["key"] for line in out.read_text(encoding="utf-8").splitlines()}
        assert keys == {f"testsite:{evil}" for evil in HOSTILE}  # stored as data, NUL and all
