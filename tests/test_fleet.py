"""A fleet on scrapy-redis with a real redis-server: workers plus one writer equal one crawl."""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlite_utils
from scrapy import Request, Spider
from scrapy.exceptions import DontCloseSpider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from bench.process_tree import children
from crawler.distributed import fleet, serializer
from crawler.distributed.codec import encode_item
from crawler.distributed.keys import FleetKeys
from crawler.distributed.local import RedisServerMissingError, redis_server
from crawler.distributed.queue import ReliableQueue
from crawler.distributed.worker import QUIET_SECONDS, FleetMembership, bury_dead
from crawler.items import Capture
from crawler.profiles import load_profile, profile_text
from crawler.replay import ReplayConfig, ReplayServer, build_site, serve
from crawler.storage import Store
from spiders.mirror import MirrorSpider
from tests.conftest import FAST, REPO, connect_args, run_newsmirror

pytestmark = pytest.mark.crawl


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of the test's own on a free loopback port (make test installs it;
    missing, the test fails rather than skips)."""
    try:
        with redis_server() as url:
            yield url
    except RedisServerMissingError as exc:
        pytest.fail(str(exc))


def _summary(db: Path) -> dict[str, Any]:
    archive = sqlite_utils.Database(db)
    return {
        "articles": set(
            archive.execute("SELECT key, content_hash, mirrors, version_count FROM articles")
        ),
        "versions": set(archive.execute("SELECT article_key, content_hash, hosts FROM versions")),
        "mirrors": set(archive.execute("SELECT host, role, state FROM mirrors")),
    }


def _same(got: dict[str, Any], want: dict[str, Any]) -> None:
    for name, wanted in want.items():
        missing, extra = sorted(wanted - got[name])[:5], sorted(got[name] - wanted)[:5]
        assert got[name] == wanted, (name, "missing", missing, "extra", extra)


def _reference(tmp_path: Path, server: ReplayServer) -> dict[str, Any]:
    db = tmp_path / "single.db"
    result = run_newsmirror("crawl", "presstv", "--db", str(db), *connect_args(server), *FAST)
    assert result.returncode == 0, result.stderr
    return _summary(db)


def _fleet_crawl(
    redis_url: str, db: Path, server: ReplayServer, *extra: str
) -> subprocess.CompletedProcess[str]:
    """`crawl --redis --workers 3 --db`: three workers and the writer on this machine."""
    args = ["--redis", redis_url, "--workers", "3", "--db", str(db), *connect_args(server)]
    return run_newsmirror("crawl", "presstv", *args, *FAST, *extra, timeout=300)


def _captures(db: Path) -> int:
    try:
        return int(sqlite_utils.Database(db).execute("SELECT count(*) FROM captures").fetchone()[0])
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def test_a_fleet_of_three_workers_and_a_writer_equals_one_crawl(
    tmp_path: Path, replay_server: ReplayServer, redis_url: str
) -> None:
    want = _reference(tmp_path, replay_server)
    db = tmp_path / "fleet.db"
    result = _fleet_crawl(redis_url, db, replay_server)
    assert result.returncode == 0, result.stderr
    _same(_summary(db), want)
    # Probes share the frontier: a worker whose own probes were answered at other workers
    # sent none of its story requests (other workers found most of the stories anyway).
    assert "never sent" not in result.stderr, result.stderr[-3000:]
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter("newsmirror:*")), "a finished crawl leaves nothing in Redis"


def test_a_worker_killed_mid_crawl_loses_nothing(
    tmp_path: Path, replay_server: ReplayServer, redis_url: str
) -> None:
    want = _reference(tmp_path, replay_server)
    db = tmp_path / "fleet.db"
    writer = subprocess.Popen(
        [sys.executable, "-m", "crawler", "ingest", "--redis", redis_url, "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Slow enough that the crawl is still under way when its first captures are written.
    slow = [*FAST, "--set", "DOWNLOAD_DELAY=0.15"]
    logs = [tmp_path / f"launcher-{n}.log" for n in range(3)]
    streams = [log.open("w") for log in logs]
    launchers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "crawler",
                "crawl",
                "presstv",
                "--redis",
                redis_url,
                *connect_args(replay_server),
                *slow,
                "-v",  # the workers' log says when each left the crawl, and why
            ],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stream,
        )
        for stream in streams
    ]
    try:
        deadline = time.monotonic() + 120
        while _captures(db) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _all_done(launchers), "the crawl ended before a worker could be killed"
        running = [launcher.poll() is None for launcher in launchers]
        worker = _a_worker(launchers)
        os.kill(worker, signal.SIGKILL)  # a worker, not its launcher
        for launcher in launchers:
            launcher.wait(timeout=240)
        errors = _finished(writer, redis_url, timeout=240, logs=logs, running=running)
    finally:
        for process in launchers:
            if process.poll() is None:
                process.kill()
            process.wait()
        if writer.poll() is None:
            writer.kill()
            writer.communicate()  # reaps it and closes its pipe
        for stream in streams:
            stream.close()
    assert writer.returncode == 0, errors
    _same(_summary(db), want)


def _finished(
    writer: subprocess.Popen[str],
    redis_url: str,
    timeout: float,
    logs: list[Path],
    running: list[bool],
) -> str:
    """The writer's stderr once it has exited; if it has not within `timeout`, the test fails
    with where it was (its stacks, from SIGUSR1), what the fleet's keys in Redis held, which
    launchers still ran when the worker was killed, and what their workers logged."""
    try:
        return writer.communicate(timeout=timeout)[1]
    except subprocess.TimeoutExpired:
        writer.send_signal(signal.SIGUSR1)
        time.sleep(2)
        writer.kill()
        errors = writer.communicate()[1]
    said = "\n".join(
        f"launcher {n}: {line}"
        for n, log in enumerate(logs)
        for line in log.read_text(errors="replace").splitlines()
        if " WARNING: " in line or " ERROR: " in line or " leaves: " in line
    )
    pytest.fail(
        f"the writer did not finish\n{_fleet_state(redis_url)}\n"
        f"launchers running at the kill: {running}\n{said[-6000:]}\n{errors[-6000:]}"
    )


def _fleet_state(redis_url: str) -> str:
    server = redis.Redis.from_url(redis_url, decode_responses=True)
    lines = []
    for key in sorted(server.scan_iter("newsmirror:*")):
        kind = server.type(key)
        if key.endswith(":workers"):
            now = time.time()
            ages = {name: round(now - float(seen), 1) for name, seen in server.hgetall(key).items()}
            lines.append(f"{key}: silent for {ages}")
        elif kind == "hash":
            lines.append(f"{key}: {server.hlen(key)} fields")
        elif kind == "zset":
            lines.append(f"{key}: {server.zcard(key)} entries")
        elif kind == "list":
            lines.append(f"{key}: {server.llen(key)} items")
        else:
            lines.append(f"{key}: {kind!s}")
    return "\n".join(lines)


def _all_done(launchers: list[subprocess.Popen[bytes]]) -> bool:
    return all(launcher.poll() is not None for launcher in launchers)


def _a_worker(launchers: list[subprocess.Popen[bytes]]) -> int:
    """The pid of a worker process one of the launchers started."""
    for launcher in launchers:
        if workers := children(launcher.pid):
            return workers[0]
    raise AssertionError("no launcher has a worker")


def test_per_host_delay_holds_across_the_fleet(tmp_path: Path, redis_url: str) -> None:
    delay = 0.12
    with serve(build_site(ReplayConfig(stories=20))) as server:
        politeness = [
            "--set",
            f"DOWNLOAD_DELAY={delay}",
            "--set",
            "CONCURRENT_REQUESTS_PER_DOMAIN=1",
        ]
        result = _fleet_crawl(redis_url, tmp_path / "polite.db", server, *politeness)
        hits = list(server.requests)
    assert result.returncode == 0, result.stderr
    for host in {hit.host for hit in hits}:
        times = sorted(hit.at for hit in hits if hit.host == host)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        if len(gaps) < 5:
            continue
        # Three workers each keeping the delay alone would start requests about delay/3
        # apart. (Single gaps jitter with the machine's load: a request booked first can
        # leave a moment late, so the rate and the typical gap are what is checked.)
        assert statistics.median(gaps) >= 0.9 * delay, (host, sorted(gaps)[:5])
        assert times[-1] - times[0] >= 0.9 * delay * len(gaps), (host, len(gaps))


def test_backfill_by_a_fleet_asks_each_id_once_per_host(tmp_path: Path, redis_url: str) -> None:
    site = build_site(ReplayConfig(unlisted_every=9, gap_every=17, id_redirects=True))
    first, last = min(s.id for s in site.stories), max(s.id for s in site.stories)
    db = tmp_path / "b.db"
    with serve(site) as server:
        routes = connect_args(server)
        assert run_newsmirror("crawl", "presstv", "--db", str(db), *routes, *FAST).returncode == 0
        server.clear_requests()
        result = _fleet_crawl(redis_url, db, server, "--backfill-ids", f"{first}-{last}")
        hits = list(server.requests)
    assert result.returncode == 0, result.stderr
    asked = collections.Counter(
        (hit.host, hit.path) for hit in hits if re.fullmatch(r"/Detail/\d+", hit.path)
    )
    assert asked, "the backfill asked for ids"
    assert max(asked.values()) == 1, asked.most_common(3)
    archived = {
        row[0] for row in sqlite_utils.Database(db).execute("SELECT source_id FROM articles")
    }
    assert {str(i) for i in site.truth.unlisted} <= archived


def test_a_fleet_run_from_any_directory_skips_what_its_database_knows(
    tmp_path: Path, redis_url: str
) -> None:
    # The workers run in the project's directory: a relative --db named another file there,
    # so every known story was asked again.
    here = tmp_path / "archive"
    here.mkdir()
    with serve(build_site(ReplayConfig(stories=40))) as server:
        routes = connect_args(server)
        first = run_newsmirror("crawl", "presstv", "--db", str(here / "a.db"), *routes, *FAST)
        assert first.returncode == 0, first.stderr
        stories = sum(1 for hit in server.requests if "/Detail/" in hit.path)
        server.clear_requests()
        args = ["--redis", redis_url, "--workers", "2", "--db", "a.db", "--recheck-days", "0"]
        again = run_newsmirror("crawl", "presstv", *args, *routes, *FAST, cwd=here)
        asked = sum(1 for hit in server.requests if "/Detail/" in hit.path)
    assert again.returncode == 0, again.stderr
    assert stories > 40
    assert asked < stories / 4, (asked, stories)


def test_launchers_without_a_database_start_together(tmp_path: Path, redis_url: str) -> None:
    # Every launcher created and migrated the default database it never writes; started
    # together on a machine without one, all but one failed with "locked" (CI: the
    # killed-worker test's other two launchers were gone before the kill).
    with serve(build_site(ReplayConfig(stories=20))) as server:
        args = ["crawl", "presstv", "--redis", redis_url, *connect_args(server), *FAST]
        launchers = [
            subprocess.Popen(
                [sys.executable, "-m", "crawler", *args],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(REPO)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        errors = [launcher.communicate(timeout=240)[1] for launcher in launchers]
    assert [launcher.returncode for launcher in launchers] == [0, 0, 0], errors
    assert not (tmp_path / "data").exists(), "a launcher without --db writes no database"


def test_workers_split_a_backfill_range_between_them(tmp_path: Path) -> None:
    ranges = []
    for index in range(3):
        crawler = get_crawler(
            MirrorSpider,
            {
                "NEWSMIRROR_DB": str(tmp_path / "empty.db"),
                "NEWSMIRROR_WORKER_INDEX": index,
                "NEWSMIRROR_WORKER_COUNT": 3,
            },
        )
        spider = MirrorSpider.from_crawler(crawler, profile=load_profile("presstv"))
        sent = list(spider.backfill_requests(1000, 1029))
        waiting = [request for held in spider.held.values() for request in held]  # on probes
        ids = {
            request.meta["story_key"]
            for request in [*sent, *waiting]
            if request.meta.get("page_type") == "article"
        }
        ranges.append(ids)
    assert set().union(*ranges) == {f"presstv:{i}" for i in range(1000, 1030)}
    assert sum(len(ids) for ids in ranges) == 30, "no id is given to two workers"


def _capture(n: int, delivery: str) -> Capture:
    url = f"https://www.presstv.ir/Section/10{n}"
    body = f"<html><head><title>T{n}</title></head><body><p>Story {n}.</p></body></html>"
    return Capture(
        site="presstv",
        url=url,
        requested_url=url,
        host="www.presstv.ir",
        fetched_at=f"2025-03-0{n}T10:00:00+00:00",
        status=200,
        outcome="listing",
        page_type="listing",
        body=body.encode(),
        delivery_id=delivery,
    )


def test_the_writer_stores_an_item_delivered_twice_once(tmp_path: Path, redis_url: str) -> None:
    server = redis.Redis.from_url(redis_url)
    text, _ = profile_text("presstv")
    keys = fleet.join_crawl(server, "presstv", text, {"profile": "presstv"})
    first, second = _capture(1, "d-1"), _capture(2, "d-2")
    # A writer killed before it committed left its batch taken; the same item came again.
    server.lpush(keys.taken, encode_item(first))
    server.lpush(keys.items, encode_item(first), encode_item(second), encode_item(second))
    server.hset(keys.state, "workers_seen", 1)  # the workers came and went
    db = tmp_path / "w.db"
    result = run_newsmirror("ingest", "--redis", redis_url, "--db", str(db), timeout=60)
    assert result.returncode == 0, result.stderr
    stored = sqlite_utils.Database(db).execute("SELECT delivery_id FROM captures").fetchall()
    assert sorted(row[0] for row in stored) == ["d-1", "d-2"]
    assert not list(server.scan_iter("newsmirror:*")), "the finished crawl is forgotten"


def test_a_writer_that_cannot_write_says_so_and_keeps_the_items(
    tmp_path: Path, redis_url: str
) -> None:
    server = redis.Redis.from_url(redis_url)
    text, _ = profile_text("presstv")
    keys = fleet.join_crawl(server, "presstv", text, {"profile": "presstv"})
    noise = random.Random(3)
    items = []
    for n in range(300):
        capture = _capture(1, f"d-{n}")
        capture.url = capture.requested_url = f"https://www.presstv.ir/Section/{n}"
        capture.body = noise.randbytes(8192)  # incompressible: the file grows
        items.append(encode_item(capture))
    server.lpush(keys.items, *items)
    server.hset(keys.state, "workers_seen", 1)
    db = tmp_path / "full.db"
    Store(db).close()  # the schema fits under the cap; the items do not

    def cap_file_size() -> None:  # in the child: writes past the cap fail with EFBIG
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))

    result = subprocess.run(
        [sys.executable, "-m", "crawler", "ingest", "--redis", redis_url, "--db", str(db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=cap_file_size,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "newsmirror: cannot write" in result.stderr
    left = server.llen(keys.items) + server.llen(keys.taken)
    stored = sqlite_utils.Database(db).execute("SELECT count(*) FROM captures").fetchone()[0]
    assert left + stored >= len(items), "every item is in the database or still in Redis"


@pytest.mark.parametrize(
    ("seconds_silent", "holds_a_request", "done"),
    [
        (0.0, False, False),  # a live worker: the crawl goes on
        (60.0, True, False),  # dead with a request: a live worker must put it back first
        (60.0, False, True),  # dead and owing nothing: gone, even if nobody else noticed
    ],
)
def test_a_crawl_is_done_without_a_dead_worker_nobody_saw_die(
    redis_url: str, seconds_silent: float, holds_a_request: bool, done: bool
) -> None:
    # A worker killed while it held nothing, the others finishing within the seconds its
    # silence needs to count as death: they leave, and its entry would stay for ever.
    server = redis.Redis.from_url(redis_url)
    keys = FleetKeys("presstv", "test-crawl")
    server.hset(keys.state, "workers_seen", 3)
    server.hset(keys.workers, "worker-1", time.time() - seconds_silent)
    if holds_a_request:
        server.hset(keys.inflight("worker-1"), "request-1", "{}")
    assert fleet.crawl_done(server, keys) is done
    assert server.hexists(keys.workers, "worker-1") is not done


def test_a_dead_workers_host_slots_are_freed_with_its_requests(redis_url: str) -> None:
    # A worker killed mid-request holds slots of the hosts it was asking: until they were
    # freed (only when they expired, after minutes) the rest of the fleet could not ask
    # those hosts, and a crawl stalled.
    server = redis.Redis.from_url(redis_url)
    keys = FleetKeys("presstv", "test-crawl")
    slots = f"{keys.throttle('www.presstv.ir')}:slots"
    server.zadd(slots, {"dead[1]|a": time.time() + 120, "dead[1]|b": time.time() + 120})
    server.zadd(slots, {"alive|c": time.time() + 120})
    server.hset(keys.workers, mapping={"dead[1]": time.time() - 60, "alive": time.time()})
    request = serializer.dumps({"url": "https://www.presstv.ir/Detail/1", "priority": 20})
    server.hset(keys.inflight("dead[1]"), "request-1", request)
    assert bury_dead(server, keys, "alive") == 1
    assert server.zrange(slots, 0, -1) == [b"alive|c"]
    assert server.zcard(keys.requests) == 1  # its request is back on the frontier
    assert not server.hexists(keys.workers, "dead[1]")


def test_a_worker_leaves_only_once_the_fleet_has_stayed_quiet(redis_url: str) -> None:
    # Story requests that wait for their host's probe are in no Redis key until their worker
    # takes up the probe's answer at its next heartbeat: until then the fleet looks idle. A
    # worker that left then was missing for the rest of the crawl (CI: the killed-worker
    # test found the other workers gone and the crawl left with 240 requests and nobody).
    server = redis.Redis.from_url(redis_url)
    keys = FleetKeys("presstv", "test-crawl")
    settings = {
        "NEWSMIRROR_FLEET_SITE": keys.site,
        "NEWSMIRROR_FLEET_CRAWL": keys.crawl,
        "NEWSMIRROR_INFLIGHT_KEY": keys.inflight("other"),
    }
    spider = Spider.from_crawler(get_crawler(Spider, settings), name="fleet")
    other = ReliableQueue(server, spider, keys.requests, serializer)
    member = FleetMembership(spider.crawler, server, keys, "me")
    now = [1000.0]
    member.clock = lambda: now[0]

    def closes(after: float) -> bool:
        now[0] += after
        try:
            member.spider_idle(spider)
        except DontCloseSpider:
            return False
        return True

    assert not closes(0), "idle at one look: not yet"
    assert not closes(0.5), "idle at two looks in a moment: not yet"
    # Another worker took held requests up, took one and answered it in between.
    other.push(Request("https://www.presstv.ir/Detail/1"))
    assert other.pop() is not None
    server.delete(keys.inflight("other"))
    assert not closes(QUIET_SECONDS), "a request was taken since the last look"
    assert not closes(QUIET_SECONDS / 2), "quiet for less than QUIET_SECONDS"
    other.push(Request("https://www.presstv.ir/Detail/2"))
    assert not closes(QUIET_SECONDS), "a request waits on the frontier"
    assert other.pop() is not None
    server.delete(keys.inflight("other"))
    assert not closes(0)
    assert closes(QUIET_SECONDS), "idle for QUIET_SECONDS with nothing taken: done"


def test_a_page_hands_its_capture_over_after_what_it_leads_to(tmp_path: Path) -> None:
    # A fleet worker's capture drops its request from the in-flight hash. Handed over before
    # the page's links, it left a moment in which the fleet looked idle, and a worker killed
    # then lost the links for good: the request was answered, its links never queued.
    crawler = get_crawler(MirrorSpider, {"NEWSMIRROR_DB": str(tmp_path / "empty.db")})
    spider = MirrorSpider.from_crawler(crawler, profile=load_profile("presstv"))
    site = build_site(ReplayConfig(stories=12))
    host, held = "www.presstv.ir", "www.presstv.co.uk"
    spider.adopt_probe(host, "sha-of-its-404-page", None)  # story requests go out at once
    links = "".join(f'<a href="{site.link_url(s, host)}">{s.id}</a>' for s in site.newest(host))
    home = Request(f"https://{host}/", meta={"page_type": "home"})
    body = f"<html><body>{links}</body></html>".encode()
    page = HtmlResponse(home.url, body=body, request=home, encoding="utf-8")

    async def read() -> list[Any]:
        return [item async for item in spider.parse_page(page)]

    out = asyncio.run(read())
    assert isinstance(out[-1], Capture), out[-1]
    assert sum(isinstance(item, Request) for item in out) == len(site.newest(host))
    # A probe that failed releases the story requests that waited for it: those first too.
    list(spider.backfill_requests(1000, 1002))
    waiting = len(spider.held[held])
    probe = Request(f"https://{held}/probe", meta={"page_type": "probe", "probe_host": held})
    failure = Failure(TimeoutError("took too long"))  # type: ignore[no-untyped-call]
    failure.request = probe  # type: ignore[attr-defined]
    out = list(spider.on_error(failure))
    assert waiting
    assert [type(item).__name__ for item in out] == ["Request"] * waiting + ["Capture"]


def test_a_probe_answered_at_another_worker_releases_what_waited_for_it(tmp_path: Path) -> None:
    crawler = get_crawler(MirrorSpider, {"NEWSMIRROR_DB": str(tmp_path / "empty.db")})
    spider = MirrorSpider.from_crawler(crawler, profile=load_profile("presstv"))
    list(spider.backfill_requests(1000, 1009))  # story requests wait for their host's probe
    waiting = {host: len(requests) for host, requests in spider.held.items()}
    one, other = sorted(waiting)[:2]
    assert waiting[one] == 10
    assert set(spider.awaited_probes()) == set(waiting)
    sent = spider.adopt_probe(one, "sha-of-its-404-page", None)
    assert len(sent) == 10
    assert spider.host_policy.probes[one] == "sha-of-its-404-page"
    # An answer that made the other worker give the host up: nothing is sent to it here.
    assert spider.adopt_probe(other, None, ("seized", "seizure notice")) == []
    assert not spider.host_policy.may_request(other)
    assert spider.adopt_probe(one, "again", None) == [], "an answer is taken once"
