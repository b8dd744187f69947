"""Story pages read in worker processes, so that the crawl's event loop only fetches.

Reading a story page (extraction, links, classification: crawler/reading.py) costs more
than fetching it, and Python runs one thread at a time: in the crawl's own process it
would cap a crawl at one core. `PageReaders` hands pages to worker processes and gives each
caller its page back as an awaitable. Pages that arrive in one turn of the event loop go
out as one batch (a hand-over between processes costs about as much as reading a small
page), split across the workers.

Workers are forked from a fresh `forkserver` process that has already imported the reading
code, never from the crawl itself (a fork of a process running threads can inherit a held
lock). They exit when the crawl does, even a crawl killed with SIGKILL: a worker holds its
own queue's pipe open, so it would never see the crawl go, and each watches the crawl's
process itself (a pidfd); the forkserver and multiprocessing's resource tracker end with it.
A worker that dies (out of memory, a crash in a C library) costs nothing: its pages are read
in the crawl's process, and so is every later page, with a warning.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from crawler.profiles import SiteProfile
from crawler.reading import LinkBook, StoryPage, read_story_page

logger = logging.getLogger(__name__)

MAX_AUTO_WORKERS = 4
BATCH_PAGES = 16  # pages per hand-over at most

Job = tuple[str, str, str]  # text, url, story key


def auto_workers(cpus: int | None = None) -> int:
    """Worker processes for "auto": every core but the one the crawl runs on, at most
    MAX_AUTO_WORKERS; none on a single core (reading in the crawl's process is cheaper)."""
    count = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(0, min(MAX_AUTO_WORKERS, count - 1))


def parse_workers(value: object, auto: int | None = None) -> int:
    """NEWSMIRROR_PAGE_WORKERS: "auto" (`auto`, else auto_workers()) or a whole number ≥ 0
    (ValueError otherwise)."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "auto")):
        return auto_workers() if auto is None else auto
    try:
        count = int(str(value))
    except ValueError:
        raise ValueError(f"page workers must be 'auto' or a whole number, not {value!r}") from None
    if count < 0:
        raise ValueError(f"page workers must be 0 or more, not {count}")
    return count


# --- in a worker process ---------------------------------------------------------------------

_book: LinkBook | None = None


def _start_worker(profile: SiteProfile, crawl_pid: int) -> None:
    global _book  # noqa: PLW0603 - one book per worker process, made once
    _book = LinkBook(profile)
    threading.Thread(target=_end_with, args=(crawl_pid,), daemon=True).start()


def _end_with(pid: int) -> None:
    """Exit this worker when process `pid` (the crawl) ends, however it ends."""
    try:
        watched = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd (old kernel) or already gone
        watched = None
    if watched is not None:
        select.select([watched], [], [])  # readable once the process has ended
    else:
        while _is_running(pid):
            time.sleep(1.0)
    os._exit(0)


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_batch(jobs: list[Job]) -> list[StoryPage | BaseException]:
    """Each page read, or the exception reading it raised (one bad page spoils no other)."""
    if _book is None:
        raise RuntimeError("worker not started")
    return [_read_one(job, _book) for job in jobs]


def _read_one(job: Job, book: LinkBook) -> StoryPage | BaseException:
    """A page read, or the exception reading it raised (for its caller to raise)."""
    text, url, key = job
    try:
        return read_story_page(text, url, key, book)
    except Exception as exc:  # noqa: BLE001 - raised in the page's caller
        return exc


# --- in the crawl's process ------------------------------------------------------------------


class PageReaders:
    """Reads story pages in `workers` processes (0: in this process, no pool at all)."""

    def __init__(self, profile: SiteProfile, workers: int, book: LinkBook | None = None) -> None:
        self.profile = profile
        self.workers = workers
        self.book = book or LinkBook(profile)  # this process's own, for inline reading
        self._pool: ProcessPoolExecutor | None = None
        self._waiting: list[tuple[Job, asyncio.Future[StoryPage]]] = []

    def start(self) -> None:
        if self.workers <= 0 or self._pool is not None:
            return
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.page_readers"])
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(self.profile, os.getpid()),
        )

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    @property
    def in_workers(self) -> bool:
        return self._pool is not None

    async def read(self, text: str, url: str, key: str) -> StoryPage:
        """The page read (in a worker when there are any); reading's exceptions are raised."""
        if self._pool is None:
            return read_story_page(text, url, key, self.book)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoryPage] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._hand_over, loop)
        self._waiting.append(((text, url, key), future))
        return await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send what this turn of the loop gathered, in batches spread over the workers."""
        waiting, self._waiting = self._waiting, []
        size = max(1, min(BATCH_PAGES, -(-len(waiting) // max(1, self.workers))))
        for start in range(0, len(waiting), size):
            batch = waiting[start : start + size]
            pool = self._pool
            if pool is None:
                self._read_here(batch)
                continue
            try:
                sent = pool.submit(_read_batch, [job for job, _ in batch])
            except (BrokenProcessPool, RuntimeError):
                self._lose_workers()
                self._read_here(batch)
                continue
            sent.add_done_callback(_on_loop(loop, self._deliver, batch))

    def _deliver(
        self,
        batch: list[tuple[Job, asyncio.Future[StoryPage]]],
        sent: Future[list[StoryPage | BaseException]],
    ) -> None:
        try:
            results = sent.result()
        except BrokenProcessPool:
            self._lose_workers()
            self._read_here(batch)
            return
        except BaseException as exc:  # noqa: BLE001 - cancelled at close, or not sent
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(exc))
            return
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result)

    def _read_here(self, batch: list[tuple[Job, asyncio.Future[StoryPage]]]) -> None:
        for job, future in batch:
            if not future.done():
                _settle(future, _read_one(job, self.book))

    def _lose_workers(self) -> None:
        if self._pool is not None:
            logger.warning("a page worker process died; pages are read in the crawl's process")
            self.close()


def _settle(future: asyncio.Future[StoryPage], result: StoryPage | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _on_loop(
    loop: asyncio.AbstractEventLoop, function: Callable[[Any, Future[Any]], None], batch: Any
) -> Callable[[Future[Any]], None]:
    """A Future callback (run on the pool's thread) that runs `function` on the loop."""

    def done(sent: Future[Any]) -> None:
        if not loop.is_closed():
            loop.call_soon_threadsafe(function, batch, sent)

    return done
