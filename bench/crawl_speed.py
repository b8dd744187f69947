"""Crawl throughput: the full pipeline against two Scrapy spiders fetching the same pages.

The bare spider (bench/bare_spider.py) yields nothing: the ceiling. The usual recipe
(bench/usual_spider.py) runs trafilatura.extract on every page and writes JSON lines. All
three run in their own processes against the same replay servers with the same settings, in
the same session, so the ratios hold even on a noisy machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlite_utils

from bench.commands import REPO, crawl_command
from crawler.replay import ReplayConfig, build_site, serve
from crawler.runner import LOOPBACK_SETTINGS

# Issue #5: at least 5,000 stories on each of the three live hosts.
DEFAULT_STORIES = 5000


def _full_crawl(db: Path, connect_to: list[str]) -> dict[str, float]:
    args = crawl_command(db, connect_to)
    subprocess.run(args, cwd=REPO, check=True, capture_output=True)
    stats = json.loads(
        sqlite_utils.Database(db).execute("SELECT stats FROM crawl_runs").fetchone()[0]
    )
    return {"pages": stats["pages"], "seconds": stats["elapsed_seconds"]}


def _baseline_crawl(
    module: str, db: Path, connect_to: list[str], workdir: Path
) -> dict[str, float]:
    """A baseline spider (`bench.bare_spider`, `bench.usual_spider`) over the URLs the full
    crawl fetched in `db`."""
    urls = [
        row[0]
        for row in sqlite_utils.Database(db).execute(
            "SELECT coalesce(requested_url, url) FROM captures WHERE status IS NOT NULL"
        )
    ]
    url_file = workdir / "urls.txt"
    url_file.write_text("\n".join(urls))
    options_file = workdir / "options.json"
    options = {
        "db": str(workdir / "unused.db"),
        "connect_to": connect_to,
        "progress": "off",
        "overrides": LOOPBACK_SETTINGS,
    }
    options_file.write_text(json.dumps(options))
    # The usual recipe writes what it extracted; the bare spider writes nothing.
    outputs = [] if module == "bench.bare_spider" else [str(workdir / "usual.jsonl")]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            str(url_file),
            str(options_file),
            *outputs,
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(stories: int = DEFAULT_STORIES, repeat: int = 3) -> dict[str, Any]:
    """Pages/s of the full crawl, the bare spider and the usual recipe, and the ratios of
    full to each, run by run (the three take turns within a run)."""
    site = build_site(ReplayConfig(stories=stories))
    full_rates: list[float] = []
    bare_rates: list[float] = []
    usual_rates: list[float] = []
    pages = 0.0
    with serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        for attempt in range(repeat):
            workdir = Path(tmp) / str(attempt)
            workdir.mkdir()
            db = workdir / "full.db"
            full = _full_crawl(db, server.connect_to())
            bare = _baseline_crawl("bench.bare_spider", db, server.connect_to(), workdir)
            usual = _baseline_crawl("bench.usual_spider", db, server.connect_to(), workdir)
            pages = full["pages"]
            full_rates.append(full["pages"] / full["seconds"])
            bare_rates.append(bare["pages"] / bare["seconds"])
            usual_rates.append(usual["pages"] / usual["seconds"])
    ratios = [f / b for f, b in zip(full_rates, bare_rates, strict=True)]
    usual_ratios = [f / u for f, u in zip(full_rates, usual_rates, strict=True)]
    return {
        "stories": stories,
        "pages": pages,
        "full_rates": full_rates,
        "bare_rates": bare_rates,
        "usual_rates": usual_rates,
        "ratios": ratios,
        "usual_ratios": usual_ratios,
        "full_pages_per_s": statistics.median(full_rates),
        "bare_pages_per_s": statistics.median(bare_rates),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "usual_pages_per_s": statistics.median(usual_rates),
        "usual_ratio": statistics.median(usual_ratios),
        "runs": repeat,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl_speed", description=__doc__)
    parser.add_argument(
        "stories", type=int, nargs="?", default=DEFAULT_STORIES, help="(default: %(default)s)"
    )
    parser.add_argument("repeat", type=int, nargs="?", default=3, help="runs (default: 3)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(stories=args.stories, repeat=args.repeat), indent=2))


if __name__ == "__main__":
    main()
