"""Scheduled runs over the replay site's timeline: new stories, edits, takedowns, seizures."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, ReplayServer, ReplaySite, build_site, serve
from tests.conftest import FAST, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING, SEIZED = (
    "www.presstv.ir",
    "www.presstv.co.uk",
    "www.presstv.tv",
    "www.presstv.com",
)


def _recheck_days(site: ReplaySite) -> str:
    """A 7-day window on the replay site's own calendar, whatever day the tests run."""
    behind = dt.datetime.now(dt.UTC) - site.at_phase(2).truth.now
    return f"{behind.total_seconds() / 86400 + 7:.3f}"


@dataclass
class Timeline:
    site: ReplaySite
    db: sqlite_utils.Database  # after the phase-3 run
    path: Path
    codes: dict[int, int]  # phase -> exit status
    requests: dict[int, int]  # phase -> requests the run made
    after: dict[int, sqlite_utils.Database]  # phase -> a copy of the database after its run


def _key(story_id: int) -> str:
    return f"presstv:{story_id}"


@pytest.fixture(scope="module")
def timeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    site = build_site(ReplayConfig())
    path = tmp_path_factory.mktemp("timeline") / "archive.db"
    codes: dict[int, int] = {}
    requests: dict[int, int] = {}
    after: dict[int, sqlite_utils.Database] = {}
    with serve(site) as server:
        for phase in (1, 2, 3):
            server.set_phase(phase)
            server.clear_requests()
            result = _crawl(path, server, "--recheck-days", _recheck_days(site))
            codes[phase] = result.returncode
            requests[phase] = len(server.requests)
            assert result.returncode == 0, result.stderr
            snapshot = path.with_name(f"after-phase-{phase}.db")
            sqlite_utils.Database(path).execute(f"VACUUM INTO '{snapshot}'")
            after[phase] = sqlite_utils.Database(snapshot)
        yield Timeline(site, sqlite_utils.Database(path), path, codes, requests, after)


def _crawl(path: Path, server: ReplayServer, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_newsmirror(
        "crawl", "presstv", "--db", str(path), *connect_args(server), *FAST, *extra
    )


def _outcomes(db: sqlite_utils.Database, key: str, host: str) -> list[str]:
    rows = db.query(
        "SELECT outcome FROM captures WHERE article_key = ? AND host = ? ORDER BY id", [key, host]
    )
    return [row["outcome"] for row in rows]


def test_every_phase_exits_0(timeline: Timeline) -> None:
    assert timeline.codes == {1: 0, 2: 0, 3: 0}


def test_new_stories_of_later_phases_are_archived(timeline: Timeline) -> None:
    for phase in (2, 3):
        for story_id in timeline.site.at_phase(phase).truth.new_ids:
            assert timeline.db.table("articles").get(_key(story_id))["title"]


def test_an_incremental_run_asks_far_less_than_the_first(timeline: Timeline) -> None:
    assert timeline.requests[3] < timeline.requests[1] / 2


def test_edits_on_the_primary_are_new_versions_and_the_story_row_follows(
    timeline: Timeline,
) -> None:
    truth = timeline.site.at_phase(2).truth
    assert truth.edited
    for story_id, revision in truth.edited.items():
        key = _key(story_id)
        row = timeline.db.table("articles").get(key)
        assert (row["title"], row["body"]) == (revision.text.title, revision.text.body)
        hosts = {
            v["body"]: json.loads(v["hosts"])
            for v in timeline.db.query(
                "SELECT body, hosts FROM versions WHERE article_key = ?", [key]
            )
        }
        assert PRIMARY in hosts[revision.text.body]
        for stale in revision.stale_on:
            if stale in (PRIMARY, MIRROR):  # the lagging host is seized from phase 2 on
                assert stale in [
                    h for body, hs in hosts.items() if body != revision.text.body for h in hs
                ]


def test_unchanged_pages_are_captures_without_new_versions(timeline: Timeline) -> None:
    (row,) = timeline.db.query(
        "SELECT count(*) AS n FROM captures WHERE outcome = 'unchanged' AND status = 304"
    )
    assert row["n"] > 0
    untouched = next(
        s
        for s in timeline.site.stories[-20:]
        if s.id not in timeline.site.at_phase(3).truth.edited
        and s.id not in timeline.site.at_phase(3).truth.removed
        and not s.edited_on
    )
    assert _outcomes(timeline.db, untouched.key, PRIMARY)[0] == "article"
    assert set(_outcomes(timeline.db, untouched.key, PRIMARY)[1:]) <= {"unchanged"}
    assert timeline.db.table("articles").get(untouched.key)["version_count"] == 1


def test_takedowns_within_the_recheck_window_are_recorded_as_gone(timeline: Timeline) -> None:
    truth = timeline.site.at_phase(2).truth
    recent = [r for r in truth.removed.values() if r.id >= 780050]
    assert recent
    db = timeline.after[2]
    for removal in recent:
        assert _outcomes(db, _key(removal.id), PRIMARY)[-1] == "gone"
    # Removed from the primary, still alive on the mirror (co.uk is parked in phase 3).
    alive = {
        row["article_key"]
        for row in db.query(
            "SELECT p.article_key FROM article_hosts AS p JOIN article_hosts AS m "
            "ON m.article_key = p.article_key AND m.host != p.host "
            "WHERE p.host = 'www.presstv.ir' AND p.last_outcome = 'gone' "
            "AND m.last_outcome IN ('article', 'unchanged')"
        )
    }
    assert {_key(r.id) for r in recent} <= alive


def test_stats_count_takedowns(timeline: Timeline) -> None:
    result = run_newsmirror("stats", "--db", str(timeline.path), "--json")
    numbers = json.loads(result.stdout)
    assert numbers["captures_by_host"][PRIMARY]["gone"] >= 2


def test_a_mirror_that_turns_into_a_seizure_notice_is_seized(timeline: Timeline) -> None:
    mirror = timeline.db.table("mirrors").get(LAGGING)
    assert mirror["state"] == "seized"
    events = list(
        timeline.db.query(
            "SELECT old_state, new_state FROM mirror_events WHERE host = ? ORDER BY id", [LAGGING]
        )
    )
    assert [(e["old_state"], e["new_state"]) for e in events][-1] == ("up", "seized")


def test_a_notice_in_unknown_wording_is_caught_by_its_structure(timeline: Timeline) -> None:
    truth = timeline.site.at_phase(3).truth
    assert truth.seized.get(MIRROR) == "unknown"
    assert timeline.db.table("mirrors").get(MIRROR)["state"] == "seized"
    (run3,) = timeline.db.query("SELECT started_at FROM crawl_runs ORDER BY id DESC LIMIT 1")
    (stored,) = timeline.db.query(
        "SELECT count(*) AS n FROM versions WHERE first_seen_at >= ? AND hosts LIKE ?",
        [run3["started_at"], f"%{MIRROR}%"],
    )
    leaked = list(
        timeline.db.query(
            "SELECT article_key, hosts, first_seen_at, title FROM versions "
            "WHERE first_seen_at >= ? AND hosts LIKE ?",
            [run3["started_at"], f"%{MIRROR}%"],
        )
    )
    assert stored["n"] == 0, ("nothing the parked mirror served becomes a version", leaked)


def test_no_content_is_ever_stored_from_seized_hosts(timeline: Timeline) -> None:
    for host in (SEIZED, LAGGING):
        seized_since = timeline.db.execute(
            "SELECT min(at) FROM mirror_events WHERE host = ? AND new_state = 'seized'", [host]
        ).fetchone()[0]
        (row,) = timeline.db.query(
            "SELECT count(*) AS n FROM captures WHERE host = ? AND outcome = 'article' "
            "AND fetched_at >= ?",
            [host, seized_since],
        )
        assert row["n"] == 0, host


def test_a_full_run_finds_takedowns_outside_the_recheck_window(
    timeline: Timeline, tmp_path: Path
) -> None:
    old = [r for r in timeline.site.at_phase(2).truth.removed.values() if r.id < 780050]
    assert old
    copy = tmp_path / "copy.db"
    copy.write_bytes(timeline.path.read_bytes())
    with serve(timeline.site) as server:
        server.set_phase(3)
        result = _crawl(copy, server, "--full", "--recheck-days", _recheck_days(timeline.site))
    assert result.returncode == 0, result.stderr
    db = sqlite_utils.Database(copy)
    for removal in old:
        assert _outcomes(timeline.db, _key(removal.id), PRIMARY)[-1] == "article"
        assert _outcomes(db, _key(removal.id), PRIMARY)[-1] == "gone"


def test_every_query_of_the_scheduling_guide_runs(timeline: Timeline) -> None:

    guide = (Path(__file__).resolve().parent.parent / "docs" / "scheduling.md").read_text("utf-8")
    queries = re.findall(r"```sql\n(.*?)```", guide, re.DOTALL)
    assert len(queries) >= 3
    answered = 0
    for query in queries:
        rows = list(timeline.db.query(query.replace("datetime('now', '-1 day')", "'2000-01-01'")))
        answered += bool(rows)
    assert answered >= len(queries) - 1  # all but "runs that did not finish" find rows here
