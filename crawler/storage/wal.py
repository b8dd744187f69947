"""WAL checkpoints of a writable archive, in a thread of their own so commits never wait for them."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

# A WAL file is a 32-byte header, then frames of one page and a 24-byte frame header.
_WAL_HEADER, _FRAME_HEADER = 32, 24


def wal_bytes(pages: int, page_size: int) -> int:
    """Size of a WAL file holding `pages` frames."""
    return _WAL_HEADER + pages * (page_size + _FRAME_HEADER)


class Checkpointer:
    """Copies the WAL of one database back into the database file, beside its writer.

    Left to itself, SQLite checkpoints inside the commit that takes the WAL past
    `wal_autocheckpoint` pages: that commit copies tens of megabytes into the database file
    and waits for two fsyncs (a tenth of a second or more, every thousand stories or so).
    Here the writer only looks at the WAL file's size after each commit (`committed()`) and,
    past `limit` bytes, wakes a thread that runs a PASSIVE checkpoint on a connection of its
    own: it never blocks the writer, which keeps appending to the WAL meanwhile. The writer
    sets `journal_size_limit` to `limit`, so SQLite truncates the WAL file back to that size
    when it starts it over after a complete checkpoint, and the size tells again how much is
    left to copy. The writer keeps SQLite's own autocheckpoint, further out, for the case of a
    writer that never leaves this thread time to catch up.

    A checkpoint that fails (a full disk, an I/O error) is left for the next one: nothing is
    lost, the WAL stays valid and complete until a checkpoint has copied it, and a writer that
    cannot write reports that itself.
    """

    def __init__(self, path: Path, limit: int, busy_timeout_ms: int) -> None:
        self.path = path.resolve()  # as the writer opened it, whatever the thread's cwd later
        self.wal = Path(f"{self.path}-wal")
        self.limit = limit
        self.busy_timeout_ms = busy_timeout_ms
        self._wanted = threading.Condition()
        self._pending = False
        self._closing = False
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """Called after each commit: wake the thread when the WAL has grown past the limit."""
        try:
            size = self.wal.stat().st_size
        except OSError:
            return
        if size <= self.limit:
            return
        with self._wanted:
            if self._closing:
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="newsmirror-checkpoint", daemon=True
                )
                self._thread.start()
            self._pending = True
            self._wanted.notify()

    def close(self) -> None:
        """Let a checkpoint under way finish, and stop the thread."""
        with self._wanted:
            self._closing = True
            self._wanted.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error:
            return  # the writer's own autocheckpoint still runs
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            while self._next():
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    continue  # see the class docstring
        finally:
            conn.close()

    def _next(self) -> bool:
        """Wait for a checkpoint to do; False once closing."""
        with self._wanted:
            while not self._pending and not self._closing:
                self._wanted.wait()
            self._pending = False
            return not self._closing
