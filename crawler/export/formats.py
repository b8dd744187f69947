"""Export formats by name: which module writes each, and where its manifest goes."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, cast

from crawler.export.manifest import MANIFEST_NAME
from crawler.export.output import check_output
from crawler.export.selection import Selection
from crawler.export.single import check_single, manifest_path
from crawler.storage import Store

# Modules are imported when their format is asked for: a JSONL export never loads pyarrow.
FORMATS = {
    "jsonl": "crawler.export.jsonl",
    "csv": "crawler.export.csv_export",
    "parquet": "crawler.export.parquet",
    "warc": "crawler.export.warc",
    "wacz": "crawler.export.wacz_export",
    "bagit": "crawler.export.bagit_export",
}
DIRECTORY_FORMATS = frozenset({"bagit"})


class Exporter(Protocol):
    def __call__(
        self,
        store: Store,
        db_path: Path,
        selection: Selection,
        out: Path,
        *,
        overwrite: bool,
        with_history: bool,
        **options: Any,
    ) -> dict[str, Any]: ...


def exporter(name: str) -> Exporter:
    """The `export` function of format `name` (KeyError for an unknown name)."""
    module = importlib.import_module(FORMATS[name])
    return cast(Exporter, module.export)


def manifest_location(name: str, out: Path) -> Path:
    """Inside a directory export, beside a single-file one."""
    return out / MANIFEST_NAME if name in DIRECTORY_FORMATS else manifest_path(out)


def check_export(name: str, out: Path, overwrite: bool) -> None:
    """Refuse before any work (OutputError): an existing output or manifest without
    `overwrite`, or no place to write. A directory export's manifest is inside it."""
    if name in DIRECTORY_FORMATS:
        check_output(out, overwrite, directory=True)
    else:
        check_single(out, overwrite)
