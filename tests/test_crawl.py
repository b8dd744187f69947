"""A real Scrapy crawl of the replay site over loopback into a real SQLite file, run twice."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import sqlite_utils

from crawler.replay import ReplayServer, ReplaySite
from tests.conftest import FAST, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING, SEIZED = (
    "www.presstv.ir",
    "www.presstv.co.uk",
    "www.presstv.tv",
    "www.presstv.com",
)


@dataclass
class Archive:
    db: sqlite_utils.Database
    first: dict[str, int]  # table -> rows after the first run
    first_stderr: str
    second_code: int


def _counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {t: db[t].count for t in ("articles", "versions", "captures", "raw_pages", "crawl_runs")}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory, replay_server: ReplayServer) -> Archive:
    path = tmp_path_factory.mktemp("crawl") / "archive.db"
    args = ["crawl", "presstv", "--db", str(path), *connect_args(replay_server), *FAST]
    first = run_newsmirror(*args)
    assert first.returncode == 0, first.stderr
    db = sqlite_utils.Database(path)
    counts = _counts(db)
    second = run_newsmirror(*args)
    assert second.returncode == 0, second.stderr
    return Archive(db, counts, first.stderr, second.returncode)


def _article(archive: Archive, key: str) -> dict[str, object]:
    return archive.db.table("articles").get(key)


def test_every_story_is_archived_once(archive: Archive, replay_site: ReplaySite) -> None:
    keys = {row["key"] for row in archive.db.query("SELECT key FROM articles")}
    assert keys == {story.key for story in replay_site.stories}


def test_story_fields_match_the_primary(archive: Archive, replay_site: ReplaySite) -> None:
    for story in replay_site.stories:
        row = _article(archive, story.key)
        assert row["title"] == story.title, story.key
        assert row["body"] == story.body, story.key
        assert row["section"] == story.section, story.key
        assert row["published_at"] == story.published_at, story.key
        assert row["canonical_url"] == story.canonical_url, story.key
        assert row["site"] == "presstv"
        assert row["source_id"] == str(story.id)


def test_mirrors_list_every_host_that_served_the_story(
    archive: Archive, replay_site: ReplaySite
) -> None:
    for story in replay_site.stories:
        mirrors = json.loads(str(_article(archive, story.key)["mirrors"]))
        assert mirrors == [h for h in (PRIMARY, MIRROR, LAGGING) if h in story.served_on]


def test_edited_stories_have_two_versions_and_show_the_primary(
    archive: Archive, replay_site: ReplaySite
) -> None:
    edited = [s for s in replay_site.stories if MIRROR in s.edited_on]
    assert edited, "the replay site edits some stories on the mirror"
    for story in edited:
        versions = list(
            archive.db.query(
                "SELECT body, hosts FROM versions WHERE article_key = ? ORDER BY id", [story.key]
            )
        )
        assert len(versions) == 2, story.key
        hosts = {v["body"]: json.loads(v["hosts"]) for v in versions}
        assert MIRROR in hosts[story.edited_on[MIRROR].body]
        assert PRIMARY in hosts[story.body]
        row = _article(archive, story.key)
        assert row["version_count"] == 2
        assert row["body"] == story.body  # the primary's version wins


def test_unedited_story_is_one_version_listing_all_hosts(
    archive: Archive, replay_site: ReplaySite
) -> None:
    plain = next(s for s in replay_site.stories if not s.edited_on and len(s.served_on) == 3)
    (version,) = archive.db.query("SELECT hosts FROM versions WHERE article_key = ?", [plain.key])
    assert json.loads(version["hosts"]) == [PRIMARY, MIRROR, LAGGING]


def test_nothing_from_the_seized_host_becomes_a_story(archive: Archive) -> None:
    outcomes = {
        row["outcome"]
        for row in archive.db.query("SELECT outcome FROM captures WHERE host = ?", [SEIZED])
    }
    assert outcomes == {"seized"}
    assert not list(archive.db.query("SELECT id FROM versions WHERE hosts LIKE ?", [f"%{SEIZED}%"]))
    assert archive.db.table("mirrors").get(SEIZED)["state"] == "seized"


def test_mirror_states_are_recorded(archive: Archive) -> None:
    states = {row["host"]: (row["role"], row["state"]) for row in archive.db["mirrors"].rows}
    assert states == {
        PRIMARY: ("primary", "up"),
        MIRROR: ("alternate", "up"),
        LAGGING: ("alternate", "up"),
        SEIZED: ("retired", "seized"),
    }


def test_lagging_host_answers_404_for_newest_stories(
    archive: Archive, replay_site: ReplaySite
) -> None:
    missing = [s for s in replay_site.stories if LAGGING not in s.served_on]
    assert missing
    for story in missing:
        statuses = {
            row["status"]
            for row in archive.db.query(
                "SELECT status FROM captures WHERE host = ? AND article_key = ?",
                [LAGGING, story.key],
            )
        }
        assert statuses == {404}


def test_captures_are_recorded_per_host_with_logical_urls(archive: Archive) -> None:
    per_host = {
        row["host"]: row["n"]
        for row in archive.db.query("SELECT host, count(*) AS n FROM captures GROUP BY host")
    }
    assert set(per_host) == {PRIMARY, MIRROR, LAGGING, SEIZED}
    leaked = list(archive.db.query("SELECT url FROM captures WHERE url LIKE '%127.0.0.1%' LIMIT 1"))
    assert leaked == [], "--connect-to must not leak the transport address into the archive"


def test_raw_pages_are_kept_once_per_body(archive: Archive) -> None:
    (row,) = archive.db.query(
        "SELECT count(DISTINCT raw_sha256) AS bodies FROM captures WHERE raw_sha256 IS NOT NULL"
    )
    assert row["bodies"] == archive.db["raw_pages"].count


def test_second_run_adds_no_story_or_version(archive: Archive) -> None:
    after = _counts(archive.db)
    assert after["articles"] == archive.first["articles"]
    assert after["versions"] == archive.first["versions"]
    assert after["captures"] > archive.first["captures"]
    runs = list(archive.db.query("SELECT status, stats FROM crawl_runs ORDER BY id"))
    assert [r["status"] for r in runs] == ["finished", "finished"]
    second = json.loads(runs[1]["stats"])
    assert second["stories_new"] == 0
    assert second["versions_new"] == 0
    assert set(second["hosts"]) == {PRIMARY, MIRROR, LAGGING, SEIZED}


def test_search_finds_an_archived_story(archive: Archive, replay_site: ReplaySite) -> None:
    story = replay_site.stories[10]
    word = max(story.title.split(), key=len)
    result = run_newsmirror("search", word, "--db", _db_path(archive), "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert story.key in [hit["key"] for hit in hits]
    assert any("[" in hit["snippet"] and "]" in hit["snippet"] for hit in hits)


def _db_path(archive: Archive) -> str:
    return str(archive.db.conn.execute("PRAGMA database_list").fetchone()[2])


def test_stats_reports_stories_hosts_and_mirror_states(
    archive: Archive, replay_site: ReplaySite
) -> None:
    result = run_newsmirror("stats", "--db", _db_path(archive))
    assert result.returncode == 0, result.stderr
    assert f"Stories   {len(replay_site.stories)}" in result.stdout
    assert "www.presstv.com    retired    seized" in result.stdout
    as_json = run_newsmirror("stats", "--db", _db_path(archive), "--json")
    numbers = json.loads(as_json.stdout)
    assert numbers["stories"] == len(replay_site.stories)
    assert numbers["captures_by_host"][SEIZED] == {"seized": 2}  # one probe per run
    assert [run["status"] for run in numbers["runs"]] == ["finished", "finished"]
