"""Export throughput (MB/s) and peak memory of `newsmirror export` as the database grows.

One synthetic database is grown through `Store.write_captures` to each size in turn; at
each size, `newsmirror export --format jsonl|parquet|warc` of every story runs in its own
process, timed from start to exit. Its peak RSS is the high-water mark of its own address
space (`VmHWM` in /proc/self/status), which the process reports as it exits: the rusage a
parent gets (`ru_maxrss`, by `wait4` or RUSAGE_CHILDREN) also counts the memory the child
shared with the parent between fork and exec, so it shows this benchmark's own size, not
the export's. The same exports selecting no story give the fixed cost of the process
(interpreter, imports, SQLite). Issue #4 asks that the peak RSS at 100k stories be within
1.3x of the peak at 10k.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.items import Capture
from crawler.storage import Store

SIZES = (10_000, 100_000)
FORMATS = {"jsonl": "stories.jsonl", "parquet": "stories.parquet", "warc": "captures.warc.gz"}
HOST = "www.presstv.ir"
BODY_BYTES = 3_000  # a typical news story's text; the raw page adds its markup
BATCH = 1_000
TARGET_RATIO = 1.3
SECTIONS = ("Iran", "World / Asia", "Middle East", "Business", "Sport")
REPO = Path(__file__).resolve().parent.parent
# Runs `newsmirror ARGS...` as `python -m crawler` does, then writes the process's peak
# RSS (KiB) to the file named by the first argument.
_REPORT_PEAK = """
import atexit, sys
from pathlib import Path

def _report(path=Path(sys.argv.pop(1))):
    status = Path("/proc/self/status").read_text(encoding="ascii").splitlines()
    path.write_text(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

atexit.register(_report)
from crawler.cli import main
main(sys.argv[1:])
"""


def _paragraphs(rng: random.Random, count: int = 400) -> list[str]:
    """A pool of paragraphs stories are drawn from: cheap to generate at 100k stories, and
    varied enough that no two stories share a body."""
    words = ["".join(rng.choices("etaoinshrdlcumwfgyp", k=rng.randint(2, 9))) for _ in range(3000)]
    return [" ".join(rng.choices(words, k=rng.randint(40, 90))) + "." for _ in range(count)]


def _capture(story: int, pool: list[str], rng: random.Random) -> Capture:
    source_id = 800_000 + story
    key = f"presstv:{source_id}"
    paragraphs: list[str] = [f"Story {story}."]
    while sum(map(len, paragraphs)) < BODY_BYTES:
        paragraphs.append(rng.choice(pool))
    body = "\n\n".join(paragraphs)[:BODY_BYTES]
    title = f"Story {story}: " + pool[story % len(pool)][:60]
    day = story % 365
    url = f"https://{HOST}/Detail/2025/{1 + day // 31 % 12:02d}/{1 + day % 28:02d}/{source_id}/s"
    article = {
        "key": key,
        "site": "presstv",
        "source_id": str(source_id),
        "canonical_url": url,
        "title": title,
        "lead": body[:200],
        "body": body,
        "section": SECTIONS[story % len(SECTIONS)],
        "published_at": f"2025-{1 + day // 31 % 12:02d}-{1 + day % 28:02d}T10:00:00+03:30",
        "authors": [f"Reporter {story % 40}"],
        "tags": ["Iran", f"tag{story % 97}"],
        "language": "en",
        "extraction": "profile",
    }
    html = "".join(f"<p>{p}</p>\n" for p in body.split("\n\n"))
    raw = f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{html}</body></html>"
    minute = story // 60
    return Capture(
        site="presstv",
        url=url,
        host=HOST,
        fetched_at=f"2026-01-{1 + minute // 1440 % 28:02d}T{minute // 60 % 24:02d}:"
        f"{minute % 60:02d}:{story % 60:02d}.000+00:00",
        outcome="article",
        page_type="article",
        status=200,
        headers={"Content-Type": ["text/html; charset=utf-8"]},
        content_type="text/html",
        body=raw.encode(),
        article_key=key,
        article=article,
    )


def _batches(start: int, stop: int, seed: int) -> Iterator[list[Capture]]:
    rng = random.Random(seed)
    pool = _paragraphs(rng)
    rng.seed(seed + start)
    batch: list[Capture] = []
    for story in range(start, stop):
        batch.append(_capture(story, pool, rng))
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def grow(db: Path, start: int, stop: int, seed: int = 1) -> float:
    """Add stories [start, stop) to the database; returns the seconds it took."""
    started = time.perf_counter()
    with Store(db) as store:
        store.sync_hosts("presstv", {HOST: "primary"})
        run_id = store.begin_run("presstv", {"bench": True, "user_agent": "newsmirror/bench"})
        for batch in _batches(start, stop, seed):
            store.write_captures(run_id, batch)
        store.finish_run(run_id, "finished", {"bench": True})
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


def run_export(db: Path, export_format: str, out: Path, *filters: str) -> dict[str, Any]:
    """`newsmirror export` in a process of its own: seconds, bytes written, peak RSS."""
    peak = out.with_name(out.name + ".peak")
    command = [sys.executable, "-c", _REPORT_PEAK, str(peak), "export", "--format", export_format]
    command += ["--db", str(db), "--out", str(out), *filters]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[3:])}: {result.stderr.strip()}")
    peak_kib = int(peak.read_text(encoding="ascii"))
    peak.unlink()
    manifest_file = out.with_name(out.name + ".manifest.json")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    written = sum(int(entry["bytes"]) for entry in manifest["files"])
    for entry in manifest["files"]:
        out.with_name(entry["path"]).unlink()
    manifest_file.unlink()
    return {
        "seconds": round(seconds, 2),
        "mb": round(written / 1e6, 1),
        "mb_per_s": round(written / 1e6 / seconds, 1),
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "rows": manifest["rows"],
    }


def measure(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": list(sizes), "runs": {}, "fixed": {}, "build_s": {}}
    with tempfile.TemporaryDirectory(prefix="newsmirror-bench-export-") as tmp:
        db = Path(tmp) / "bench.db"
        have = 0
        for size in sizes:
            results["build_s"][size] = round(grow(db, have, size), 1)
            have = size
            if not results["fixed"]:
                for name, file in FORMATS.items():
                    empty = run_export(db, name, Path(tmp) / file, "--key", "none:0")
                    results["fixed"][name] = empty["peak_rss_mb"]
            for name, file in FORMATS.items():
                figures = run_export(db, name, Path(tmp) / file)
                if figures["rows"].get("stories", figures["rows"].get("responses")) != size:
                    raise RuntimeError(f"{name} at {size}: unexpected rows {figures['rows']}")
                results["runs"].setdefault(name, {})[size] = figures
    first, last = sizes[0], sizes[-1]
    results["ratios"] = {
        name: round(runs[last]["peak_rss_mb"] / runs[first]["peak_rss_mb"], 3)
        for name, runs in results["runs"].items()
    }
    results["passed"] = all(ratio <= TARGET_RATIO for ratio in results["ratios"].values())
    return results


def render_section(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md (a heading of its own, ending in a newline)."""
    sizes = results["sizes"]
    first, last = sizes[0], sizes[-1]
    rows = []
    for name, runs in results["runs"].items():
        for size in sizes:
            run = runs[size]
            rows.append(
                f"| {name} | {size:,} | {run['mb']:,.1f} | {run['seconds']:.1f} | "
                f"{run['mb_per_s']:.1f} | {run['peak_rss_mb']:.0f} |"
            )
    ratios = "; ".join(
        f"{name} **{ratio:.2f}×** (fixed cost {results['fixed'][name]:.0f} MB)"
        for name, ratio in results["ratios"].items()
    )
    verdict = "met" if results["passed"] else "NOT met"
    table = "\n".join(rows)
    return f"""## Export throughput and memory (issue #4: peak RSS at {last:,} ≤ 1.3× at {first:,})

`bench/export_speed.py`: one synthetic database grown through `Store.write_captures` to
{" and ".join(f"{n:,}" for n in sizes)} stories (3 KB of text each, one capture of a
~3.5 KB page on the primary host). At each size, `newsmirror export --format F` of every
story runs in a process of its own; time is the process's wall time (start-up and the
manifest's sha256 included), MB are the bytes written (the WARC with its CDXJ index),
peak RSS is that process's own high-water mark (`VmHWM`). The fixed cost is the peak RSS
of the same export selecting no story (interpreter, imports, SQLite).

| format | stories | MB written | seconds | MB/s | peak RSS MB |
|---|---|---|---|---|---|
{table}

Peak RSS at {last:,} against {first:,}: {ratios}. Target ≤ {TARGET_RATIO}×: **{verdict}**.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.export_speed", description=__doc__)
    parser.add_argument(
        "--sizes",
        default=",".join(str(n) for n in SIZES),
        help="comma-separated story counts, smallest first",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    results = measure(tuple(int(n) for n in args.sizes.split(",")))
    print(json.dumps(results, indent=2) if args.json else render_section(results))


if __name__ == "__main__":
    main()
