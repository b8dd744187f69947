"""What every `newsmirror` command shares: one-line errors, the --db option, opening the archive."""

from __future__ import annotations

import faulthandler
import json
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from crawler.profiles import ProfileError
from crawler.storage import Store, StoreError

DEFAULT_DB = "data/newsmirror.db"
DEMO_DB = "data/demo.db"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

F = TypeVar("F", bound=Callable[..., Any])


class InputError(click.UsageError):
    """Bad input: reported as one line on stderr with exit status 2, nothing touched."""


def dump_stacks_on_sigusr1() -> None:
    """`kill -USR1 PID` prints every thread's stack to stderr and the process goes on: where
    a long or stuck run is, without stopping it."""
    stderr = sys.__stderr__  # the process's own: sys.stderr may be captured (no file number)
    if not hasattr(signal, "SIGUSR1") or stderr is None:
        return
    try:
        faulthandler.register(signal.SIGUSR1, file=stderr, all_threads=True)
    except (OSError, ValueError):  # io.UnsupportedOperation is both: no file number
        return


class OneLineGroup(click.Group):
    """A click group whose usage errors are one clear line (no usage dump, no traceback)."""

    def main(self, args: Sequence[str] | None = None, **extra: Any) -> NoReturn:  # type: ignore[override]
        dump_stacks_on_sigusr1()
        try:
            result = super().main(args=args, standalone_mode=False, **extra)
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except click.exceptions.Abort:
            click.echo("newsmirror: aborted", err=True)
            sys.exit(130)
        except ProfileError as exc:
            for problem in exc.problems:
                click.echo(f"newsmirror: profile {exc.source}: {problem}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            message = exc.format_message().replace("\n", " ")
            click.echo(f"newsmirror: {message}", err=True)
            sys.exit(exc.exit_code if exc.exit_code != 1 else EXIT_USAGE)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


def db_option(default: str = DEFAULT_DB) -> Callable[[F], F]:
    return click.option(
        "--db",
        "db",
        default=default,
        show_default=True,
        metavar="PATH",
        help="SQLite database file.",
    )


def open_readonly(db: str) -> Store:
    try:
        return Store(db, readonly=True)
    except StoreError as exc:
        raise InputError(str(exc)) from None


def open_for_writing(db: str) -> None:
    """Create or migrate the database now, so a bad --db fails before the crawl starts."""
    path = Path(db)
    if db in (DEFAULT_DB, DEMO_DB):
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        store = Store(path)
    except StoreError as exc:
        raise InputError(str(exc)) from None
    try:
        # Opening an up-to-date database writes nothing: rewrite one header field to its own
        # value and roll back, so a read-only file fails here, not inside the crawl.
        version = store.db.execute("PRAGMA user_version").fetchone()[0]
        store.db.execute("BEGIN IMMEDIATE")
        store.db.execute(f"PRAGMA user_version = {int(version)}")
        store.db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise InputError(f"cannot write {path}: {exc}") from None
    finally:
        store.close()


def parse_overrides(pairs: tuple[str, ...]) -> dict[str, Any]:
    """NAME=VALUE pairs; VALUE is read as JSON when it parses (numbers, true/false), else text."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip() or not name.strip().replace("_", "").isalnum():
            raise InputError(f"--set {pair!r}: expected NAME=VALUE")
        try:
            values[name.strip()] = json.loads(raw)
        except ValueError:
            values[name.strip()] = raw
    return values
