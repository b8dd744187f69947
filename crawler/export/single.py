"""Single-file exports: the data is staged beside --out and renamed into place, then its manifest."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from crawler.export.manifest import build_manifest, write_manifest
from crawler.export.output import check_output, staged
from crawler.export.selection import Selection
from crawler.storage import Store

MANIFEST_SUFFIX = ".manifest.json"


def manifest_path(out: Path) -> Path:
    return out.with_name(out.name + MANIFEST_SUFFIX)


def check_single(out: Path, overwrite: bool) -> None:
    """Refuse before any work: the data file and its manifest are both the export's."""
    check_output(out, overwrite)
    check_output(manifest_path(out), overwrite)


def export_file(
    *,
    export_format: str,
    db_path: Path,
    selection: Selection,
    out: Path,
    overwrite: bool,
    write: Callable[[Path], Mapping[str, int]],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run `write(path)` (it returns row counts) on a staged file, move it to `out`, then
    write `<out>.manifest.json` from the final file; returns the manifest."""
    check_single(out, overwrite)
    with staged(out, overwrite) as stage:
        rows = write(stage)
    try:
        manifest = build_manifest(
            export_format=export_format,
            db=db_path,
            filters=selection.as_dict(),
            rows=rows,
            files=[(out, out.name)],
            extra=extra,
        )
        with staged(manifest_path(out), overwrite=True) as stage:
            write_manifest(stage, manifest)
    except BaseException:
        # Data without its manifest is not an export: leave nothing rather than half.
        out.unlink(missing_ok=True)
        raise
    return manifest


class StoryWriter(Protocol):
    def __call__(
        self, store: Store, selection: Selection, path: Path, *, with_history: bool
    ) -> Mapping[str, int]: ...


def story_exporter(
    export_format: str,
    write: StoryWriter,
    extra: Callable[[bool], Mapping[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """The `export` function of a format that writes the stories to one file with `write`;
    `extra(with_history)` adds the format's own facts to the manifest."""

    def export(
        store: Store,
        db_path: Path,
        selection: Selection,
        out: Path,
        *,
        overwrite: bool,
        with_history: bool,
    ) -> dict[str, Any]:
        return export_file(
            export_format=export_format,
            db_path=db_path,
            selection=selection,
            out=out,
            overwrite=overwrite,
            write=lambda path: write(store, selection, path, with_history=with_history),
            extra=extra(with_history),
        )

    return export
