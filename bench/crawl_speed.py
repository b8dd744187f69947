"""Crawl throughput: the full pipeline against a bare Scrapy spider fetching the same pages.

Both run in their own processes against the same replay servers with the same settings, in
the same session, so the ratio holds even on a noisy machine.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.replay import ReplayConfig, build_site, serve
from crawler.runner import LOOPBACK_SETTINGS

REPO = Path(__file__).resolve().parent.parent


def _full_crawl(db: Path, connect_to: list[str]) -> dict[str, float]:
    args = [
        sys.executable,
        "-m",
        "crawler",
        "crawl",
        "presstv",
        "--db",
        str(db),
        "--progress",
        "off",
    ]
    for route in connect_to:
        args += ["--connect-to", route]
    for name, value in LOOPBACK_SETTINGS.items():
        args += ["--set", f"{name}={json.dumps(value)}"]
    subprocess.run(args, cwd=REPO, check=True, capture_output=True)
    stats = json.loads(
        sqlite_utils.Database(db).execute("SELECT stats FROM crawl_runs").fetchone()[0]
    )
    return {"pages": stats["pages"], "seconds": stats["elapsed_seconds"]}


def _bare_crawl(db: Path, connect_to: list[str], workdir: Path) -> dict[str, float]:
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
    out = subprocess.run(
        [sys.executable, "-m", "bench.bare_spider", str(url_file), str(options_file)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(stories: int = 300, repeat: int = 3) -> dict[str, Any]:
    """Median pages/s of the full crawl and of the bare spider, and their ratio."""
    site = build_site(ReplayConfig(stories=stories))
    full_rates, bare_rates, pages = [], [], 0.0
    with serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        for attempt in range(repeat):
            workdir = Path(tmp) / str(attempt)
            workdir.mkdir()
            db = workdir / "full.db"
            full = _full_crawl(db, server.connect_to())
            bare = _bare_crawl(db, server.connect_to(), workdir)
            pages = full["pages"]
            full_rates.append(full["pages"] / full["seconds"])
            bare_rates.append(bare["pages"] / bare["seconds"])
    ratios = [f / b for f, b in zip(full_rates, bare_rates, strict=True)]
    return {
        "stories": stories,
        "pages": pages,
        "full_rates": full_rates,
        "bare_rates": bare_rates,
        "ratios": ratios,
        "full_pages_per_s": statistics.median(full_rates),
        "bare_pages_per_s": statistics.median(bare_rates),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "runs": repeat,
    }


def main() -> None:
    result = measure(stories=int(sys.argv[1]) if len(sys.argv) > 1 else 300)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
