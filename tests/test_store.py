"""Store: captures become stories, versions, per-host state and raw pages; search; stats; errors."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import sqlite3
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

from bench.storage_speed import measure
from crawler.dedupe import content_hash
from crawler.items import Capture
from crawler.storage import Store, StoreError, WriteResult
from crawler.storage import store as store_module
from crawler.storage.wal import wal_bytes

PRIMARY, UK, TV, COM = "www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv", "www.presstv.com"
ROLES = {PRIMARY: "primary", UK: "alternate", TV: "alternate", COM: "retired"}
DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema.md"


def at(minute: int, day: int = 25) -> str:
    return f"2026-11-{day:02d}T12:{minute:02d}:00.000+00:00"


def make_capture(
    host: str = PRIMARY,
    *,
    story: int = 745312,
    title: str = "Israel mad at Trump administration",
    body: str = "The covert negotiations ignited a heated debate.\n\nAxios reported on Friday.",
    minute: int = 0,
    day: int = 25,
    outcome: str = "article",
    status: int | None = 200,
    raw: bytes | None = None,
    error: str | None = None,
    **fields: Any,
) -> Capture:
    """One capture of a Press TV story page; `article` is filled only for outcome `article`."""
    key = f"presstv:{story}"
    url = f"https://{host}/Detail/2025/03/08/{story}/Story-{story}"
    article = None
    if outcome == "article":
        article = {
            "key": key,
            "site": "presstv",
            "source_id": str(story),
            "canonical_url": f"https://{PRIMARY}/Detail/2025/03/08/{story}/Story-{story}",
            "title": title,
            "lead": fields.pop("lead", "The covert negotiations ignited a heated debate."),
            "body": body,
            "section": "Palestine / Foreign Policy",
            "published_at": "2025-03-08T10:21:47+03:30",
            "authors": [],
            "tags": ["Hamas", "US"],
            "language": "en",
            "extraction": "profile",
            "field_sources": {"title": "profile", "body": "profile"},
            **fields,
        }
    if raw is None and status is not None:
        raw = f"<html><body><h1>{title}</h1><p>{body}</p><!-- {url} --></body></html>".encode()
    return Capture(
        site="presstv",
        url=url,
        host=host,
        fetched_at=at(minute, day),
        outcome=outcome,
        page_type="article",
        status=status,
        error=error,
        headers={"Content-Type": ["text/html; charset=utf-8"]},
        content_type="text/html" if raw is not None else None,
        body=raw,
        article_key=key,
        article=article,
    )


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store(tmp_path / "news.db") as opened:
        opened.sync_hosts("presstv", ROLES)
        yield opened


@pytest.fixture
def run_id(store: Store) -> int:
    return store.begin_run("presstv", {"max_pages": 10})


def rows(store: Store, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    return list(store.db.query(sql, params))


def story_row(store: Store, story: int = 745312) -> dict[str, Any]:
    return store.db.table("articles").get(f"presstv:{story}")


def versions_of(store: Store, story: int = 745312) -> list[dict[str, Any]]:
    return rows(
        store, "SELECT * FROM versions WHERE article_key = ? ORDER BY id", [f"presstv:{story}"]
    )


# --- content identity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("A  title", "One.\n\nTwo."),
        (" A title ", "One. Two."),
        ("A\u00a0title", "One.\u200bTwo."),
        ("A title", "One.\r\n\tTwo.\ufeff"),
    ],
)
def test_content_hash_ignores_whitespace(title: str, body: str) -> None:
    assert content_hash(title, body) == content_hash("A title", "One. Two.")


def test_content_hash_sees_real_differences() -> None:
    assert content_hash("Café", "x") == content_hash("Cafe\u0301", "x")  # NFC
    assert content_hash("A title", "One. Two.") != content_hash("A title", "One. Two!")
    assert content_hash("A b", "c") != content_hash("A", "b c")  # title and body stay apart
    assert content_hash(None, None) == content_hash("", "")
    assert content_hash("x", "a\u200cb") != content_hash("x", "ab")  # ZWNJ spells Persian words


# --- versions and the story row ------------------------------------------------------------


def test_identical_content_from_three_hosts_is_one_version(store: Store, run_id: int) -> None:
    result = store.write_captures(
        run_id, [make_capture(UK, minute=1), make_capture(PRIMARY, minute=2), make_capture(TV)]
    )
    assert result == WriteResult(captures=3, new_stories=1, new_versions=1, new_raw_pages=3)
    [version] = versions_of(store)
    assert json.loads(version["hosts"]) == [PRIMARY, UK, TV]
    assert (version["first_seen_at"], version["last_seen_at"]) == (at(0), at(2))
    row = story_row(store)
    assert json.loads(row["mirrors"]) == [PRIMARY, UK, TV]
    assert row["version_count"] == 1
    assert row["content_hash"] == version["content_hash"]
    assert (row["first_seen_at"], row["last_seen_at"]) == (at(0), at(2))
    assert (row["host"], row["url"]) == (PRIMARY, make_capture(PRIMARY).url)
    assert json.loads(row["tags"]) == ["Hamas", "US"]
    assert json.loads(row["authors"]) == []
    assert row["word_count"] == 11


def test_whitespace_and_composition_differences_are_the_same_version(
    store: Store, run_id: int
) -> None:
    result = store.write_captures(
        run_id,
        [
            make_capture(PRIMARY, title="Café  talks", body="One.\n\nTwo  three."),
            make_capture(UK, title="Cafe\u0301 talks", body=" One.\u00a0Two\nthree. "),
        ],
    )
    assert result.new_versions == 1
    assert json.loads(versions_of(store)[0]["hosts"]) == [PRIMARY, UK]


def test_different_content_is_a_new_version_never_an_overwrite(store: Store, run_id: int) -> None:
    store.write_captures(run_id, [make_capture(PRIMARY, body="First text.")])
    result = store.write_captures(run_id, [make_capture(UK, body="Edited text.", minute=5)])
    assert (result.new_versions, result.updated_stories) == (1, 0)
    first, second = versions_of(store)
    assert (first["body"], second["body"]) == ("First text.", "Edited text.")
    assert json.loads(first["hosts"]) == [PRIMARY]
    assert json.loads(second["hosts"]) == [UK]
    row = story_row(store)
    assert row["version_count"] == 2
    assert json.loads(row["mirrors"]) == [PRIMARY, UK]


def test_story_row_shows_the_primary_even_when_a_mirror_version_is_newer(
    store: Store, run_id: int
) -> None:
    store.write_captures(
        run_id,
        [
            make_capture(PRIMARY, body="Primary text.", minute=1),
            make_capture(TV, body="Mirror text, edited later.", minute=9),
        ],
    )
    row = story_row(store)
    assert row["body"] == "Primary text."
    assert (row["host"], row["last_seen_at"]) == (PRIMARY, at(9))


def test_primary_arriving_later_replaces_the_mirror_version_in_the_row(
    store: Store, run_id: int
) -> None:
    store.write_captures(run_id, [make_capture(UK, body="Mirror text.", minute=1)])
    assert story_row(store)["body"] == "Mirror text."
    result = store.write_captures(run_id, [make_capture(PRIMARY, body="Primary text.", minute=2)])
    assert (result.new_stories, result.updated_stories, result.new_versions) == (0, 1, 1)
    assert story_row(store)["body"] == "Primary text."
    assert store.search("primary")[0]["key"] == "presstv:745312"
    assert store.search("mirror") == []  # the FTS index followed the upsert


def test_primary_edit_becomes_the_row(store: Store, run_id: int) -> None:
    store.write_captures(run_id, [make_capture(PRIMARY, body="Old text.", minute=1)])
    store.write_captures(run_id, [make_capture(PRIMARY, body="New text.", day=26)])
    row = story_row(store)
    assert (row["body"], row["version_count"]) == ("New text.", 2)
    assert (row["first_seen_at"], row["last_seen_at"]) == (at(1), at(0, 26))


def test_primary_switching_to_a_stored_version_shows_that_version(
    store: Store, run_id: int
) -> None:
    store.write_captures(
        run_id,
        [
            make_capture(PRIMARY, body="Primary text.", minute=1),
            make_capture(UK, body="Mirror text.", minute=2, section="World"),
        ],
    )
    result = store.write_captures(run_id, [make_capture(PRIMARY, body="Mirror text.", day=26)])
    assert (result.new_versions, result.updated_stories) == (0, 1)
    row = story_row(store)
    assert (row["body"], row["section"], row["version_count"]) == ("Mirror text.", "World", 2)
    assert json.loads(versions_of(store)[1]["hosts"]) == [PRIMARY, UK]


def test_fts_index_stays_consistent_through_upserts(store: Store, run_id: int) -> None:
    for day, body in enumerate(["One text.", "Two text.", "One text.", "Three."], start=1):
        store.write_captures(run_id, [make_capture(PRIMARY, body=body, day=day)])
        store.write_captures(run_id, [make_capture(UK, story=2, body=body, day=day)])
    # FTS5 compares its index with the articles rows and raises when they disagree.
    store.db.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
    assert [h["key"] for h in store.search("three")] == ["presstv:2", "presstv:745312"]
    assert store.search("two") == []


def test_without_primary_the_row_shows_the_latest_mirror_version(store: Store, run_id: int) -> None:
    store.write_captures(
        run_id,
        [
            make_capture(UK, body="Later text.", minute=7),
            make_capture(TV, body="Earlier text.", minute=3),
        ],
    )
    row = story_row(store)
    assert (row["body"], row["host"]) == ("Later text.", UK)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_story_row_does_not_depend_on_capture_order(tmp_path: Path, order: tuple[int, ...]) -> None:
    captures = [
        make_capture(UK, body="Text A.", minute=4),
        make_capture(TV, body="Text B.", minute=4),  # a tie on first_seen_at with UK's
        make_capture(COM, body="Text C, on the retired host.", minute=9),
    ]
    with Store(tmp_path / "news.db") as store:
        store.sync_hosts("presstv", ROLES)
        store.write_captures(store.begin_run("presstv", {}), [captures[i] for i in order])
        row = story_row(store)
    winner = max(content_hash(c.article["title"], c.article["body"]) for c in captures[:2])  # type: ignore[index]
    assert row["content_hash"] == winner  # retired hosts lose to live ones; ties to the larger hash
    assert json.loads(row["mirrors"]) == [UK, TV, COM]


def test_a_mirror_that_no_longer_serves_the_story_does_not_choose_the_row(
    store: Store, run_id: int
) -> None:
    store.write_captures(
        run_id,
        [make_capture(UK, body="Kept text.", minute=1), make_capture(TV, body="Newer.", minute=2)],
    )
    assert story_row(store)["body"] == "Newer."
    store.write_captures(run_id, [make_capture(TV, outcome="error", status=404, minute=3)])
    store.write_captures(run_id, [make_capture(UK, body="Kept text.", minute=4)])
    assert story_row(store)["body"] == "Kept text."


def test_rewriting_the_same_captures_adds_captures_but_no_story_or_version(
    store: Store, run_id: int
) -> None:
    crawl = [make_capture(h, story=s) for s in (1, 2) for h in (PRIMARY, UK, TV)]
    first = store.write_captures(run_id, crawl)
    assert (first.new_stories, first.new_versions, first.captures) == (2, 2, 6)
    again = [make_capture(h, story=s, day=26) for s in (1, 2) for h in (PRIMARY, UK, TV)]
    second = store.write_captures(store.begin_run("presstv", {}), again)
    assert second == WriteResult(captures=6)
    counts = {t: store.db.table(t).count for t in ("articles", "versions", "captures", "raw_pages")}
    assert counts == {"articles": 2, "versions": 2, "captures": 12, "raw_pages": 3 * 2}
    assert story_row(store, 1)["last_seen_at"] == at(0, 26)
    assert json.loads(versions_of(store, 1)[0]["hosts"]) == [PRIMARY, UK, TV]


def test_unchanged_capture_extends_what_the_host_served(store: Store, run_id: int) -> None:
    store.write_captures(run_id, [make_capture(UK)])
    result = store.write_captures(
        run_id, [make_capture(UK, outcome="unchanged", status=304, raw=b"", day=27)]
    )
    assert result == WriteResult(captures=1, new_raw_pages=1)
    assert story_row(store)["last_seen_at"] == at(0, 27)
    [capture] = rows(store, "SELECT * FROM captures WHERE outcome = 'unchanged'")
    assert capture["content_hash"] == story_row(store)["content_hash"]
    [host] = rows(store, "SELECT * FROM article_hosts")
    assert (host["last_outcome"], host["last_seen_at"]) == ("unchanged", at(0, 27))


def test_timestamps_are_stored_in_one_utc_format(store: Store, run_id: int) -> None:
    capture = make_capture(PRIMARY)
    capture.fetched_at = "2026-11-25T15:30:00+03:30"
    store.write_captures(run_id, [capture])
    assert story_row(store)["first_seen_at"] == "2026-11-25T12:00:00.000+00:00"


# --- gone, raw pages, atomicity --------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_not_found_after_serving_is_recorded_as_gone(
    store: Store, run_id: int, status: int
) -> None:
    store.write_captures(run_id, [make_capture(PRIMARY), make_capture(UK)])
    result = store.write_captures(
        run_id,
        [
            make_capture(PRIMARY, outcome="error", status=status, day=26),
            make_capture(TV, outcome="error", status=status, day=26),  # never served it
        ],
    )
    assert result.gone == 1
    outcomes = rows(store, "SELECT host, outcome FROM captures WHERE fetched_at = ?", [at(0, 26)])
    assert {r["host"]: r["outcome"] for r in outcomes} == {PRIMARY: "gone", TV: "error"}
    hosts = rows(store, "SELECT host, last_outcome, last_status FROM article_hosts ORDER BY host")
    assert [(h["host"], h["last_outcome"], h["last_status"]) for h in hosts] == [
        (UK, "article", 200),
        (PRIMARY, "gone", status),
    ]
    assert story_row(store)["host"] == PRIMARY  # the primary's last word still shows


def test_gone_within_one_batch_follows_the_served_capture(store: Store, run_id: int) -> None:
    result = store.write_captures(
        run_id, [make_capture(TV), make_capture(TV, outcome="not_article", status=410, minute=5)]
    )
    assert result.gone == 1


def test_raw_body_is_stored_once_compressed(store: Store, run_id: int) -> None:
    raw = ("<html>" + "<p>Press TV story text.</p>" * 200 + "</html>").encode()
    result = store.write_captures(
        run_id, [make_capture(PRIMARY, raw=raw), make_capture(UK, raw=raw, minute=1)]
    )
    assert result.new_raw_pages == 1
    sha = hashlib.sha256(raw).hexdigest()
    [page] = rows(store, "SELECT * FROM raw_pages")
    assert (page["sha256"], page["compression"], page["size"]) == (sha, "zstd", len(raw))
    assert len(page["body"]) < len(raw) / 10
    assert zstd.decompress(page["body"]) == raw
    # One frame that names its size, as zstd tools other than Python's want it.
    assert zstd.get_frame_info(page["body"]).decompressed_size == len(raw)
    assert store.raw_page(sha) == raw
    assert store.raw_page("0" * 64) is None
    assert json.loads(page["headers"]) == {"Content-Type": ["text/html; charset=utf-8"]}
    assert {r["raw_sha256"] for r in rows(store, "SELECT raw_sha256 FROM captures")} == {sha}


def test_raw_pages_stored_as_zlib_by_earlier_releases_still_read(store: Store, run_id: int) -> None:
    old = b"<html><p>Stored before pages were zstd.</p></html>" * 20
    sha = hashlib.sha256(old).hexdigest()
    store.db.execute(
        "INSERT INTO raw_pages (sha256, body, compression, size, first_seen_at) "
        "VALUES (?, ?, 'zlib', ?, ?)",
        [sha, zlib.compress(old), len(old), at(0)],
    )
    page = make_capture(raw=old)
    assert store.write_captures(run_id, [page, make_capture(UK)]).new_raw_pages == 1
    assert store.raw_page(sha) == old
    compressions = rows(store, "SELECT compression, count(*) AS n FROM raw_pages GROUP BY 1")
    assert {r["compression"]: r["n"] for r in compressions} == {"zlib": 1, "zstd": 1}


def test_a_raw_page_in_an_unknown_compression_is_one_clear_error(store: Store) -> None:
    store.db.execute(
        "INSERT INTO raw_pages (sha256, body, compression, size, first_seen_at) "
        "VALUES ('ab', x'00', 'lzma', 1, ?)",
        [at(0)],
    )
    with pytest.raises(StoreError, match="raw page ab uses unknown 'lzma'"):
        store.raw_page("ab")


def test_an_empty_body_is_kept_and_reads_back_empty(store: Store, run_id: int) -> None:
    store.write_captures(run_id, [make_capture(outcome="soft_404", raw=b"")])
    assert store.raw_page(hashlib.sha256(b"").hexdigest()) == b""


def test_failed_fetch_without_body_has_no_raw_page(store: Store, run_id: int) -> None:
    capture = make_capture(TV, outcome="error", status=None, error="TimeoutError: took too long")
    store.write_captures(run_id, [capture])
    [row] = rows(store, "SELECT raw_sha256, error, status FROM captures")
    assert row == {"raw_sha256": None, "error": "TimeoutError: took too long", "status": None}


def test_a_failing_batch_writes_nothing(store: Store, run_id: int) -> None:
    broken = make_capture(UK, story=2)
    broken.url = None  # type: ignore[assignment]  # captures.url is NOT NULL, written last
    with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
        store.write_captures(run_id, [make_capture(PRIMARY), broken])
    assert [store.db.table(t).count for t in ("articles", "versions", "raw_pages")] == [0, 0, 0]
    assert store.search("negotiations") == []


def test_bad_captures_are_refused_before_writing(store: Store, run_id: int) -> None:
    with pytest.raises(ValueError, match="unknown outcome 'fetched'"):
        store.write_captures(run_id, [make_capture(outcome="fetched")])
    keyless = make_capture()
    keyless.article_key = None
    keyless.article["key"] = None  # type: ignore[index]
    with pytest.raises(ValueError, match="no story key"):
        store.write_captures(run_id, [keyless])
    with pytest.raises(StoreError, match="no crawl run 99"):
        store.write_captures(99, [make_capture()])
    assert store.db.table("captures").count == 0


def test_write_results_add_up() -> None:
    total = WriteResult(captures=2, new_stories=1) + WriteResult(captures=3, gone=1)
    assert total == WriteResult(captures=5, new_stories=1, gone=1)


# --- search ----------------------------------------------------------------------------------


@pytest.fixture
def searchable(store: Store, run_id: int) -> Store:
    store.write_captures(
        run_id,
        [
            make_capture(story=1, title="Sanctions on Tehran", body="Officials met in Doha."),
            make_capture(story=2, title="Weather report", body="New sanctions were announced."),
            make_capture(story=3, title="Football", body="The match ended in a draw."),
        ],
    )
    return store


def test_search_finds_a_body_word_with_a_marked_snippet(searchable: Store) -> None:
    [hit] = searchable.search("Doha")
    assert hit["key"] == "presstv:1"
    assert "[Doha]" in hit["snippet"]
    assert searchable.search("doha", start="<b>", end="</b>")[0]["snippet"].count("<b>Doha</b>")


def test_search_ranks_title_matches_first(searchable: Store) -> None:
    hits = searchable.search("sanctions")
    assert [h["key"] for h in hits] == ["presstv:1", "presstv:2"]
    assert hits[0]["rank"] <= hits[1]["rank"]
    assert len(searchable.search("sanctions", limit=1)) == 1


@pytest.mark.parametrize(
    "query", ['"unbalanced', "AND", "sanctions AND", "title:", "nosuchcolumn:doha", "(", "*", '"']
)
def test_search_survives_bad_query_syntax(searchable: Store, query: str) -> None:
    assert isinstance(searchable.search(query), list)


def test_bad_syntax_is_retried_as_quoted_words(searchable: Store) -> None:
    assert [h["key"] for h in searchable.search('"Doha')] == ["presstv:1"]
    assert [h["key"] for h in searchable.search('officials "Doha')] == ["presstv:1"]


def test_search_supports_fts_syntax(searchable: Store) -> None:
    assert [h["key"] for h in searchable.search("title:sanctions")] == ["presstv:1"]
    assert [h["key"] for h in searchable.search('"ended in a draw"')] == ["presstv:3"]
    assert searchable.search("   ") == []


# --- stats, runs, mirrors --------------------------------------------------------------------


def test_stats_reports_stories_versions_captures_mirrors_runs_and_errors(
    store: Store, run_id: int
) -> None:
    store.write_captures(
        run_id,
        [
            make_capture(PRIMARY, story=1),
            make_capture(UK, story=1, body="An edit."),
            make_capture(PRIMARY, story=2),
            make_capture(COM, outcome="seized", story=3),
            make_capture(TV, outcome="error", status=None, error="DNSLookupError", minute=9),
        ],
    )
    store.finish_run(run_id, "finished", {"pages": 5})
    stats = store.stats()
    assert (stats["stories"], stats["versions"], stats["multi_version_stories"]) == (2, 3, 1)
    assert stats["captures"] == 5
    assert stats["captures_by_host"] == {
        PRIMARY: {"article": 2},
        UK: {"article": 1},
        COM: {"seized": 1},
        TV: {"error": 1},
    }
    assert stats["raw_pages"] == 4
    assert [m["host"] for m in stats["mirrors"]] == [PRIMARY, UK, TV, COM]
    assert stats["runs"][0]["status"] == "finished"
    assert stats["runs"][0]["stats"] == {"pages": 5}
    assert stats["last_errors"] == [
        {
            "url": make_capture(TV).url,
            "host": TV,
            "status": None,
            "outcome": "error",
            "error": "DNSLookupError",
            "fetched_at": at(9),
        }
    ]
    json.dumps(stats)  # ready for `stats --json`


def test_stats_of_an_empty_database(tmp_path: Path) -> None:
    with Store(tmp_path / "news.db") as store:
        stats = store.stats()
    assert (stats["stories"], stats["captures"], stats["runs"]) == (0, 0, [])


def test_runs_begin_and_finish(store: Store) -> None:
    run_id = store.begin_run("presstv", {"since": "2025-01-01", "path": Path("x")})
    [row] = rows(store, "SELECT * FROM crawl_runs")
    assert (row["id"], row["status"], row["finished_at"]) == (run_id, "running", None)
    assert json.loads(row["params"]) == {"since": "2025-01-01", "path": "x"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", row["started_at"])
    store.finish_run(run_id, "failed", {"pages": 0}, error="no story extracted")
    [row] = rows(store, "SELECT * FROM crawl_runs")
    assert (row["status"], row["error"], json.loads(row["stats"])) == (
        "failed",
        "no story extracted",
        {"pages": 0},
    )
    assert row["finished_at"] >= row["started_at"]
    with pytest.raises(ValueError, match="unknown run status"):
        store.finish_run(run_id, "done", {})
    with pytest.raises(StoreError, match="no crawl run 42"):
        store.finish_run(42, "finished", {})


def test_mirror_state_keeps_last_ok_and_survives_host_sync(store: Store) -> None:
    store.set_mirror_state(PRIMARY, "up", None, at(1))
    store.set_mirror_state(PRIMARY, "down", "TimeoutError", at(2))
    store.set_mirror_state(COM, "seized", "seizure notice", at(2))
    store.sync_hosts("presstv", {**ROLES, "www.presstv.ir": "primary"})
    mirrors = {m["host"]: m for m in rows(store, "SELECT * FROM mirrors")}
    assert mirrors[PRIMARY] == {
        "host": PRIMARY,
        "site": "presstv",
        "role": "primary",
        "state": "down",
        "last_checked_at": at(2),
        "last_ok_at": at(1),
        "detail": "TimeoutError",
    }
    assert (mirrors[COM]["state"], mirrors[UK]["state"]) == ("seized", "unknown")
    with pytest.raises(ValueError, match="unknown mirror state"):
        store.set_mirror_state(PRIMARY, "sleepy", None, at(3))
    with pytest.raises(ValueError, match="unknown host roles"):
        store.sync_hosts("presstv", {PRIMARY: "main"})


# --- opening -----------------------------------------------------------------------------------


def test_readonly_open_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        Store(tmp_path / "data" / "x.db", readonly=True)
    assert str(caught.value) == f"{tmp_path / 'data' / 'x.db'} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_open_of_a_directory_is_refused(tmp_path: Path) -> None:
    for readonly in (True, False):
        with pytest.raises(StoreError, match=r"is a directory$"):
            Store(tmp_path, readonly=readonly)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("readonly", [True, False])
def test_open_of_a_text_file_is_refused_and_leaves_it_alone(tmp_path: Path, readonly: bool) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 20)
    with pytest.raises(StoreError) as caught:
        Store(path, readonly=readonly)
    assert str(caught.value) == f"{path} is not a SQLite database"
    assert "\n" not in str(caught.value)
    assert path.read_text() == "these are my notes, not a database\n" * 20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]


def test_readonly_open_of_another_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite_utils.Database(path).table("things").insert({"id": 1})
    with pytest.raises(StoreError, match="is not a newsmirror database"):
        Store(path, readonly=True)


def test_readonly_store_refuses_writes_and_reads_fine(store: Store, run_id: int) -> None:
    store.write_captures(run_id, [make_capture()])
    with Store(store.path, readonly=True) as reader:
        assert reader.stats()["stories"] == 1
        assert reader.search("negotiations")[0]["key"] == "presstv:745312"
        with pytest.raises(StoreError, match="opened read-only"):
            reader.begin_run("presstv", {})


def test_writable_open_creates_missing_parent_directories(tmp_path: Path) -> None:
    with Store(tmp_path / "data" / "deeper" / "news.db") as store:
        assert store.stats()["stories"] == 0


def test_unwritable_location_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match=r"^cannot create .*file"):
        Store(blocker / "news.db")


def test_storage_benchmark_runs() -> None:
    figures = measure(40, hosts=3, batch=50)
    assert figures["stories"] == 40
    assert figures["stories_per_s"] > 0
    assert figures["raw_compression_ratio"] > 1


def test_the_wal_is_checkpointed_beside_the_writer_and_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its limit the WAL is copied back into the database by the store's own thread, not
    in a commit, and its file starts over at the limit's size instead of growing."""
    monkeypatch.setattr(store_module, "WAL_CHECKPOINT_PAGES", 30)
    monkeypatch.setattr(store_module, "WAL_AUTOCHECKPOINT_PAGES", 10**6)  # SQLite's: never
    path = tmp_path / "news.db"
    wal = Path(f"{path}-wal")
    sizes = []
    with Store(path) as store:
        store.sync_hosts("presstv", ROLES)
        run_id = store.begin_run("presstv", {})
        page_size = store.db.execute("PRAGMA page_size").fetchone()[0]
        for story in range(1, 41):
            raw = random.Random(story).randbytes(6000)  # does not compress: two pages a story
            store.write_captures(run_id, [make_capture(story=story, raw=raw)])
            sizes.append(wal.stat().st_size)
            time.sleep(0.05)  # the pause between a crawl's batches, when the thread catches up
        assert store.stats()["stories"] == 40
    limit = wal_bytes(30, page_size)
    assert sum(sizes) > 20 * limit  # far more was written than the limit...
    assert max(sizes) < 6 * limit  # ...and the WAL never held much more than it
    assert sizes.count(limit) >= 3, sizes  # cut back to the limit each time it started over
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM raw_pages").fetchone() == (40,)


# --- docs/schema.md stays true ------------------------------------------------------------------


def _python_block_after(heading: str) -> str:
    section = DOCS.read_text().split(heading, 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("compression", ["zstd", "zlib"])
def test_the_documented_way_to_read_a_raw_page_reads_both_compressions(
    store: Store, run_id: int, compression: str
) -> None:
    raw = b"<html><p>What a reader of the archive gets back.</p></html>" * 30
    sha = hashlib.sha256(raw).hexdigest()
    if compression == "zstd":
        store.write_captures(run_id, [make_capture(raw=raw)])
    else:  # a row from before pages were zstd
        store.db.execute(
            "INSERT INTO raw_pages (sha256, body, compression, size, first_seen_at) "
            "VALUES (?, ?, 'zlib', ?, ?)",
            [sha, zlib.compress(raw), len(raw), at(0)],
        )
    code = _python_block_after("### `raw_pages`").replace("data/newsmirror.db", str(store.path))
    namespace: dict[str, Any] = {"sha": sha}
    exec(code, namespace)  # noqa: S102 - the snippet from docs/schema.md, run as a reader would
    assert namespace["html"] == raw
