"""`newsmirror reextract` and `newsmirror diff`: read stored pages again, compare versions."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import TYPE_CHECKING

import click

from crawler.cli_common import EXIT_FAILED, EXIT_OK, InputError, db_option, open_readonly
from crawler.export.selection import Selection, count_articles
from crawler.lock import LockHeldError, RunLock
from crawler.profiles import ProfileError, SiteProfile, load_profile
from crawler.storage import Store, StoreError
from crawler.storydiff import format_story_diff, story_diff
from crawler.window import Window, WindowError

if TYPE_CHECKING:
    from crawler.reextract import ReextractStats

EXIT_LOCKED = 75  # EX_TEMPFAIL, as for a crawl: another run holds the database
# `<site>:<source id>`, the site being a profile name (see crawler.profiles).
KEY_RE = re.compile(r"[a-z][a-z0-9_-]*:\S+")


def check_key(key: str, command: str) -> str:
    if not KEY_RE.fullmatch(key):
        raise InputError(f"{command}: {key!r} is not a story key (SITE:ID, like presstv:745312)")
    return key


# --- reextract -------------------------------------------------------------------------------


@click.command()
@click.argument("site", required=False)
@db_option()
@click.option("--key", "keys", multiple=True, metavar="KEY", help="Only this story (repeatable).")
@click.option("--since", metavar="DATE", help="Only stories published on or after DATE.")
@click.option("--until", metavar="DATE", help="Only stories published on or before DATE.")
@click.option("--host", metavar="HOST", help="Only stories this host served.")
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME_OR_PATH",
    help="Read with this profile (built-in name or .toml file), not the site's built-in one.",
)
@click.option(
    "--progress-every",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    metavar="N",
    help="Print a progress line every N stories.",
)
def reextract(
    site: str | None,
    db: str,
    keys: tuple[str, ...],
    since: str | None,
    until: str | None,
    host: str | None,
    profile_name: str | None,
    progress_every: int,
) -> int:
    """Read the stored pages of the stories again, with no network, and record every reading
    that changed (SITE: a built-in profile name or a profile file; default every site)."""
    try:
        Window.parse(since, until)
    except WindowError as exc:
        raise InputError(str(exc)) from None
    for key in keys:
        check_key(key, "reextract --key")
    override = load_profile(profile_name) if profile_name else None
    site_profile = load_profile(site) if site else None
    if override and site_profile and override.name != site_profile.name:
        raise InputError(
            f"reextract: --profile {profile_name} is for site {override.name}, not {site_profile.name}"
        )
    chosen = override or site_profile
    selection = Selection(
        since=since,
        until=until,
        host=host,
        site=chosen.name if chosen else None,
        keys=tuple(dict.fromkeys(keys)),
    )
    profiles = _profiles(db, selection, override or site_profile)
    return _run_reextract(db, selection, profiles, profile_name or site, progress_every)


def _profiles(db: str, selection: Selection, chosen: SiteProfile | None) -> dict[str, SiteProfile]:
    """The profile of every site the selection reaches, loaded before anything is written."""
    # Imported here: crawler.reextract loads Scrapy and lxml, which `diff` never needs.
    from crawler.reextract import selected_sites

    with open_readonly(db) as store:
        for key in selection.keys:
            if not count_articles(store, Selection(keys=(key,))):
                raise InputError(f"reextract: no story {key} in {db}")
        if chosen is not None and not count_articles(store, Selection(site=chosen.name)):
            # A renamed copy of a profile reads no story: the name is what ties them.
            raise InputError(f"reextract: no story of site {chosen.name} in {db}")
        sites = selected_sites(store, selection)
    if chosen is not None:
        return {chosen.name: chosen}
    profiles = {}
    for name in sites:
        try:
            profiles[name] = load_profile(name)
        except ProfileError:
            raise InputError(
                f"reextract: site {name} has no built-in profile; give its file with --profile"
            ) from None
    return profiles


def _run_reextract(
    db: str,
    selection: Selection,
    profiles: dict[str, SiteProfile],
    profile_label: str | None,
    every: int,
) -> int:
    from crawler.reextract import reextract as run

    lock = RunLock(db)
    try:
        lock.acquire("reextract")
    except LockHeldError as exc:
        click.echo(f"newsmirror: {exc}", err=True)
        return EXIT_LOCKED
    except OSError as exc:
        raise InputError(f"cannot lock {db}: {exc.strerror}") from None
    try:
        try:
            store = Store(db)
        except StoreError as exc:
            raise InputError(str(exc)) from None
        with store:
            store.interrupt_stale_runs()
            params = {
                "command": "reextract",
                "profile": profile_label,
                "selection": selection.as_dict(),
            }
            run_id = store.begin_run(", ".join(sorted(profiles)) or "-", params)
            total = count_articles(store, selection)

            def progress(stats: ReextractStats) -> None:
                click.echo(
                    f"reextract: {stats.stories}/{total} stories, {stats.pages} pages read, "
                    f"{stats.changed_pages} readings changed in {stats.stories_changed} stories",
                    err=True,
                )

            try:
                stats = run(
                    store,
                    run_id,
                    selection,
                    lambda name: profiles[name],
                    progress=progress,
                    every=every,
                )
            except KeyboardInterrupt:
                store.finish_run(run_id, "interrupted", {}, "interrupted by the user")
                raise
            except (StoreError, OSError) as exc:
                store.finish_run(run_id, "failed", {}, str(exc))
                click.echo(f"newsmirror: reextract run {run_id} failed: {exc}", err=True)
                return EXIT_FAILED
            store.finish_run(run_id, "finished", stats.as_dict())
    finally:
        lock.release()
    click.echo(_summary(stats, run_id, db))
    return EXIT_OK


def _summary(stats: ReextractStats, run_id: int, db: str) -> str:
    lines = [
        (
            f"Re-extracted {stats.stories} stories in {db} (run {run_id}, "
            f"{stats.elapsed_seconds:.1f} s); nothing was fetched."
        ),
        f"  pages read again    {stats.pages}",
        f"  readings changed    {stats.changed_pages}  (in {stats.stories_changed} stories)",
        f"  story rows changed  {stats.rows_changed}",
        f"  new versions        {stats.new_versions}",
    ]
    if stats.unreadable:
        lines.append(f"  not read            {stats.unreadable}  (no stored page)")
    if stats.not_stories:
        examples = ", ".join(stats.examples_not_stories)
        lines.append(
            f"  not a story now     {stats.not_stories}  (kept as they were; e.g. {examples})"
        )
    return "\n".join(lines)


# --- diff ------------------------------------------------------------------------------------


@click.command()
@click.argument("key")
@db_option()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--all",
    "include_superseded",
    is_flag=True,
    help="Compare versions superseded by a re-extraction too.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour deletions and insertions (auto: on a terminal, unless NO_COLOR is set).",
)
def diff(key: str, db: str, as_json: bool, include_superseded: bool, color: str) -> int:
    """How story KEY changed: each version against the one before it, and the mirrors that
    serve different text now, word by word."""
    check_key(key, "diff")
    with open_readonly(db) as store:
        versions = store.story_versions(key)
        if not versions:
            raise InputError(f"diff: no story {key} in {db}")
        result = story_diff(
            key,
            versions,
            store.story_hosts(key),
            store.serving_captures([key]),
            include_superseded=include_superseded,
        )
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
        return EXIT_OK
    colour = color == "always" or (
        color == "auto" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    )
    # click strips escape codes when stdout is no terminal, unless told the colour is wanted.
    click.echo(format_story_diff(result, colour=colour), color=colour)
    return EXIT_OK
