"""Story pages read in worker processes: the same readings, nothing lost when a worker dies,
no worker left behind when the crawl is killed."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from bench.process_tree import descendants
from crawler.page_readers import PageReaders, auto_workers, parse_workers
from crawler.profiles import load_profile
from crawler.reading import LinkBook, StoryPage, read_story_page
from crawler.replay import ReplayServer, ReplaySite
from tests.conftest import FAST, REPO, connect_args, run_newsmirror

PROFILE = load_profile("presstv")
Job = tuple[str, str, str]


def story_pages(site: ReplaySite, count: int) -> list[Job]:
    jobs = []
    for story in site.stories[:count]:
        status, _, body = site.respond("www.presstv.ir", story.path)
        if status == 200:
            jobs.append((body.decode("utf-8"), f"https://www.presstv.ir{story.path}", story.key))
    return jobs


def read_here(jobs: list[Job]) -> list[StoryPage]:
    book = LinkBook(PROFILE)
    return [read_story_page(text, url, key, book) for text, url, key in jobs]


async def read_all(readers: PageReaders, jobs: list[Job]) -> list[StoryPage]:
    return list(await asyncio.gather(*(readers.read(*job) for job in jobs)))


def test_pages_read_in_workers_are_the_pages_read_here(replay_site: ReplaySite) -> None:
    jobs = story_pages(replay_site, 40)
    readers = PageReaders(PROFILE, 2)
    readers.start()
    try:
        assert readers.in_workers
        pages = asyncio.run(read_all(readers, jobs))
    finally:
        readers.close()
    assert pages == read_here(jobs)
    assert all(page.outcome == "article" for page in pages)


def test_no_workers_reads_in_this_process(replay_site: ReplaySite) -> None:
    jobs = story_pages(replay_site, 5)
    readers = PageReaders(PROFILE, 0)
    readers.start()
    assert not readers.in_workers
    assert asyncio.run(read_all(readers, jobs)) == read_here(jobs)


def test_a_dead_worker_loses_no_page(
    replay_site: ReplaySite, caplog: pytest.LogCaptureFixture
) -> None:
    jobs = story_pages(replay_site, 20)
    readers = PageReaders(PROFILE, 1)
    readers.start()

    async def crawl() -> list[StoryPage]:
        first = await readers.read(*jobs[0])  # the worker is up
        pool = readers._pool
        assert pool is not None
        for pid in list(pool._processes):  # a worker killed by the OOM killer, say
            os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        return [first, *await read_all(readers, jobs[1:])]

    try:
        with caplog.at_level(logging.WARNING, logger="crawler.page_readers"):
            pages = asyncio.run(crawl())
    finally:
        readers.close()
    assert pages == read_here(jobs)
    assert not readers.in_workers  # the rest were read here
    assert "page worker process died" in caplog.text


def test_a_page_that_cannot_be_read_fails_alone(replay_site: ReplaySite) -> None:
    good = story_pages(replay_site, 3)
    readers = PageReaders(PROFILE, 1)
    readers.start()

    async def crawl() -> list[StoryPage | BaseException]:
        broken = readers.read(None, "https://www.presstv.ir/x", "presstv:1")  # type: ignore[arg-type]
        return list(
            await asyncio.gather(
                *(readers.read(*job) for job in good), broken, return_exceptions=True
            )
        )

    try:
        results = asyncio.run(crawl())
    finally:
        readers.close()
    assert results[:-1] == read_here(good)
    assert isinstance(results[-1], TypeError)


@pytest.mark.parametrize(
    ("value", "workers"), [("auto", auto_workers()), ("", auto_workers()), (None, auto_workers()),
                           ("0", 0), (3, 3), ("2", 2)],
)  # fmt: skip
def test_page_workers_are_auto_or_a_count(value: object, workers: int) -> None:
    assert parse_workers(value) == workers


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_other_page_worker_counts_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="page workers"):
        parse_workers(value)


@pytest.mark.parametrize(("cpus", "workers"), [(1, 0), (2, 1), (4, 3), (16, 4)])
def test_auto_uses_every_core_but_the_crawls(cpus: int, workers: int) -> None:
    assert auto_workers(cpus) == workers


def test_a_bad_page_worker_count_is_one_line_and_no_crawl(tmp_path: Path) -> None:
    result = run_newsmirror(
        "crawl", "presstv", "--db", str(tmp_path / "a.db"), "--page-workers", "x"
    )
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0
    assert "--page-workers" in result.stderr
    assert not (tmp_path / "a.db").exists()


def _archive(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite_utils.Database(path)
    queries = {
        "articles": "SELECT key, title, body, published_at, section, tags, mirrors, "
        "content_hash, version_count FROM articles ORDER BY key",
        "versions": "SELECT article_key, content_hash, hosts FROM versions "
        "ORDER BY article_key, content_hash",
        "hosts": "SELECT article_key, host, content_hash, last_outcome FROM article_hosts "
        "ORDER BY article_key, host",
        "mirrors": "SELECT host, state FROM mirrors ORDER BY host",
        "outcomes": "SELECT host, outcome, count(*) FROM captures GROUP BY 1, 2 ORDER BY 1, 2",
    }
    return {name: list(db.execute(sql).fetchall()) for name, sql in queries.items()}


@pytest.mark.crawl
def test_a_crawl_archives_the_same_with_or_without_page_workers(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    archives = []
    for workers in ("0", "2"):
        path = tmp_path / f"workers-{workers}.db"
        result = run_newsmirror(
            "crawl", "presstv", "--db", str(path), *connect_args(replay_server), *FAST,
            "--page-workers", workers,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        archives.append(_archive(path))
    assert archives[0] == archives[1]
    assert archives[0]["articles"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.crawl
def test_a_killed_crawl_leaves_no_page_worker_behind(
    tmp_path: Path, replay_server: ReplayServer
) -> None:
    crawl = subprocess.Popen(
        [
            sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(tmp_path / "a.db"),
            *connect_args(replay_server), *FAST, "--page-workers", "1",
        ],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and len(workers) < 2:  # the forkserver and a worker
            time.sleep(0.05)
            workers = descendants(crawl.pid) - {crawl.pid}
        assert len(workers) >= 2, "no page worker started"
        crawl.send_signal(signal.SIGKILL)
        crawl.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        if crawl.poll() is None:
            crawl.kill()
