"""Crawl memory: peak RSS of a crawl ten times larger against a small one (issue #5: ≤ 1.3×).

Each crawl is `newsmirror crawl presstv --connect-to ...` over the replay site, in a process of
its own; its peak RSS (VmHWM) is read while it runs, and so is the memory of the whole process
tree it starts (its page workers, their forkserver; bench/process_tree.py), so one reading
never mixes two crawls.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import sqlite_utils

from bench.commands import REPO, crawl_command
from bench.process_tree import run_measured
from crawler.replay import ReplayConfig, build_site, serve

# About 3.6 pages a story (three live hosts, a seized one, listings and feeds): 2,000 and
# 20,000 pages.
SMALL_STORIES = 560
LARGE_STORIES = 5600


def crawl_peak(stories: int, workdir: Path) -> dict[str, Any]:
    """Serve a replay site of `stories` stories and crawl it once into a new database."""
    db = workdir / f"crawl-{stories}.db"
    with serve(build_site(ReplayConfig(stories=stories))) as server:
        peaks = run_measured(crawl_command(db, server.connect_to()), REPO)
    stats = json.loads(
        sqlite_utils.Database(db).execute("SELECT stats FROM crawl_runs").fetchone()[0]
    )
    return {"stories": stories, "pages": stats["pages"], **peaks}


def measure(small: int = SMALL_STORIES, large: int = LARGE_STORIES) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="newsmirror-memory-") as tmp:
        first = crawl_peak(small, Path(tmp))
        second = crawl_peak(large, Path(tmp))
    return {
        "small": first,
        "large": second,
        "ratio": second["peak_rss_mb"] / first["peak_rss_mb"],
        "tree_ratio": second["peak_tree_mb"] / first["peak_tree_mb"],
    }


def render_section(result: dict[str, Any]) -> str:
    small, large = result["small"], result["large"]
    rows = "\n".join(
        f"| {run['stories']:,} | {run['pages']:,} | {run['peak_rss_mb']:.0f} | "
        f"{run['peak_tree_mb']:.0f} |"
        for run in (small, large)
    )
    return f"""
## Crawl memory (issue #5: ≤ 1.3×)

`bench/crawl_memory.py`: `newsmirror crawl presstv --connect-to ...` over the replay site, one
small crawl and one ten times larger, each into a new database in a process of its own: the
crawl process's peak RSS (VmHWM), and the peak of its whole process tree, page workers and
their forkserver included (the sum of their proportional set sizes, read every 50 ms).

| stories | pages | crawl process, peak RSS MB | with its page workers, MB |
|---|---|---|---|
{rows}

Large against small: **{result["ratio"]:.2f}×** (the crawl process),
**{result["tree_ratio"]:.2f}×** (with its page workers).
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl_memory", description=__doc__)
    parser.add_argument("--small", type=int, default=SMALL_STORIES, help="stories")
    parser.add_argument("--large", type=int, default=LARGE_STORIES, help="stories")
    args = parser.parse_args(argv)
    result = measure(args.small, args.large)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
