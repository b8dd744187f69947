"""Hosts that stop serving the site properly: soft 404s, the home page for any path, redirects."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from tests.conftest import FAST, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl

LAGGING = "www.presstv.tv"


def _crawl(tmp_path: Path, config: ReplayConfig) -> sqlite_utils.Database:
    site = build_site(config)
    db = tmp_path / "archive.db"
    with serve(site) as server:
        result = run_newsmirror("crawl", "presstv", "--db", str(db), *connect_args(server), *FAST)
    assert result.returncode == 0, result.stderr
    return sqlite_utils.Database(db)


def _missing_on_lagging(db: sqlite_utils.Database) -> list[dict[str, object]]:
    return list(
        db.query(
            "SELECT article_key, status, outcome FROM captures WHERE host = ? "
            "AND page_type = 'article' AND article_key IN "
            "(SELECT key FROM articles WHERE mirrors NOT LIKE ?)",
            [LAGGING, f"%{LAGGING}%"],
        )
    )


def test_an_error_template_served_with_200_is_a_soft_404(tmp_path: Path) -> None:
    db = _crawl(tmp_path, ReplayConfig(soft_404_host=LAGGING))
    missing = _missing_on_lagging(db)
    assert len(missing) == 5
    assert {(row["status"], row["outcome"]) for row in missing} == {(200, "soft_404")}
    assert db.table("mirrors").get(LAGGING)["state"] == "up"


def test_the_home_page_served_for_any_path_is_not_an_article(tmp_path: Path) -> None:
    db = _crawl(tmp_path, ReplayConfig(home_for_any_path_host=LAGGING))
    missing = _missing_on_lagging(db)
    assert len(missing) == 5
    assert {(row["status"], row["outcome"]) for row in missing} == {(200, "not_article")}
    # The host still serves the stories it has: it is up, and they are archived from it.
    assert db.table("mirrors").get(LAGGING)["state"] == "up"
    (served,) = db.query(
        "SELECT count(*) AS n FROM articles WHERE mirrors LIKE ?", [f"%{LAGGING}%"]
    )
    assert served["n"] == 55


@pytest.mark.parametrize("target", ["https://www.presstv.ir/", "https://parking.example/landing"])
def test_a_host_sending_every_path_to_one_url_is_redirecting(tmp_path: Path, target: str) -> None:
    db = _crawl(tmp_path, ReplayConfig(redirecting_host=LAGGING, redirect_target=target))
    mirror = db.table("mirrors").get(LAGGING)
    assert mirror["state"] == "redirecting", mirror
    (stored,) = db.query("SELECT count(*) AS n FROM versions WHERE hosts LIKE ?", [f"%{LAGGING}%"])
    assert stored["n"] == 0
    leaked = list(db.query("SELECT url FROM captures WHERE url LIKE '%parking.example%'"))
    assert not leaked or all(row["url"].startswith("https://www.presstv.tv/") for row in leaked)
