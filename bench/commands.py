"""The `newsmirror crawl` command line every crawl benchmark runs, in one place."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crawler.runner import LOOPBACK_SETTINGS

REPO = Path(__file__).resolve().parent.parent


def crawl_command(
    db: Path,
    connect_to: Iterable[str],
    *extra: str,
    settings: Mapping[str, Any] = LOOPBACK_SETTINGS,
) -> list[str]:
    """`python -m crawler crawl presstv` into `db` over the replay routes, quiet, with
    `settings` as --set overrides (loopback manners by default), then `extra`."""
    args = [sys.executable, "-m", "crawler", "crawl", "presstv", "--db", str(db)]
    args += ["--progress", "off"]
    for route in connect_to:
        args += ["--connect-to", route]
    for name, value in settings.items():
        args += ["--set", f"{name}={json.dumps(value)}"]
    return [*args, *extra]
