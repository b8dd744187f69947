"""How fast Store.write_captures stores stories, and how big the database gets per story."""

from __future__ import annotations

import argparse
import itertools
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.items import Capture
from crawler.storage import Store, WriteResult

HOSTS = ("www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv", "www.presstv.com")
ROLES = ("primary", "alternate", "alternate", "retired")
BODY_BYTES = 5_000
VOCABULARY = 20_000
# A page's chrome around the story: menus, footer, scripts. The same on every page, so it
# compresses within a page; real pages carry more of it.
CHROME = "".join(
    f'<li class="menu-item"><a href="/Section/{10100 + i}">Section {i}</a></li>\n'
    for i in range(40)
)


class _Text:
    """English-like text: words drawn from a Zipf-shaped vocabulary, so FTS indexing and
    compression see a realistic spread of common and rare words."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        letters = "etaoinshrdlcumwfgypbvkjxqz"
        weights = [12, 9, 8, 8, 7, 7, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
        self.words = [
            "".join(self.rng.choices(letters, weights, k=self.rng.randint(2, 10)))
            for _ in range(VOCABULARY)
        ]
        self.cum_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))

    def sentence(self, words: int) -> str:
        picked = self.rng.choices(self.words, cum_weights=self.cum_weights, k=words)
        return " ".join(picked).capitalize() + "."

    def body(self, size: int) -> str:
        paragraphs: list[str] = []
        length = 0
        while length < size:
            paragraph = " ".join(self.sentence(self.rng.randint(8, 24)) for _ in range(3))
            paragraphs.append(paragraph)
            length += len(paragraph) + 2
        return "\n\n".join(paragraphs)[:size]


def _captures(text: _Text, story: int, hosts: int, minute: int) -> list[Capture]:
    """One story fetched from `hosts` hosts: the same text, page markup naming each host."""
    key = f"presstv:{700_000 + story}"
    title = text.sentence(8)
    body = text.body(BODY_BYTES)
    path = f"/Detail/2026/01/01/{700_000 + story}/story-{story}"
    article = {
        "key": key,
        "site": "presstv",
        "source_id": str(700_000 + story),
        "canonical_url": f"https://{HOSTS[0]}{path}",
        "title": title,
        "lead": body[:200],
        "body": body,
        "section": "Iran",
        "published_at": "2026-01-01T10:00:00+03:30",
        "authors": [],
        "tags": ["Iran", "Bench"],
        "language": "en",
        "extraction": "profile",
    }
    captures = []
    for index, host in enumerate(HOSTS[:hosts]):
        paragraphs = "".join(f"<p>{p}</p>\n" for p in body.split("\n\n"))
        raw = (
            f'<html><head><title>{title}</title><link rel="canonical" href="https://{host}{path}">'
            f"</head><body><nav><ul>{CHROME}</ul></nav><h1>{title}</h1>"
            f'<div class="news-body">{paragraphs}</div></body></html>'
        ).encode()
        captures.append(
            Capture(
                site="presstv",
                url=f"https://{host}{path}",
                host=host,
                fetched_at=f"2026-01-02T{minute // 60 % 24:02d}:{minute % 60:02d}:{index:02d}.000+00:00",
                outcome="article",
                page_type="article",
                status=200,
                headers={"Content-Type": ["text/html; charset=utf-8"]},
                content_type="text/html",
                body=raw,
                article_key=key,
                article=dict(article),
            )
        )
    return captures


def _batches(n_stories: int, hosts: int, batch: int, seed: int) -> Iterator[list[Capture]]:
    text = _Text(seed)
    pending: list[Capture] = []
    for story in range(n_stories):
        pending.extend(_captures(text, story, hosts, story))
        if len(pending) >= batch:
            yield pending
            pending = []
    if pending:
        yield pending


def _write_all(
    store: Store, n_stories: int, hosts: int, batch: int, seed: int
) -> tuple[float, float, WriteResult]:
    """Seconds spent inside write_captures (generating captures is not timed), and the CPU
    seconds the process (every thread) used meanwhile."""
    run_id = store.begin_run("presstv", {"bench": True})
    elapsed = cpu = 0.0
    total = WriteResult()
    for captures in _batches(n_stories, hosts, batch, seed):
        started, cpu_started = time.perf_counter(), time.process_time()
        total += store.write_captures(run_id, captures)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    store.finish_run(run_id, "finished", {"bench": True})
    return elapsed, cpu, total


def measure(n_stories: int, hosts: int = 3, batch: int = 500, seed: int = 1) -> dict[str, Any]:
    """Write `n_stories` stories seen on `hosts` hosts, then the same crawl again."""
    if not 1 <= hosts <= len(HOSTS):
        raise ValueError(f"hosts must be between 1 and {len(HOSTS)}")
    with tempfile.TemporaryDirectory(prefix="newsmirror-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        with Store(path) as store:
            store.sync_hosts("presstv", dict(zip(HOSTS, ROLES, strict=True)))
            seconds, cpu, first = _write_all(store, n_stories, hosts, batch, seed)
            recrawl_seconds, _, again = _write_all(store, n_stories, hosts, batch, seed)
            raw = store.db.execute("SELECT sum(size), sum(length(body)) FROM raw_pages")
            raw_bytes, stored_bytes = raw.fetchone()
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db_bytes = path.stat().st_size
    if first.new_stories != n_stories or again.new_stories or again.new_versions:
        raise RuntimeError(f"unexpected writes: first {first}, again {again}")
    captures = n_stories * hosts
    return {
        "stories": n_stories,
        "hosts": hosts,
        "batch": batch,
        "seconds": round(seconds, 3),
        "stories_per_s": round(n_stories / seconds),
        # CPU of every thread while writing: steadier than the rate on a shared machine.
        "cpu_us_per_story": round(cpu / n_stories * 1e6),
        "captures_per_s": round(captures / seconds),
        "recrawl_stories_per_s": round(n_stories / recrawl_seconds),
        "db_bytes": db_bytes,
        "db_bytes_per_story": round(db_bytes / n_stories),
        "raw_bytes_per_capture": round(raw_bytes / captures),
        "raw_compression_ratio": round(raw_bytes / stored_bytes, 2),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.storage_speed", description=__doc__)
    parser.add_argument("--stories", type=int, default=10_000)
    parser.add_argument("--hosts", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="captures per transaction")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = measure(args.stories, args.hosts, args.batch)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    width = max(map(len, figures))
    for name, value in figures.items():
        print(
            f"{name:<{width}}  {value:,}" if isinstance(value, int) else f"{name:<{width}}  {value}"
        )


if __name__ == "__main__":
    main()
