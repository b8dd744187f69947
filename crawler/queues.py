"""A JOBDIR request queue in SQLite, so a crawl killed with SIGKILL can still be resumed."""

from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.utils.request import request_from_dict

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler


class SqliteRequestQueue:
    """Scrapy's SCHEDULER_DISK_QUEUE, LIFO like Scrapy's default, one SQLite file per queue.

    Scrapy's own disk queues (queuelib files) keep their head in a header that a process
    killed mid-write leaves torn, and the next run dies reading it. Here every push and pop
    is a transaction (WAL, synchronous=NORMAL: safe when the process dies, cheap because it
    does not fsync every commit), so the queue a killed crawl leaves is one a resumed crawl
    can read.
    """

    def __init__(self, spider: Spider | None, path: str | Path) -> None:
        self.spider = spider
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS queue (id INTEGER PRIMARY KEY AUTOINCREMENT, item BLOB)"
        )
        # Scrapy asks for lengths all the time; COUNT(*) walks the table.
        self._size: int = self._db.execute("SELECT count(*) FROM queue").fetchone()[0]

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any) -> Self:
        return cls(crawler.spider, key)

    def push(self, request: Request) -> None:
        item = pickle.dumps(request.to_dict(spider=self.spider), protocol=pickle.HIGHEST_PROTOCOL)
        self._db.execute("INSERT INTO queue (item) VALUES (?)", (item,))
        self._size += 1

    def _newest(self) -> tuple[int, bytes] | None:
        row: tuple[int, bytes] | None = self._db.execute(
            "SELECT id, item FROM queue ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return row

    def pop(self) -> Request | None:
        row = self._newest()
        if row is None:
            return None
        self._db.execute("DELETE FROM queue WHERE id = ?", (row[0],))
        self._size -= 1
        return self._request(row[1])

    def peek(self) -> Request | None:
        row = self._newest()
        return self._request(row[1]) if row else None

    def _request(self, item: bytes) -> Request:
        # The queue file is this crawl's own JOBDIR, written by push() above.
        return request_from_dict(pickle.loads(item), spider=self.spider)  # noqa: S301

    def close(self) -> None:
        self._db.close()
        if not self._size:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def __len__(self) -> int:
        return self._size
