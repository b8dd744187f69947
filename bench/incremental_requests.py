"""Incremental runs: requests of a second run over an unchanged site against the first run.

The second run is given no recheck window (`--recheck-days 0`), because the target excludes
the window: what is measured is the cost of finding out that nothing is new.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.commands import REPO, crawl_command
from crawler.replay import ReplayConfig, build_site, serve

TARGET = 0.10


def _crawl(db: Path, connect_to: list[str], *extra: str) -> None:
    subprocess.run(crawl_command(db, connect_to, *extra), cwd=REPO, check=True, capture_output=True)


def measure(stories: int = 5000) -> dict[str, Any]:
    site = build_site(ReplayConfig(stories=stories))
    with serve(site) as server, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "archive.db"
        _crawl(db, server.connect_to())
        first = len(server.requests)
        server.clear_requests()
        _crawl(db, server.connect_to(), "--recheck-days", "0")
        second = list(server.requests)
    not_modified = sum(1 for hit in second if hit.not_modified)
    return {
        "stories": stories,
        "first_run_requests": first,
        "incremental_requests": len(second),
        "incremental_304s": not_modified,
        "ratio": len(second) / first,
        "target": TARGET,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.incremental_requests", description=__doc__
    )
    parser.add_argument("stories", type=int, nargs="?", default=5000, help="(default: 5000)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.stories), indent=2))


if __name__ == "__main__":
    main()
