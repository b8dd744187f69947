"""Where an export goes: only --out names it, an existing one is kept unless --overwrite, and a
half-written export never takes its place (written beside it, renamed at the end)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.export.manifest import MANIFEST_NAME


class OutputError(Exception):
    """The output cannot be written; the message is one line for the user."""


def check_output(out: Path, overwrite: bool, *, directory: bool = False) -> None:
    """Refuse before any work: an existing output without --overwrite, or no place to write.
    Even with --overwrite, a file export never replaces a directory, and a directory export
    replaces only an earlier export (one with its manifest.json): a mistyped --out must not
    delete a folder of someone's files."""
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise OutputError(f"{out} exists; give --overwrite to replace it")
        if not directory and out.is_dir():
            raise OutputError(f"{out} is a directory; not replacing it with a file")
        if directory and not (out.is_dir() and (out / MANIFEST_NAME).is_file()):
            raise OutputError(
                f"{out} is not an earlier export (no {MANIFEST_NAME}); not replacing it"
            )
    parent = out.parent if str(out.parent) else Path()
    if not parent.is_dir():
        raise OutputError(f"{parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write in {parent}")


@contextmanager
def staged(out: Path, overwrite: bool, directory: bool = False) -> Iterator[Path]:
    """A temporary path beside `out` to write the export to; on success it replaces `out`
    (a file or a directory) in one rename, on failure it is removed and `out` is untouched."""
    check_output(out, overwrite, directory=directory)
    stage = out.with_name(f".{out.name}.partial-{os.getpid()}")
    _remove(stage)
    if directory:
        stage.mkdir()
    try:
        yield stage
    except BaseException:
        _remove(stage)
        raise
    if out.exists():
        if out.is_dir() and not out.is_symlink():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            stage.rename(out)
            shutil.rmtree(old)
            return
        _remove(out)
    stage.rename(out)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
