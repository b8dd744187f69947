"""`newsmirror serve`: browse an archive in Datasette, read-only."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import click

from crawler import serve as server
from crawler.cli_common import EXIT_OK, InputError, db_option, open_readonly


@click.command()
@db_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8001,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the archive in a web browser.")
def serve(db: str, host: str, port: int, open_browser: bool) -> int:
    """Browse the database in Datasette, read-only: facets, full-text search, canned queries."""
    path = Path(db).resolve()
    # Datasette opens the file through a SQLite URI ("file:PATH?immutable=1"), where these
    # characters would be read as the URI's query, fragment or escapes.
    if any(char in str(path) for char in "?#%"):
        raise InputError(f"--db {db}: Datasette cannot open a path with ?, # or % in it")
    with open_readonly(db) as store:
        tables = store.db.table_names()
    doc = server.read_schema_doc()
    if doc is None:
        click.echo(
            f"newsmirror: warning: {server.SCHEMA_DOC} not found: serving without table "
            "descriptions and canned queries",
            err=True,
        )
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size:
        # Immutable mode reads the database file alone: changes still in the write-ahead
        # log are not seen, and a checkpoint while serving can make pages fail to read.
        click.echo(
            f"newsmirror: warning: {wal.name} holds changes not yet in {path.name} (a crawl "
            "is running or was killed); they are not shown: serve again after the crawl",
            err=True,
        )
    try:
        sock = server.bind(host, port)
    except OSError as exc:
        raise InputError(f"--host {host} --port {port}: {exc.strerror or exc}") from None
    url = server.url_of(sock)
    click.echo(f"Serving {db} read-only at {url} (Ctrl-C to stop)", err=True)
    if open_browser:
        webbrowser.open(url)  # the socket already listens: the browser's request waits
    server.run(path, tables, doc, sock)
    return EXIT_OK
