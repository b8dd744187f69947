"""`newsmirror serve`: Datasette on a crawled archive, over its JSON API, read-only."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from crawler.replay import ReplayConfig, ReplaySite, build_site
from crawler.storage import Store
from tests.conftest import REPO, crawl_two_phases, run_newsmirror
from tests.test_diff import edited

pytestmark = pytest.mark.crawl

# Loopback only, and never through a proxy the environment may name.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
STARTUP_SECONDS = 60


@dataclass
class Served:
    url: str
    db: Path
    site: ReplaySite
    process: subprocess.Popen[str]
    digest: str  # sha256 of the database file before serving

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with OPENER.open(f"{self.url}{path}{query}", timeout=30) as response:
            return json.load(response)

    def count(self, sql: str) -> int:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as conn:
            return int(conn.execute(sql).fetchone()[0])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start(db: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """`newsmirror serve` in a subprocess on a free loopback port, and the URL it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", str(db), "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert process.stderr is not None
    line = process.stderr.readline()  # the first line names the URL once the port listens
    if "Serving" not in line:
        process.kill()
        pytest.fail(f"serve did not start: {line}{process.communicate(timeout=10)[1]}")
    url = line.split(" at ", 1)[1].split()[0]
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:  # the port listens before Datasette has loaded: wait for its first answer
        try:
            with OPENER.open(f"{url}-/versions.json", timeout=5):
                return process, url
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("serve never answered")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    site = build_site(ReplayConfig())
    db = tmp_path_factory.mktemp("serve") / "archive.db"
    crawl_two_phases(db, site)
    digest = sha256(db)
    process, url = start(db)
    assert url.startswith("http://127.0.0.1:")
    yield Served(url, db, site, process, digest)
    if process.poll() is None:
        process.kill()
        process.communicate(timeout=10)


def test_table_rows_come_back_as_json(served: Served) -> None:
    page = served.get("archive/articles.json", _shape="objects", _size="max")
    assert len(page["rows"]) == served.count("SELECT count(*) FROM articles")
    row = page["rows"][0]
    assert row["key"].startswith("presstv:")
    assert row["canonical_url"].startswith("https://www.presstv.ir/Detail/")


def test_metadata_gives_titles_and_column_descriptions(served: Served) -> None:
    metadata = served.get("-/metadata.json")
    assert metadata["title"] == "newsmirror archive"
    tables = metadata["databases"]["archive"]["tables"]
    assert "breadcrumb" in tables["articles"]["columns"]["section"]
    assert "every host that served this version" in tables["versions"]["columns"]["hosts"]
    assert tables["articles"]["description"].startswith("One row per story")


def test_articles_are_faceted_by_section_mirrors_and_published_date(served: Served) -> None:
    page = served.get("archive/articles.json", _size="0")
    facets = page["facet_results"]
    stories = served.count("SELECT count(*) FROM articles")
    sections = {item["value"]: item["count"] for item in facets["section"]["results"]}
    assert sections
    assert sum(sections.values()) <= stories
    mirrors = {item["value"] for item in facets["mirrors"]["results"]}
    assert {"www.presstv.ir", "www.presstv.co.uk"} <= mirrors
    days = [item["value"] for item in facets["published_at"]["results"]]
    assert days
    assert all(len(day) == 10 for day in days)  # YYYY-MM-DD


def test_full_text_search_finds_a_story_by_a_word_of_its_title(served: Served) -> None:
    story = served.site.stories[-1]
    word = max(story.title.split(), key=len).strip(",.:;'\"")
    page = served.get("archive/articles.json", _search=word, _shape="objects")
    assert f"presstv:{story.id}" in {row["key"] for row in page["rows"]}


def test_canned_queries_answer_with_parameters(served: Served) -> None:
    story = edited(served.site, mirror_follows=False)
    key = f"presstv:{story}"
    versions = served.get("archive/story_versions.json", key=key, _shape="array")
    assert len(versions) == 2
    assert json.loads(versions[0]["hosts"])[0] == "www.presstv.ir"
    differ = served.get("archive/differ_between_mirrors.json", _shape="array")
    assert key in {row["article_key"] for row in differ}
    queries = served.get("archive.json")["queries"]
    assert {"search", "id_gaps", "captures_by_host_and_outcome"} <= {q["name"] for q in queries}


def test_writes_are_impossible(served: Served) -> None:
    (database,) = served.get("-/databases.json")
    assert database["is_mutable"] is False
    for sql in ("DELETE FROM articles", "UPDATE articles SET title = 'x'"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            served.get("archive.json", sql=sql)
        refused.value.close()  # the error holds the response's socket
        assert refused.value.code == 400
    request = urllib.request.Request(
        f"{served.url}archive/articles/-/insert",
        data=json.dumps({"row": {"key": "presstv:1"}}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        OPENER.open(request, timeout=30)
    refused.value.close()
    assert refused.value.code in (403, 404, 405)
    assert served.count("SELECT count(*) FROM articles WHERE key = 'presstv:1'") == 0


def test_sigterm_stops_the_server_and_the_file_is_untouched(served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    _, stderr = served.process.communicate(timeout=30)
    assert served.process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert sha256(served.db) == served.digest


def test_missing_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_newsmirror("serve", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 2
    assert result.stderr.startswith("newsmirror: ")
    assert len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "none.db").exists()


def test_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    with Store(db):
        pass  # a newsmirror database with nothing in it
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = run_newsmirror("serve", "--db", str(db), "--port", port, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"newsmirror: --host 127.0.0.1 --port {port}: ")
    assert len(result.stderr.splitlines()) == 1
