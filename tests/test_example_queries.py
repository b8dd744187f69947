"""Every SQL example in docs/schema.md answers on a crawled archive and is a canned query."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from datasette.utils import validate_sql_select

from crawler.replay import ReplayConfig, ReplaySite, build_site, serve
from crawler.serve import (
    ExampleQuery,
    build_metadata,
    example_queries,
    read_schema_doc,
    table_docs,
)
from crawler.storage import Store
from tests.conftest import FAST, connect_args, crawl_phases, run_newsmirror

pytestmark = pytest.mark.crawl

DOC = read_schema_doc() or ""
EXAMPLES = example_queries(DOC)
# Republished copies and daily bulletins for the near-duplicate queries, and an id that
# is never published every 25 for the id gaps; phase 2 brings edits, takedowns, a seizure.
CONFIG = ReplayConfig(republish_every=10, bulletins=True, gap_every=25)


@dataclass
class Archive:
    path: Path
    site: ReplaySite
    params: dict[str, str]  # a value for every :parameter of the examples


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    site = build_site(CONFIG)
    path = tmp_path_factory.mktemp("examples") / "archive.db"
    with serve(site) as server:
        crawl_phases(path, server, site)
        # A run stopped by its time limit, for the query on runs that did not finish: --full,
        # so that it has work left whatever the recheck window holds on the day tests run.
        result = run_newsmirror(
            "crawl", "presstv", "--db", str(path), *connect_args(server), *FAST, "--full",
            "--set", "CLOSESPIDER_TIMEOUT=0.2",
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
    return Archive(path, site, _params(path, site))


def _params(path: Path, site: ReplaySite) -> dict[str, str]:
    edited = min(site.at_phase(2).truth.edited)  # edited on the primary in phase 2
    with sqlite3.connect(path) as db:
        title = db.execute("SELECT title FROM articles WHERE key = ?", [f"presstv:{edited}"])
        (author,) = db.execute("SELECT value FROM articles, json_each(authors)").fetchone()
        word = max(title.fetchone()[0].split(), key=len)
    return {"key": f"presstv:{edited}", "query": word, "author": author.split()[-1].lower()}


def _run(archive: Archive, query: ExampleQuery) -> list[tuple[object, ...]]:
    names = set(re.findall(r":(\w+)", query.sql))
    # Opened the way `newsmirror serve` opens it: immutable, so a write would fail.
    with sqlite3.connect(f"file:{archive.path}?immutable=1", uri=True) as db:
        return db.execute(query.sql, {name: archive.params[name] for name in names}).fetchall()


@pytest.mark.parametrize("query", EXAMPLES, ids=[q.name for q in EXAMPLES])
def test_example_query_answers_on_the_archive(archive: Archive, query: ExampleQuery) -> None:
    assert _run(archive, query), f"no rows from {query.name}:\n{query.sql}"


def test_example_queries_answer_the_questions_they_ask(archive: Archive) -> None:
    """Spot checks against the replay site's truth: the rows are the right ones."""
    results = {query.name: _run(archive, query) for query in EXAMPLES}
    truth = archive.site.at_phase(2).truth
    gone = {row[0] for row in results["gone_from_primary_alive_on_mirror"]}
    assert gone <= {f"presstv:{story}" for story in truth.removed}
    assert len(gone) >= 2  # the two recent removals; the older one needs --full
    assert {row[3] for row in results["gone_from_primary_alive_on_mirror"]} == {"www.presstv.co.uk"}
    assert len(results["story_versions"]) == 2
    gaps = {(row[1], row[2]) for row in results["id_gaps"]}
    assert (780025, 780025) in gaps
    copies = {row[0] for row in results["republished_copies"]}
    assert copies == {f"presstv:{copy}" for copy in truth.republished.values()}
    assert any(row[4] == "seized" for row in results["mirror_timeline"])
    assert [row[2] for row in results["unfinished_runs"]] == ["interrupted"]
    assert archive.params["key"] in {row[0] for row in results["search"]}


def test_docs_have_at_least_ten_example_queries() -> None:
    section = DOC.split("## Example queries", 1)[1]
    assert len(example_queries(section)) >= 10


def test_every_sql_block_in_the_docs_is_a_named_query_with_a_title() -> None:
    assert DOC.count("```sql\n") == len(EXAMPLES)
    names = [query.name for query in EXAMPLES]
    assert len(set(names)) == len(names)
    for query in EXAMPLES:
        assert query.title, query.name
        assert not query.sql.startswith("--"), query.name


def test_canned_queries_are_the_docs_examples() -> None:
    metadata = build_metadata("archive", ["articles"], DOC)
    queries = metadata["databases"]["archive"]["queries"]
    assert {name: q["sql"] for name, q in queries.items()} == {q.name: q.sql for q in EXAMPLES}
    assert all(not q.get("write") for q in queries.values())


@pytest.mark.parametrize("query", EXAMPLES, ids=[q.name for q in EXAMPLES])
def test_canned_queries_are_read_only(query: ExampleQuery) -> None:
    validate_sql_select(query.sql)  # what Datasette demands of SQL it is given
    assert re.match(r"(SELECT|WITH)\b", query.sql)
    assert ";" not in query.sql.rstrip().rstrip(";"), "one statement only"


def test_canned_query_names_do_not_hide_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "fresh.db") as store:
        tables = set(store.db.table_names())
    assert not tables & {query.name for query in EXAMPLES}


def test_every_table_and_column_is_documented(tmp_path: Path) -> None:
    documented = table_docs(DOC)
    with Store(tmp_path / "fresh.db") as store:
        tables = {name: [c.name for c in store.db[name].columns] for name in store.db.table_names()}
    for table, columns in tables.items():
        if table.startswith("articles_fts_"):  # FTS5's shadow tables, named in the docs
            assert f"`{table}`" in DOC
            continue
        assert table in documented, f"table {table} is not in docs/schema.md"
        missing = [column for column in columns if column not in documented[table].columns]
        assert not missing, f"{table}: columns {missing} are not in docs/schema.md"
