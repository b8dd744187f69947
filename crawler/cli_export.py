"""`newsmirror export`: the selected stories as JSONL, CSV, Parquet, WARC, WACZ or a BagIt bag."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from crawler.cli_common import EXIT_FAILED, EXIT_OK, InputError, db_option, open_readonly
from crawler.export.formats import FORMATS, check_export, exporter, manifest_location
from crawler.export.output import OutputError
from crawler.export.selection import Selection
from crawler.storage import StoreError
from crawler.window import Window, WindowError


@click.command()
@click.option(
    "--format",
    "export_format",
    type=click.Choice(list(FORMATS)),
    required=True,
    help="What to write: one file (jsonl, csv, parquet, warc, wacz) or a directory (bagit).",
)
@click.option("--out", required=True, metavar="PATH", help="The file or directory to write.")
@db_option()
@click.option("--since", metavar="DATE", help="Only stories published on or after DATE.")
@click.option("--until", metavar="DATE", help="Only stories published on or before DATE.")
@click.option("--section", help="Only this section and the sections below it.")
@click.option("--host", help="Only stories this host served.")
@click.option("--site", help="Only stories of this profile.")
@click.option("--key", "keys", multiple=True, metavar="KEY", help="Only this story (repeatable).")
@click.option("--with-history", is_flag=True, help="Add each story's versions and captures.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out.")
@click.option(
    "--bag-info",
    "bag_info",
    multiple=True,
    metavar="NAME=VALUE",
    help="bagit: a bag-info.txt field (repeatable), e.g. Source-Organization=Example Archive.",
)
def export(
    *,
    export_format: str,
    out: str,
    db: str,
    since: str | None,
    until: str | None,
    section: str | None,
    host: str | None,
    site: str | None,
    keys: tuple[str, ...],
    with_history: bool,
    overwrite: bool,
    bag_info: tuple[str, ...],
) -> int:
    """Export the selected stories, with a manifest of what was written (sha256 per file)."""
    selection = Selection(
        *_days(since, until), section=section, host=host, site=site, keys=tuple(dict.fromkeys(keys))
    )
    options: dict[str, Any] = {}
    if bag_info:
        if export_format != "bagit":
            raise InputError("--bag-info applies to --format bagit only")
        options["bag_info"] = _bag_info(bag_info)
    target = Path(out)
    try:
        check_export(export_format, target, overwrite)
    except OutputError as exc:
        raise InputError(str(exc)) from None
    run = exporter(export_format)
    with open_readonly(db) as store:
        try:
            manifest = run(
                store,
                Path(db),
                selection,
                target,
                overwrite=overwrite,
                with_history=with_history,
                **options,
            )
        except OutputError as exc:
            raise InputError(str(exc)) from None
        except (OSError, StoreError) as exc:
            click.echo(f"newsmirror: export failed, nothing written: {_one_line(exc)}", err=True)
            return EXIT_FAILED
    click.echo(_summary(export_format, target, manifest))
    return EXIT_OK


def _days(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    try:
        window = Window.parse(since, until)
    except WindowError as exc:
        raise InputError(str(exc)) from None
    return (
        window.since.isoformat() if window.since else None,
        window.until.isoformat() if window.until else None,
    )


def _bag_info(pairs: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name or not name.replace("-", "").isalnum() or "\n" in value:
            raise InputError(f"--bag-info {pair!r}: expected NAME=VALUE, like Contact-Name=Ada")
        fields[name] = value.strip()
    return fields


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    return str(exc).replace("\n", " ")


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _summary(export_format: str, out: Path, manifest: dict[str, Any]) -> str:
    files = manifest["files"]
    total = sum(int(entry["bytes"]) for entry in files)
    rows = ", ".join(f"{count:,} {name}" for name, count in manifest["rows"].items())
    where = manifest_location(export_format, out)
    return (
        f"Exported {rows} as {export_format} to {out}: {len(files)} "
        f"file{'s' if len(files) != 1 else ''}, {_size(total)}; manifest {where}"
    )
