"""Peak memory of a command and of every process it starts (a crawl's page workers run in
processes of their own, which the command's own peak RSS leaves out).

Linux only: the processes are read from /proc while the command runs, every POLL_SECONDS.
The command's own peak is exact (VmHWM); the tree's is the largest sum of proportional set
sizes seen (Pss, so the pages a forked worker shares with its parent count once).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.05


def children(pid: int) -> list[int]:
    """The processes `pid` started that are still running (none once it has ended)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(map(int, (task / "children").read_text().split()))
        except OSError:
            continue
    return found


def descendants(pid: int) -> set[int]:
    """`pid` and every process below it."""
    found = {pid}
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _kib(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(args: Sequence[str], cwd: Path) -> dict[str, Any]:
    """Run `args` to its end (CalledProcessError when it fails); peak memory in MB of the
    command's process and of its whole process tree."""
    process = subprocess.Popen(
        list(args), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    own_peak = tree_peak = 0
    while process.poll() is None:
        own_peak = max(own_peak, _kib(Path(f"/proc/{process.pid}/status"), "VmHWM:"))
        pss = sum(
            _kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") for pid in descendants(process.pid)
        )
        tree_peak = max(tree_peak, pss)
        time.sleep(POLL_SECONDS)
    out, err = process.communicate()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, list(args), out, err)
    return {"peak_rss_mb": own_peak / 1024, "peak_tree_mb": tree_peak / 1024}
