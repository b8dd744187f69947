"""Benchmark: the profile path of extract_article against trafilatura.extract on the same pages."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trafilatura

from crawler.extraction import extract_article
from crawler.profiles import SiteProfile, load_profile

REFERENCE = Path(__file__).resolve().parent.parent / "tests/fixtures/pages/presstv/reference"
# The profile path must stay at least this many times faster than the generic extractor.
TARGET_RATIO = 10.0


def _best_ms_per_page(
    run: Callable[[str, str], object], pages: Sequence[tuple[str, str]], repeat: int
) -> float:
    """Best of `repeat` passes over all pages (the least disturbed by the machine), per page."""
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        for html, url in pages:
            run(html, url)
        best = min(best, time.perf_counter() - started)
    return best * 1000 / len(pages)


def measure(pages: list[tuple[str, str]], profile: SiteProfile, repeat: int = 3) -> dict[str, Any]:
    """ms/page of extract_article(html, url, profile) and of trafilatura.extract(html, url=url).

    `pages` are (html, url) pairs. Pages whose body did not come from the profile or JSON-LD
    ran trafilatura inside extract_article too; they are counted in `generic_pages`.
    """
    if not pages:
        raise ValueError("no pages to measure")
    layers = [extract_article(html, url, profile)["extraction"] for html, url in pages]  # warm-up
    trafilatura.extract(pages[0][0], url=pages[0][1])
    profile_ms = _best_ms_per_page(lambda h, u: extract_article(h, u, profile), pages, repeat)
    generic_ms = _best_ms_per_page(lambda h, u: trafilatura.extract(h, url=u), pages, repeat)
    return {
        "pages": len(pages),
        "repeat": repeat,
        "generic_pages": sum(layer not in ("profile", "jsonld") for layer in layers),
        "profile_ms_per_page": profile_ms,
        "trafilatura_ms_per_page": generic_ms,
        "ratio": generic_ms / profile_ms if profile_ms else float("inf"),
    }


def _load_pages(paths: Sequence[str], url: str | None) -> list[tuple[str, str]]:
    """Pages from files; a fixture's meta.json beside page.html gives its URL."""
    if not paths:
        paths = [str(REFERENCE / "page.html")]
    pages = []
    for name in paths:
        path = Path(name)
        meta = path.parent / "meta.json"
        page_url = url or (json.loads(meta.read_text("utf-8"))["url"] if meta.is_file() else None)
        if page_url is None:
            raise SystemExit(f"{name}: no --url given and no meta.json beside it")
        pages.append((path.read_text("utf-8", errors="replace"), page_url))
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.extraction_speed", description=__doc__)
    parser.add_argument(
        "pages", nargs="*", help="HTML files (default: the Press TV reference page)"
    )
    parser.add_argument(
        "--profile", default="presstv", help="profile name or file (default: presstv)"
    )
    parser.add_argument("--url", help="URL for every page (default: each page's meta.json)")
    parser.add_argument(
        "--repeat", type=int, default=20, help="passes; the best counts (default: 20)"
    )
    args = parser.parse_args(argv)
    result = measure(_load_pages(args.pages, args.url), load_profile(args.profile), args.repeat)
    print(
        f"pages: {result['pages']}  passes: {result['repeat']}  generic fallbacks: {result['generic_pages']}"
    )
    print(f"{'path':<36}{'ms/page':>10}")
    print(f"{'extract_article (profile path)':<36}{result['profile_ms_per_page']:>10.3f}")
    print(f"{'trafilatura.extract':<36}{result['trafilatura_ms_per_page']:>10.3f}")
    verdict = "ok" if result["ratio"] >= TARGET_RATIO else f"below the {TARGET_RATIO:.0f}x target"
    print(f"{'speed ratio':<36}{result['ratio']:>9.1f}x  ({verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
