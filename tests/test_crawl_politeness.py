"""Politeness and reach: robots.txt obeyed, a User-Agent naming the project, profile hosts only."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from crawler.hosts import HostBook
from crawler.middlewares import HostGuardMiddleware, OffProfileRequest
from crawler.profiles import load_profile
from crawler.replay import ReplayConfig, ReplaySite, build_site, serve
from tests.conftest import FAST, connect_args, run_newsmirror


def _profile_with_search_section(tmp_path: Path) -> Path:
    """The Press TV profile plus /search as a section: the replay robots.txt disallows it."""
    text = resources.files("crawler.sites").joinpath("presstv.toml").read_text("utf-8")
    text = text.replace("sections = [\n", 'sections = [\n    "/search",\n', 1)
    path = tmp_path / "presstv-search.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.crawl
@pytest.mark.parametrize("obey", [True, False])
def test_robots_txt_is_obeyed_unless_told_otherwise(
    tmp_path: Path, replay_site: ReplaySite, obey: bool
) -> None:
    profile = _profile_with_search_section(tmp_path)
    with serve(replay_site) as server:
        extra = [] if obey else ["--ignore-robots"]
        result = run_newsmirror(
            "crawl",
            str(profile),
            "--db",
            str(tmp_path / "r.db"),
            *connect_args(server),
            *FAST,
            *extra,
        )
        hits = list(server.requests)
    assert result.returncode == 0, result.stderr
    searched = [hit for hit in hits if hit.path.startswith("/search")]
    assert bool(searched) is not obey


@pytest.mark.crawl
def test_every_request_names_the_project_in_its_user_agent(
    tmp_path: Path, replay_site: ReplaySite
) -> None:
    with serve(replay_site) as server:
        result = run_newsmirror(
            "crawl",
            "presstv",
            "--db",
            str(tmp_path / "u.db"),
            *connect_args(server),
            *FAST,
            "--max-pages",
            "30",
        )
        agents = {hit.user_agent for hit in server.requests}
    assert result.returncode == 0, result.stderr
    assert len(agents) == 1
    assert agents.pop().startswith("newsmirror/")


class _Spider(Spider):
    name = "guarded"

    def __init__(self) -> None:
        super().__init__()
        self.host_policy = HostBook(load_profile("presstv"))


def _guard() -> tuple[HostGuardMiddleware, _Spider]:
    crawler = get_crawler(_Spider)
    spider = _Spider()
    crawler.spider = spider
    return HostGuardMiddleware.from_crawler(crawler), spider


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/intent/tweet?url=https://www.presstv.ir/",
        "https://presstv.ir.evil.com/Detail/2025/03/08/745312/x",
        "https://evilpresstv.ir/",
        "https://www.presstv.fr/",
    ],
)
def test_requests_outside_the_profile_never_leave(url: str) -> None:
    guard, _ = _guard()
    with pytest.raises(OffProfileRequest):
        guard.process_request(Request(url))


def test_profile_hosts_pass_until_found_seized() -> None:
    guard, spider = _guard()
    guard.process_request(Request("https://www.presstv.co.uk/Detail/2025/03/08/745312/x"))
    spider.host_policy.give_up("www.presstv.co.uk", "seized", "notice")
    with pytest.raises(OffProfileRequest):
        guard.process_request(Request("https://www.presstv.co.uk/Detail/2025/03/08/745312/x"))
    guard.process_request(Request("https://www.presstv.ir/"))


@pytest.mark.crawl
def test_a_crawl_reuses_its_connections(tmp_path: Path) -> None:
    # Responses come back in bursts while the crawl is still finding its next pages: with
    # only as many idle connections kept as it uses at once, it closed the surplus and
    # opened new ones a moment later (one connection for every 4 or 5 requests, here).
    site = build_site(ReplayConfig(stories=300))
    with serve(site) as server:
        result = run_newsmirror(
            "crawl", "presstv", "--db", str(tmp_path / "c.db"), *connect_args(server), *FAST,
            "--set", "CONCURRENT_REQUESTS=32",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        requests, connections = len(server.requests), server.connections_accepted
    assert requests > 1000
    assert connections * 10 < requests, (connections, requests)
