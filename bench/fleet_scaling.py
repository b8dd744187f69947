"""Fleet scaling: pages/s of a fleet of 1, 2 and 4 workers (plus the writer) on the replay site.

Every answer of the replay servers waits LATENCY seconds, as a server far away would, and a
worker keeps at most PER_WORKER requests open (one machine's share), so one worker is bound
by latency and more workers add throughput, up to the fleet-wide per-host politeness
(DELAY between requests to a host, at most PER_HOST at once, shared by the whole fleet) and
this machine's cores. Pages/s runs from the first request to the last that the replay
servers saw, so process start-up and Scrapy's idle heartbeat at the end are left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.commands import REPO, crawl_command
from crawler.distributed.local import redis_server
from crawler.replay import ReplayConfig, build_site, serve

LATENCY = 0.1
PER_WORKER = 4
DELAY = 0.02
PER_HOST = 8


def _fleet(workers: int, stories: int) -> dict[str, Any]:
    with (
        serve(build_site(ReplayConfig(stories=stories))) as server,
        redis_server() as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        server.latency = LATENCY
        settings = {
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": DELAY,
            "CONCURRENT_REQUESTS": PER_WORKER,
            "CONCURRENT_REQUESTS_PER_DOMAIN": PER_HOST,
        }
        fleet = ["--redis", url, "--workers", str(workers)]
        db = Path(tmp) / "fleet.db"
        args = crawl_command(db, server.connect_to(), *fleet, settings=settings)
        subprocess.run(args, cwd=REPO, check=True, capture_output=True)
        times = sorted(hit.at for hit in server.requests)
    return {"pages": len(times), "pages_per_s": (len(times) - 1) / (times[-1] - times[0])}


def measure(
    stories: int = 200, repeat: int = 3, sizes: tuple[int, ...] = (1, 2, 4)
) -> dict[str, Any]:
    """Median pages/s per fleet size over `repeat` runs, and each size against one worker."""
    rates: dict[int, list[float]] = {n: [] for n in sizes}
    pages = 0
    for _ in range(repeat):
        for workers in sizes:  # interleaved, so drift in the machine's load hits every size
            result = _fleet(workers, stories)
            rates[workers].append(result["pages_per_s"])
            pages = result["pages"]
    base = statistics.median(rates[sizes[0]])
    return {
        "stories": stories,
        "pages": pages,
        "settings": {
            "latency_s": LATENCY,
            "per_worker": PER_WORKER,
            "delay_s": DELAY,
            "per_host": PER_HOST,
        },
        "sizes": [
            {
                "workers": n,
                "pages_per_s": (statistics.median(rates[n]), min(rates[n]), max(rates[n])),
                "speedup": statistics.median(rates[n]) / base,
            }
            for n in sizes
        ],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet_scaling", description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="runs (default: 1)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(repeat=args.repeat), indent=2))


if __name__ == "__main__":
    main()
