"""Tell someone when an unattended run fails: run a command, or POST JSON to a webhook."""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import urllib.request
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 30


def failure_report(
    run_id: int | None, site: str, status: str, reason: str | None, db: str
) -> dict[str, Any]:
    return {"run_id": run_id, "site": site, "status": status, "reason": reason, "db": db}


def run_command(command: str, report: Mapping[str, Any]) -> None:
    """Run `command` (split like a shell would, never through one) with the report in its
    environment as NEWSMIRROR_RUN_ID, _SITE, _STATUS, _REASON and _DB."""
    env = {**os.environ}
    for name, value in report.items():
        env[f"NEWSMIRROR_{name.upper()}"] = "" if value is None else str(value)
    try:
        done = subprocess.run(  # noqa: S603 - the operator's own configured command
            shlex.split(command), env=env, timeout=TIMEOUT_SECONDS, check=False
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        logger.warning("on-failure command %r could not run: %s", command, exc)
        return
    if done.returncode != 0:
        logger.warning("on-failure command %r exited with %s", command, done.returncode)


def post_webhook(url: str, report: Mapping[str, Any]) -> None:
    """POST the report as JSON to an http(s) URL."""
    if not url.startswith(("http://", "https://")):
        logger.warning("webhook %r is not an http(s) URL; not called", url)
        return
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(report).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            response.read()
    except OSError as exc:
        logger.warning("webhook %s failed: %s", url, exc)


def notify_failure(report: Mapping[str, Any], command: str | None, webhook: str | None) -> None:
    if command:
        run_command(command, report)
    if webhook:
        post_webhook(webhook, report)
