"""Scrapy's scheduler with a JOBDIR that survives SIGKILL at any moment.

Scrapy writes `requests.queue/active.json` in place when a crawl closes; a kill during that
write leaves it torn, and the next run dies reading it before it starts. Here it is written
to a temporary file and renamed over the old one (atomic), and a torn one left by an older
version is read as empty: the resumed run then finds its way back through discovery, which
skips every story the database already holds, as after any kill.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from scrapy.core.scheduler import Scheduler

logger = logging.getLogger(__name__)


class JobdirScheduler(Scheduler):
    def _read_dqs_state(self, dqdir: str) -> Any:
        try:
            return super()._read_dqs_state(dqdir)
        except (ValueError, OSError) as exc:
            logger.warning("ignored a torn %s/active.json (%s)", dqdir, exc)
            return ()

    def _write_dqs_state(self, dqdir: str, state: Any) -> None:
        path = Path(dqdir, "active.json")
        partial = path.with_name("active.json.partial")
        with partial.open("w", encoding="utf-8") as f:
            json.dump(state, f)
        os.replace(partial, path)
