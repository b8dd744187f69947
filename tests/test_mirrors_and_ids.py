"""`newsmirror mirrors`, candidate mirrors, completeness of ids and --backfill-ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from crawler.storage.reports import id_ranges
from tests.conftest import FAST, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING, SEIZED = (
    "www.presstv.ir",
    "www.presstv.co.uk",
    "www.presstv.tv",
    "www.presstv.com",
)


def test_mirrors_probes_every_host_and_keeps_a_timeline(tmp_path: Path) -> None:
    site = build_site(ReplayConfig())
    db = tmp_path / "m.db"
    with serve(site) as server:
        assert (
            run_newsmirror(
                "crawl", "presstv", "--db", str(db), *connect_args(server), *FAST
            ).returncode
            == 0
        )
        server.set_phase(2)
        result = run_newsmirror(
            "mirrors", "presstv", "--db", str(db), "--json", *connect_args(server)
        )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    states = {h["host"]: h["state"] for h in report["hosts"]}
    assert states == {PRIMARY: "up", MIRROR: "up", LAGGING: "seized", SEIZED: "seized"}
    changes = [(e["host"], e["old_state"], e["new_state"]) for e in report["timeline"]]
    assert (LAGGING, "up", "seized") in changes
    candidates = {c["host"]: c["evidence"] for c in report["candidates"]}
    assert candidates == {
        "www.presstv.news": "alternate-addresses",
        "presstv.ir.cdn.example": "story-links",
    }
    hits = (
        sqlite_utils.Database(db)
        .execute(
            "SELECT count(*) FROM captures WHERE host NOT IN (?, ?, ?, ?)",
            [PRIMARY, MIRROR, LAGGING, SEIZED],
        )
        .fetchone()[0]
    )
    assert hits == 0, "candidates are recorded, never crawled"


def test_backfill_finds_unlisted_stories_and_confirms_gaps(tmp_path: Path) -> None:
    config = ReplayConfig(unlisted_every=9, gap_every=17, id_redirects=True)
    site = build_site(config)
    truth = site.truth
    assert truth.unlisted
    assert truth.gaps
    db = tmp_path / "b.db"
    with serve(site) as server:
        routes = connect_args(server)
        assert run_newsmirror("crawl", "presstv", "--db", str(db), *routes, *FAST).returncode == 0
        archived = {
            row[0] for row in sqlite_utils.Database(db).execute("SELECT source_id FROM articles")
        }
        assert not {str(i) for i in truth.unlisted} & archived, (
            "unlisted stories are not discovered"
        )
        first, last = min(s.id for s in site.stories), max(s.id for s in site.stories)
        stats = json.loads(run_newsmirror("stats", "--db", str(db), "--json").stdout)
        (before,) = stats["completeness"]
        assert before["missing_ids"] == len(truth.unlisted) + len(truth.gaps)
        result = run_newsmirror(
            "crawl", "presstv", "--db", str(db), *routes, *FAST, "--backfill-ids", f"{first}-{last}"
        )
    assert result.returncode == 0, result.stderr
    archived = {
        row[0] for row in sqlite_utils.Database(db).execute("SELECT source_id FROM articles")
    }
    assert {str(i) for i in truth.unlisted} <= archived
    stats = json.loads(run_newsmirror("stats", "--db", str(db), "--json").stdout)
    (after,) = stats["completeness"]
    assert after["missing_ids"] == len(truth.gaps)
    assert after["probed_missing"] == len(truth.gaps), "every gap was asked of the hosts"
    assert sum(after["stories_per_day"].values()) > 0


def test_backfill_of_a_bad_range_is_a_usage_error(tmp_path: Path) -> None:
    result = run_newsmirror(
        "crawl", "presstv", "--db", str(tmp_path / "x.db"), "--backfill-ids", "9-1"
    )
    assert result.returncode == 2
    assert "FROM is after TO" in result.stderr
    assert not (tmp_path / "x.db").exists()


def test_id_ranges_find_runs() -> None:
    assert list(id_ranges([1, 2, 3, 5, 7, 8])) == [(1, 3), (5, 5), (7, 8)]
    assert list(id_ranges([])) == []
