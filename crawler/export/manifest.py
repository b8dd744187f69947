"""The manifest every export writes: what it holds, from where, when, and each file's sha256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.clock import utc_now

MANIFEST_NAME = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(
    *,
    export_format: str,
    db: Path,
    filters: Mapping[str, Any],
    rows: Mapping[str, int],
    files: Iterable[tuple[Path, str]],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """`files` are (path on disk, name to record: relative to the export) pairs."""
    return {
        "tool": "newsmirror",
        "tool_version": __version__,
        "format": export_format,
        "created_at": utc_now(),
        "source_db": {"path": str(db.resolve()), "bytes": db.stat().st_size},
        "filters": dict(filters),
        "rows": dict(rows),
        "files": [
            {"path": name, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
            for path, name in files
        ],
        **(extra or {}),
    }


def write_manifest(path: Path, manifest: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
