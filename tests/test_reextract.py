"""`newsmirror reextract`: stored pages read again with a changed profile, no network."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import crawler.sites
from crawler.replay import ReplayConfig, build_site
from tests.conftest import crawl_two_phases, run_newsmirror

pytestmark = pytest.mark.crawl

BUILTIN = Path(crawler.sites.__file__).parent / "presstv.toml"
BOILERPLATE = '    ".alt-addresses", '


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of the replay site's two phases. The replay server is stopped once the
    crawls are done: nothing below could fetch anything if it tried."""
    path = tmp_path_factory.mktemp("reextract") / "archive.db"
    crawl_two_phases(path, build_site(ReplayConfig()))
    return path


@pytest.fixture
def db(crawled: Path, tmp_path: Path) -> Path:
    """A copy of the archive for one test to change."""
    copy = tmp_path / "archive.db"
    shutil.copy(crawled, copy)
    return copy


def profile_file(tmp_path: Path, *, name: str = "presstv") -> Path:
    """The built-in profile with one selector more: the body's first paragraph (the
    replay site repeats the lead there) becomes boilerplate."""
    text = BUILTIN.read_text(encoding="utf-8")
    assert BOILERPLATE in text
    text = text.replace(BOILERPLATE, f'{BOILERPLATE}".news-body p:first-child", ', 1)
    text = text.replace('name = "presstv"', f'name = "{name}"', 1)
    path = tmp_path / f"{name}-fixed.toml"
    path.write_text(text, encoding="utf-8")
    return path


def table(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def stories(db: Path) -> dict[str, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in table(db, "SELECT * FROM articles ORDER BY key")}


def reextract(db: Path, *args: str) -> str:
    result = run_newsmirror("reextract", "--db", str(db), *args)
    assert result.returncode == 0, result.stderr
    assert "nothing was fetched" in result.stdout
    return result.stdout


def new_versions(summary: str) -> int:
    (line,) = [line for line in summary.splitlines() if "new versions" in line]
    return int(line.split()[-1])


def test_unchanged_extraction_adds_no_version_and_changes_no_row(db: Path) -> None:
    before = stories(db)
    versions = table(db, "SELECT * FROM versions ORDER BY id")
    captures = table(db, "SELECT count(*) FROM captures")
    out = reextract(db)
    assert new_versions(out) == 0
    assert "readings changed    0" in out
    assert stories(db) == before
    assert table(db, "SELECT * FROM versions ORDER BY id") == versions
    assert table(db, "SELECT count(*) FROM captures") == captures
    ((status, params),) = table(
        db, "SELECT status, params FROM crawl_runs ORDER BY id DESC LIMIT 1"
    )
    assert status == "finished"
    assert json.loads(str(params))["command"] == "reextract"


def test_changed_selector_changes_the_stories_from_stored_pages(db: Path, tmp_path: Path) -> None:
    before = stories(db)
    old_bodies = dict(table(db, "SELECT key, body FROM articles"))
    versions_before = table(db, "SELECT count(*) FROM versions")[0][0]
    fetched = set(table(db, "SELECT url, fetched_at FROM captures"))
    out = reextract(db, "--profile", str(profile_file(tmp_path)))
    added = new_versions(out)
    assert added > 0
    assert table(db, "SELECT count(*) FROM versions")[0][0] == versions_before + added
    after = dict(table(db, "SELECT key, body FROM articles WHERE extraction = 'profile'"))
    assert len(after) > len(before) / 2
    for key, body in after.items():
        # The first paragraph is gone, the rest is exactly as it was.
        assert body == "\n\n".join(str(old_bodies[key]).split("\n\n")[1:]), key
    # Every reading is of a fetch already made: the same URL at the same time.
    (run,) = table(db, "SELECT max(id) FROM crawl_runs")
    read_again = set(table(db, f"SELECT url, fetched_at FROM captures WHERE run_id = {run[0]}"))  # noqa: S608
    assert read_again
    assert read_again <= fetched


def test_reading_again_with_the_same_changed_profile_adds_nothing(db: Path, tmp_path: Path) -> None:
    profile = str(profile_file(tmp_path))
    reextract(db, "--profile", profile)
    changed = stories(db)
    versions = table(db, "SELECT count(*) FROM versions")
    assert new_versions(reextract(db, "--profile", profile)) == 0
    assert stories(db) == changed
    assert table(db, "SELECT count(*) FROM versions") == versions


def test_key_filter_reads_only_that_story(db: Path, tmp_path: Path) -> None:
    hashes = dict(table(db, "SELECT key, content_hash FROM articles"))
    key = min(k for (k,) in table(db, "SELECT key FROM articles WHERE extraction = 'profile'"))
    out = reextract(db, "--profile", str(profile_file(tmp_path)), "--key", key)
    assert "Re-extracted 1 stories" in out
    now = dict(table(db, "SELECT key, content_hash FROM articles"))
    assert {k for k in hashes if hashes[k] != now[k]} == {key}


def test_superseded_readings_are_not_shown_as_edits(db: Path, tmp_path: Path) -> None:
    key = min(k for (k,) in table(db, "SELECT key FROM articles WHERE extraction = 'profile'"))
    reextract(db, "--profile", str(profile_file(tmp_path)), "--key", key)
    result = run_newsmirror("diff", key, "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [v["superseded"] for v in report["versions"]] == [True, False]
    assert report["changes"] == []  # an extraction change is no edit
    result = run_newsmirror("diff", key, "--db", str(db), "--all")
    assert "(the same pages read again: an extraction change)" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--key", "presstv:1"], "newsmirror: reextract: no story presstv:1 in "),
        (["--key", "nonsense"], "newsmirror: reextract --key: 'nonsense' is not a story key"),
        (["--profile", "missing.toml"], "newsmirror: profile missing.toml: "),
        (["--since", "someday"], "newsmirror: --since 'someday': "),
        (["nosuchsite"], "newsmirror: profile nosuchsite: unknown profile"),
        (["--profile", "OTHER"], "newsmirror: reextract: no story of site other in "),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    db: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    args = [str(profile_file(tmp_path, name="other")) if a == "OTHER" else a for a in args]
    runs = table(db, "SELECT count(*) FROM crawl_runs")
    result = run_newsmirror("reextract", "--db", str(db), *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1
    assert table(db, "SELECT count(*) FROM crawl_runs") == runs
