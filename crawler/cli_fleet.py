"""`newsmirror ingest` and the fleet side of `crawl --redis`: workers here, the writer anywhere."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from crawler.cli_common import InputError, db_option, open_for_writing
from crawler.ingest import Ingestor
from crawler.lock import LockHeldError
from crawler.storage import StoreError

EXIT_LOCKED = 75


def run_fleet(site: str, options: Any, redis_url: str, workers: int, db_given: bool) -> int:
    """Join (or start) the site's distributed crawl, run `workers` workers here, and when
    --db was given also the writer; returns the exit status."""
    from crawler.distributed import fleet
    from crawler.profiles import load_profile, profile_text

    text, source = profile_text(site)
    profile = load_profile(site)
    try:
        server = fleet.connect(redis_url)
    except fleet.FleetError as exc:
        raise InputError(str(exc)) from None
    keys = fleet.join_crawl(server, profile.name, text, fleet_params(options, source))
    # Workers say nothing on the terminal (N live lines would garble it); the writer reports.
    # They run in the project's directory, so the database they read the archive's state
    # from (to skip known stories) is named by its absolute path.
    quiet = replace(options, progress="off", db=str(Path(options.db).resolve()))
    procs = fleet.start_workers(quiet, source, redis_url, keys, workers)
    status = 0
    try:
        if db_given:
            status = _write(server, keys, options)
        codes = [proc.wait() for proc in procs]
    except KeyboardInterrupt:
        for proc in procs:
            proc.terminate()
        return 130
    if not db_given and any(codes):
        click.echo(f"newsmirror: workers exited with {codes}", err=True)
        return 1
    return status


def fleet_params(options: Any, source: str) -> dict[str, Any]:
    """What the fleet's run was asked to do, for its crawl_runs row (written by the writer)."""
    return {
        "profile": source,
        "since": options.since,
        "until": options.until,
        "mirror_policy": options.mirror_policy,
        "max_pages": options.max_pages or None,
        "full": options.full,
        "recheck_days": options.recheck_days,
        "backfill_ids": options.backfill_ids,
        "connect_to": list(options.connect_to),
    }


def _write(server: Any, keys: Any, options: Any) -> int:
    from crawler.distributed import writer

    ingestor = Ingestor(
        options.db,
        max_missing_share=options.max_missing_share,
        on_failure=options.on_failure,
        webhook=options.webhook,
    )
    try:
        status, why = writer.drain(
            server, keys, ingestor, progress=lambda line: click.echo(line, err=True)
        )
    except LockHeldError as exc:
        click.echo(f"newsmirror: {exc}", err=True)
        return EXIT_LOCKED
    except (StoreError, sqlite3.Error) as exc:
        # What was taken from the queue and not committed stays in Redis for the next writer.
        click.echo(f"newsmirror: cannot write {options.db}: {exc}", err=True)
        return 1
    if status != "finished":
        click.echo(f"newsmirror: run {ingestor.run_id} {status}: {why}", err=True)
        return 1
    return 0


@click.command()
@click.option("--redis", "redis_url", required=True, metavar="URL", help="The fleet's Redis.")
@db_option()
@click.option("--site", help="The site whose crawl to write (default: the only one running).")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0,
    help="Seconds to wait for a crawl to start (0: wait as long as it takes).",
)
def ingest(redis_url: str, db: str, site: str | None, wait: float) -> int:
    """The fleet's one writer: drain the crawl's item queue into the database; exits once
    the crawl it serves has finished and its queue is empty."""
    from crawler.distributed import fleet
    from crawler.runner import CrawlOptions

    open_for_writing(db)
    try:
        server = fleet.connect(redis_url)
    except fleet.FleetError as exc:
        raise InputError(str(exc)) from None
    deadline = time.monotonic() + wait if wait else None
    keys = fleet.find_crawl(server, site)
    while keys is None or not server.hexists(keys.state, "profile"):
        if deadline is not None and time.monotonic() > deadline:
            click.echo("newsmirror: no crawl started in time", err=True)
            return 1
        time.sleep(0.5)
        keys = fleet.find_crawl(server, site)
    click.echo(f"newsmirror: writing crawl {keys.crawl} of {keys.site} into {db}", err=True)
    return _write(server, keys, CrawlOptions(db=db))


def check_fleet_options(redis_url: str | None, workers: int, jobdir: str | None) -> None:
    if redis_url is None and workers != 1:
        raise InputError("--workers needs --redis")
    if redis_url is not None and jobdir:
        raise InputError("--jobdir and --redis do not mix: the frontier is in Redis")
    if redis_url is not None and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise InputError(f"--redis {redis_url!r}: expected redis://HOST:PORT")
