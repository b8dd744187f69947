"""Near-duplicates in a real crawl: republished copies are linked, daily bulletins are not."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from tests.conftest import FAST, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl


def test_copies_link_to_their_original_and_bulletins_to_nothing(tmp_path: Path) -> None:
    site = build_site(ReplayConfig(republish_every=10, bulletins=True))
    truth = site.truth
    assert truth.republished
    assert len(truth.bulletins) > 3
    db = tmp_path / "n.db"
    with serve(site) as server:
        result = run_newsmirror("crawl", "presstv", "--db", str(db), *connect_args(server), *FAST)
    assert result.returncode == 0, result.stderr
    links = {
        row["key"]: row["duplicate_of"]
        for row in sqlite_utils.Database(db).query("SELECT key, duplicate_of FROM articles")
    }
    for original, copy in truth.republished.items():
        assert links[f"presstv:{copy}"] == f"presstv:{original}"
        assert links[f"presstv:{original}"] is None
    for bulletin in truth.bulletins:
        assert links[f"presstv:{bulletin}"] is None, bulletin
    copies = {f"presstv:{copy}" for copy in truth.republished.values()}
    assert {key for key, original in links.items() if original} == copies
