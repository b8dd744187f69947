"""One run at a time per database: an exclusive lock on `<db>.lock`, gone when its holder is."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from crawler.clock import utc_now


class LockHeldError(Exception):
    """Another live process holds the database's run lock."""


class RunLock:
    """An exclusive, non-blocking flock(2) on a file beside the database.

    The kernel drops the lock when its holder dies, `kill -9` included, so a lock left by a
    killed run is never stale: the file stays, unlocked, and the next run takes it over.
    flock is reliable on local file systems; on NFS use a local database path.
    """

    def __init__(self, db: str | Path) -> None:
        self.path = Path(f"{db}.lock")
        self._file: IO[str] | None = None

    def acquire(self, purpose: str) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._describe_holder(handle)
            handle.close()
            raise LockHeldError(
                f"another run holds {self.path.name.removesuffix('.lock')}{holder}"
            ) from None
        handle.seek(0)
        handle.truncate()
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": utc_now(),
            "purpose": purpose,
        }
        handle.write(json.dumps(info))
        handle.flush()
        self._file = handle

    @staticmethod
    def _describe_holder(handle: IO[str]) -> str:
        handle.seek(0)
        try:
            info: dict[str, Any] = json.loads(handle.read() or "{}")
        except ValueError:
            return ""
        if not info:
            return ""
        return f" ({info.get('purpose', 'run')}, pid {info.get('pid')} on {info.get('host')}, since {info.get('since')})"

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
