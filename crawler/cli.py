"""The `newsmirror` command: thin click commands over the library (crawl, demo, stats, ...)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from crawler import __version__
from crawler.cli_common import (
    DEMO_DB,
    EXIT_OK,
    InputError,
    OneLineGroup,
    db_option,
    open_for_writing,
    open_readonly,
    parse_overrides,
)
from crawler.cli_fleet import check_fleet_options, ingest, run_fleet
from crawler.profiles import SiteProfile, builtin_profiles, load_profile
from crawler.report import format_mirrors, format_search, format_stats
from crawler.routing import ConnectToError, parse_connect_to
from crawler.storage import Store
from crawler.window import Window, WindowError, parse_id_range


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsmirror")
def main() -> None:
    """Archive a news outlet across its primary and mirror domains into one SQLite database."""


# --- crawl -----------------------------------------------------------------------------------


@main.command()
@click.argument("site")
@db_option()
@click.option("--since", metavar="DATE", help="Only stories published on or after DATE.")
@click.option("--until", metavar="DATE", help="Only stories published on or before DATE.")
@click.option("--max-pages", type=click.IntRange(min=1), help="Fetch at most N pages.")
@click.option(
    "--mirror-policy",
    type=click.Choice(["all", "first"]),
    default="all",
    show_default=True,
    help="all: every story from every live host; first: primary, alternates on failure.",
)
@click.option(
    "--connect-to",
    "connect_to",
    multiple=True,
    metavar="HOST=ORIGIN",
    help="Send requests for HOST to ORIGIN (repeatable), e.g. www.presstv.ir=http://127.0.0.1:8001.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Ask every story of every host again and walk every listing (default: incremental).",
)
@click.option(
    "--recheck-days",
    type=click.FloatRange(min=0),
    default=7.0,
    show_default=True,
    help="Stories published this recently are asked again of every host (edits, takedowns).",
)
@click.option(
    "--backfill-ids",
    metavar="FROM-TO",
    help="Ask every live host for the ids in this range that the archive lacks (no discovery).",
)
@click.option("--jobdir", metavar="DIR", help="Scrapy JOBDIR: resume an interrupted crawl.")
@click.option("--user-agent", metavar="TEXT", help="User-Agent header to send.")
@click.option("--ignore-robots", is_flag=True, help="Do not obey robots.txt.")
@click.option(
    "--progress",
    type=click.Choice(["auto", "live", "lines", "off"]),
    default="auto",
    show_default=True,
    help="Live status line on a terminal, periodic lines in logs.",
)
@click.option(
    "--redis",
    "redis_url",
    metavar="URL",
    help="Crawl as part of a fleet sharing this Redis (scrapy-redis frontier and dedupe).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    default=1,
    show_default=True,
    help="With --redis: worker processes to run here.",
)
@click.option(
    "--page-workers",
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Processes that read story pages beside the crawl (auto: cores - 1, at most 4; "
    "0: read them in the crawl's process; a fleet's workers read their own).",
)
@click.option(
    "--max-missing-share",
    type=click.FloatRange(min=0, max=1),
    default=0.5,
    show_default=True,
    help="Fail the run when more new stories than this lack title, body or published_at.",
)
@click.option("--on-failure", metavar="COMMAND", help="Run COMMAND when the run fails.")
@click.option("--webhook", metavar="URL", help="POST a JSON report to URL when the run fails.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy or NEWSMIRROR_* setting (repeatable), e.g. DOWNLOAD_DELAY=2.",
)
@click.option("-v", "--verbose", count=True, help="Scrapy log: -v info, -vv debug.")
def crawl(
    site: str,
    db: str,
    since: str | None,
    until: str | None,
    max_pages: int | None,
    mirror_policy: str,
    connect_to: tuple[str, ...],
    full: bool,
    recheck_days: float,
    backfill_ids: str | None,
    jobdir: str | None,
    user_agent: str | None,
    ignore_robots: bool,
    progress: str,
    redis_url: str | None,
    workers: int,
    page_workers: str,
    max_missing_share: float,
    on_failure: str | None,
    webhook: str | None,
    overrides: tuple[str, ...],
    verbose: int,
) -> int:
    """Crawl SITE (a built-in profile name or a profile file) into the database."""
    from crawler.page_readers import parse_workers
    from crawler.runner import CrawlOptions

    parsed = parse_overrides(overrides)
    for flag, value in (
        ("--page-workers", page_workers),
        ("NEWSMIRROR_PAGE_WORKERS", parsed.get("NEWSMIRROR_PAGE_WORKERS")),
    ):
        try:
            parse_workers(value)
        except ValueError as exc:
            raise InputError(f"{flag}: {exc}") from None
    profile = load_profile(site)
    options = CrawlOptions(
        db=db,
        since=since,
        until=until,
        mirror_policy=mirror_policy,
        max_pages=max_pages or 0,
        connect_to=connect_to,
        jobdir=jobdir,
        backfill_ids=backfill_ids,
        user_agent=user_agent,
        obey_robots=not ignore_robots,
        full=full,
        recheck_days=recheck_days,
        max_missing_share=max_missing_share,
        on_failure=on_failure,
        webhook=webhook,
        progress=progress,
        log_level=_log_level(verbose),
        page_workers=page_workers,
        overrides=parsed,
    )
    check_fleet_options(redis_url, workers, jobdir)
    _validate_crawl(profile, options)
    if redis_url is None:
        open_for_writing(db)
        return _run(profile, options)
    # A fleet command writes only when given --db (it runs the writer too); without it, it
    # must not create the default database: launchers started together raced to create
    # one file, and all but one failed with "locked".
    db_given = click.get_current_context().get_parameter_source("db") == ParameterSource.COMMANDLINE
    if db_given:
        open_for_writing(db)
    return run_fleet(site, options, redis_url, workers, db_given)


def _validate_crawl(profile: SiteProfile, options: Any) -> None:
    """Check every input before anything is created or changed (the database is checked
    by the caller: a fleet command without --db has none to write)."""
    try:
        Window.parse(options.since, options.until)
    except WindowError as exc:
        raise InputError(str(exc)) from None
    _validate_routes(profile, options.connect_to)
    if options.backfill_ids:
        try:
            parse_id_range(options.backfill_ids)
        except WindowError as exc:
            raise InputError(str(exc)) from None
        if not profile.article.id_path:
            raise InputError(f"--backfill-ids: profile {profile.name} has no article.id_path")
    if options.webhook and not options.webhook.startswith(("http://", "https://")):
        raise InputError(f"--webhook {options.webhook!r}: expected an http(s) URL")
    if options.jobdir and Path(options.jobdir).exists() and not Path(options.jobdir).is_dir():
        raise InputError(f"--jobdir {options.jobdir}: not a directory")


def _validate_routes(profile: SiteProfile, connect_to: Sequence[str]) -> None:
    try:
        routes = parse_connect_to(connect_to)
    except ConnectToError as exc:
        raise InputError(str(exc)) from None
    for host in routes:
        if host not in profile.hosts:
            raise InputError(
                f"--connect-to {host}: not a host of profile {profile.name} "
                f"({', '.join(profile.hosts)})"
            )


def _run(profile: SiteProfile, options: Any) -> int:
    from crawler.runner import run_crawl

    outcome = run_crawl(profile, options)
    if outcome.status != "finished":
        run = f"run {outcome.run_id} " if outcome.run_id else ""
        click.echo(f"newsmirror: {run}{outcome.status}: {outcome.reason}", err=True)
    return outcome.exit_code


def _log_level(verbose: int) -> str:
    return {0: "WARNING", 1: "INFO"}.get(verbose, "DEBUG")


# --- demo ------------------------------------------------------------------------------------


@main.command()
@db_option(DEMO_DB)
@click.option("--stories", type=click.IntRange(min=1, max=100_000), default=60, show_default=True)
@click.option(
    "--progress",
    type=click.Choice(["auto", "live", "lines", "off"]),
    default="auto",
    show_default=True,
)
def demo(db: str, stories: int, progress: str) -> int:
    """Crawl the bundled offline replay of a mirrored news site and print a summary."""
    from crawler.replay import ReplayConfig, build_site, serve
    from crawler.runner import LOOPBACK_SETTINGS, CrawlOptions, run_crawl

    profile = load_profile("presstv")
    open_for_writing(db)
    site = build_site(ReplayConfig(stories=stories))
    started = time.monotonic()
    with serve(site) as server:
        click.echo(
            f"Replay site: {len(site.stories)} fictional stories on "
            f"{len(server.origins)} hosts, served on loopback:",
            err=True,
        )
        for route in server.connect_to():
            click.echo(f"  --connect-to {route}", err=True)
        options = CrawlOptions(
            db=db,
            connect_to=server.connect_to(),
            progress=progress,
            overrides=LOOPBACK_SETTINGS,
        )
        outcome = run_crawl(profile, options)
    elapsed = time.monotonic() - started
    with Store(db, readonly=True) as store:
        click.echo(format_stats(store.stats(), db))
    click.echo(f"\nDemo crawl {outcome.status} in {elapsed:.1f} s; run {outcome.run_id}.")
    word = max(site.stories[-1].title.split(), key=len).strip(",.:;'\"").lower()
    click.echo(f"Try: newsmirror search {word} --db {db}   |   newsmirror stats --db {db}")
    if outcome.status != "finished":
        click.echo(f"newsmirror: demo crawl {outcome.status}: {outcome.reason}", err=True)
    return outcome.exit_code


# --- mirrors ---------------------------------------------------------------------------------


@main.command()
@click.argument("site")
@db_option()
@click.option(
    "--connect-to",
    "connect_to",
    multiple=True,
    metavar="HOST=ORIGIN",
    help="Send requests for HOST to ORIGIN (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a Scrapy or NEWSMIRROR_* setting (repeatable).",
)
def mirrors(
    site: str, db: str, connect_to: tuple[str, ...], as_json: bool, overrides: tuple[str, ...]
) -> int:
    """Probe every host of SITE (home, a feed, a known story, a path that names no story),
    record its state, and show states, candidate mirrors and the domain timeline."""
    from crawler.runner import CrawlOptions, run_crawl
    from crawler.storage.reports import mirrors_report
    from spiders.probe import ProbeSpider

    profile = load_profile(site)
    _validate_routes(profile, connect_to)
    open_for_writing(db)
    options = CrawlOptions(
        db=db, connect_to=connect_to, progress="off", overrides=parse_overrides(overrides)
    )
    outcome = run_crawl(profile, options, ProbeSpider)
    with open_readonly(db) as store:
        report = mirrors_report(store, profile.name)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo(format_mirrors(report))
    if outcome.status != "finished":
        click.echo(f"newsmirror: probe {outcome.status}: {outcome.reason}", err=True)
    return outcome.exit_code


# --- stats, search, profiles -----------------------------------------------------------------


@main.command()
@db_option()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(db: str, as_json: bool) -> int:
    """Stories, versions, captures per host, mirror states, runs, last errors."""
    from crawler.storage.reports import completeness, takedowns

    with open_readonly(db) as store:
        numbers = store.stats()
        numbers["takedowns"] = takedowns(store)
        sites = sorted({m["site"] for m in numbers["mirrors"] if m.get("site")})
        numbers["completeness"] = [completeness(store, name) for name in sites]
    if as_json:
        click.echo(json.dumps(numbers, indent=2, ensure_ascii=False))
    else:
        click.echo(format_stats(numbers, db))
    return EXIT_OK


@main.command()
@click.argument("query")
@db_option()
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def search(query: str, db: str, limit: int, as_json: bool) -> int:
    """Full-text search over titles, leads and bodies, best matches first."""
    if not query.strip():
        raise InputError("search: the query is empty")
    with open_readonly(db) as store:
        colour = sys.stdout.isatty() and not as_json and "NO_COLOR" not in os.environ
        start, end = ("\x1b[1;33m", "\x1b[0m") if colour else ("[", "]")
        hits = store.search(query, limit=limit, start=start, end=end)
    if as_json:
        click.echo(json.dumps(hits, indent=2, ensure_ascii=False))
    else:
        click.echo(format_search(hits, query))
    return EXIT_OK


@main.command()
def profiles() -> int:
    """List the built-in site profiles."""
    for name in builtin_profiles():
        profile = load_profile(name)
        click.echo(f"{name}\t{profile.title}\tprimary {profile.primary}")
        if profile.alternates:
            click.echo(f"\talternates {', '.join(profile.alternates)}")
        if profile.retired:
            click.echo(f"\tretired {', '.join(profile.retired)}")
    return EXIT_OK


# --- commands defined in modules of their own ------------------------------------------------
# Each module builds its click command on crawler.cli_common; one line here adds it.
from crawler.cli_export import export

main.add_command(export)

from crawler.cli_serve import serve

main.add_command(serve)
from crawler.cli_history import diff, reextract

main.add_command(reextract)
main.add_command(diff)
main.add_command(ingest)
