"""Progress while crawling: a live line on a terminal, periodic plain lines otherwise."""

from __future__ import annotations

import io

import pytest
from scrapy.utils.test import get_crawler

from crawler.extensions import ProgressReporter
from crawler.replay import ReplayServer
from tests.conftest import FAST, connect_args, run_newsmirror


def _reporter(mode: str, stream: io.StringIO) -> ProgressReporter:
    crawler = get_crawler(settings_dict={"NEWSMIRROR_PROGRESS": mode})
    reporter = ProgressReporter(crawler.stats, mode, 1.0, stream)
    stats = crawler.stats
    stats.set_value("newsmirror/pages", 120)
    stats.set_value("newsmirror/stories_new", 30)
    stats.set_value("newsmirror/stories_updated", 2)
    stats.set_value("newsmirror/versions_new", 35)
    stats.set_value("newsmirror/host/www.presstv.tv/errors", 5)
    return reporter


def test_status_line_shows_pages_rate_stories_versions_and_errors_per_host() -> None:
    line = _reporter("lines", io.StringIO()).status_line()
    assert "pages 120 (" in line
    assert "/s)" in line
    assert "stories +30 new, 2 updated" in line
    assert "versions +35" in line
    assert "errors: www.presstv.tv 5" in line


def test_live_mode_rewrites_one_line_and_ends_it_at_the_close() -> None:
    stream = io.StringIO()
    reporter = _reporter("live", stream)
    reporter.report()
    reporter.report(final=True)
    written = stream.getvalue()
    assert written.count("\r\x1b[K") == 2
    assert written.endswith("\n")
    assert written.count("\n") == 1


def test_lines_mode_prints_whole_lines() -> None:
    stream = io.StringIO()
    reporter = _reporter("lines", stream)
    reporter.report()
    reporter.report()
    assert stream.getvalue().count("\n") == 2
    assert "\r" not in stream.getvalue()


@pytest.mark.crawl
def test_a_crawl_prints_progress_lines_to_stderr(tmp_path, replay_server: ReplayServer) -> None:
    args = [*FAST, "--progress", "lines", "--set", "NEWSMIRROR_PROGRESS_INTERVAL=0.2"]
    result = run_newsmirror(
        "crawl", "presstv", "--db", str(tmp_path / "p.db"), *connect_args(replay_server), *args
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "] pages " in line]
    assert len(lines) >= 2
    assert "errors: www.presstv.tv" in lines[-1]
