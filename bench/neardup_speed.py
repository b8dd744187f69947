"""How near-duplicate detection scales: time per story and peak memory at 10k, 100k and 1M stories.

One database grows through every size (10k, then on to 100k, then to 1M). Stories are
synthetic: 300 to 900 words drawn from a Zipf-shaped vocabulary, 200 a day. Every 100th story
republishes a recent one with one word changed (it must be linked), and a weekly bulletin
repeats one template with a word changed (seven days apart, beyond the window: it must not
be). Each batch of 500 rows is inserted into `articles` and then indexed with
`NearDuplicateIndex.update()`, in one transaction like Store.write_captures. The time per
story is measured over the last `sample` stories before each size is reached, not over the
whole build, so a flat figure means the cost does not grow with the database. Only the
index's work is timed: generating text and inserting article rows are not. The bench database
drops the full-text triggers, which cost the same at any size and would only slow the build.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from crawler.dedupe import NearDuplicateIndex
from crawler.storage import Store

SIZES = (10_000, 100_000, 1_000_000)
SAMPLE = 2_000
BATCH = 500
VOCABULARY = 30_000
STORIES_PER_DAY = 200
PLANT_EVERY = 100
BULLETIN_EVERY = STORIES_PER_DAY * 7
START = 1_700_000_000  # unix seconds of the first story
_INSERT = (
    "INSERT INTO articles (key, site, source_id, title, body, published_at, authors, tags, "
    "content_hash, first_seen_at, last_seen_at, mirrors, version_count) "
    "VALUES (?, 'bench', ?, ?, ?, datetime(?, 'unixepoch') || '+00:00', '[]', '[]', ?, "
    "'2026-01-01T00:00:00.000+00:00', '2026-01-01T00:00:00.000+00:00', '[]', 1)"
)


class _Stories:
    """Story bodies, planted republications and weekly bulletins, reproducible from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)  # draws a body's words in one call
        letters = "etaoinshrdlcumwfgypbvkjxqz"
        self.words = np.array(
            [
                "".join(self.rng.choices(letters, k=self.rng.randint(2, 10)))
                for _ in range(VOCABULARY)
            ]
        )
        zipf = np.cumsum(1 / np.arange(1, VOCABULARY + 1))
        self.cumulative = zipf / zipf[-1]
        self.bulletin = self.body()
        self.recent: dict[int, str] = {}  # the last stories' bodies, for republications
        self.planted: dict[str, str] = {}  # copy key -> original key

    def body(self) -> str:
        draws = self.np_rng.random(self.rng.randint(300, 900))
        picked = np.searchsorted(self.cumulative, draws).clip(max=VOCABULARY - 1)
        return " ".join(self.words[picked].tolist())

    def changed(self, body: str, tag: str) -> str:
        words = body.split(" ")
        words[self.rng.randrange(len(words))] = f"changed{tag}"
        return " ".join(words)

    def story(self, index: int) -> tuple[Any, ...]:
        key = f"bench:{index}"
        if index % BULLETIN_EVERY == 0:
            body = self.changed(self.bulletin, str(index))
        elif index % PLANT_EVERY == PLANT_EVERY - 1:
            # A story 1 to 50 places back: never a copy itself, never a bulletin.
            source = index - self.rng.randint(1, 50)
            body = self.changed(self.recent[source], str(index))
            self.planted[key] = f"bench:{source}"
        else:
            body = self.body()
        self.recent[index] = body
        self.recent.pop(index - PLANT_EVERY, None)
        published = START + index * 86_400 // STORIES_PER_DAY
        return (key, str(index), f"Story {index}", body, published, f"hash{index}")


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MB (Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        current = pages * resource.getpagesize() / 2**20
    except OSError:
        current = peak
    return round(current, 1), round(peak, 1)


@contextmanager
def _database(path: Path | None) -> Iterator[Path]:
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="newsmirror-neardup-") as tmp:
        yield Path(tmp) / "bench.db"


def measure(
    sizes: tuple[int, ...] = SIZES,
    sample: int = SAMPLE,
    *,
    path: Path | None = None,
    seed: int = 1,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Grow one database through `sizes` stories; figures per size and for planted copies."""
    if list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
        raise ValueError("sizes must be increasing and positive")
    stories = _Stories(seed)
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    with _database(path) as db_path, Store(db_path) as store:
        store.db.execute("DROP TRIGGER IF EXISTS articles_ai")
        conn = store.db.conn
        index = NearDuplicateIndex(store.db)
        done = 0
        for size in sizes:
            timed_seconds = batch_seconds = cpu_seconds = 0.0
            timed = 0
            measure_from = max(done, size - sample)
            while done < size:
                rows = [stories.story(i) for i in range(done, min(size, done + BATCH))]
                batch_start = time.perf_counter()
                with store.db.atomic():
                    conn.executemany(_INSERT, rows)
                    index_start, cpu_start = time.perf_counter(), time.process_time()
                    index.update(row[0] for row in rows)
                    index_seconds = time.perf_counter() - index_start
                    index_cpu = time.process_time() - cpu_start
                finished = time.perf_counter()
                counted = sum(1 for row in rows if int(row[1]) >= measure_from)
                if counted:
                    # Batches straddling the start of the sample count pro rata.
                    timed_seconds += index_seconds * counted / len(rows)
                    cpu_seconds += index_cpu * counted / len(rows)
                    batch_seconds += (finished - batch_start) * counted / len(rows)
                    timed += counted
                done += len(rows)
                if log and done % 10_000 == 0:
                    rate = done / (time.perf_counter() - started)
                    log(f"  {done:>9,} stories  {rate:,.0f}/s  rss {_rss_mb()[0]:,.0f} MB")
            current, peak = _rss_mb()
            db_bytes = sum(
                p.stat().st_size for p in db_path.parent.glob(db_path.name + "*") if p.is_file()
            )
            results.append(
                {
                    "stories": size,
                    "sampled": timed,
                    "ms_per_story": round(timed_seconds / timed * 1000, 3),
                    "cpu_ms_per_story": round(cpu_seconds / timed * 1000, 3),
                    "batch_ms_per_story": round(batch_seconds / timed * 1000, 3),
                    "rss_mb": current,
                    "peak_rss_mb": peak,
                    "db_mb": round(db_bytes / 2**20, 1),
                    "elapsed_s": round(time.perf_counter() - started, 1),
                }
            )
            if log:
                log(json.dumps(results[-1]))
        found = dict(
            conn.execute("SELECT key, duplicate_of FROM articles WHERE duplicate_of IS NOT NULL")
        )
        config = index.config
    correct = sum(1 for key, original in stories.planted.items() if found.get(key) == original)
    return {
        "sizes": results,
        "flatness": round(results[-1]["ms_per_story"] / results[0]["ms_per_story"], 2),
        "planted": len(stories.planted),
        "planted_found": correct,
        "false_links": len(found) - correct,
        "bands": config.bands,
        "band_rows": config.band_rows,
        "batch": BATCH,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.neardup_speed", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(map(str, SIZES)),
        help="comma-separated story counts, increasing (default: %(default)s)",
    )
    parser.add_argument("--sample", type=int, default=SAMPLE, help="stories timed per size")
    parser.add_argument("--db", type=Path, help="keep the database here (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    sizes = tuple(int(size) for size in args.sizes.split(","))
    figures = measure(
        sizes, args.sample, path=args.db, log=lambda line: print(line, file=sys.stderr, flush=True)
    )
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{'stories':>10}  {'ms/story':>8}  {'cpu ms':>6}  {'batch ms':>8}  {'peak RSS MB':>11}")
    for row in figures["sizes"]:
        print(
            f"{row['stories']:>10,}  {row['ms_per_story']:>8.3f}  {row['cpu_ms_per_story']:>6.3f}  "
            f"{row['batch_ms_per_story']:>8.3f}  {row['peak_rss_mb']:>11,.0f}"
        )
    print(
        f"largest / smallest: {figures['flatness']}x; planted copies found "
        f"{figures['planted_found']}/{figures['planted']}, false links {figures['false_links']}; "
        f"{figures['bands']} bands x {figures['band_rows']} rows"
    )


if __name__ == "__main__":
    main()
