"""Coverage-guided fuzzing with atheris (libFuzzer) of extraction, URL identity and the
feed/sitemap parsers: no exception escapes, no input hangs.

Run by tests/faults/test_atheris.py in a subprocess, for a fixed number of inputs:

    python -m tests.faults.atheris_harness -runs=2000 -seed=6 -timeout=10 CORPUS_DIR

The first byte of an input picks the target; the rest is the page, the document or the URL.
An uncaught exception or an input slower than -timeout seconds ends the run non-zero.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["crawler"]):
    from crawler import urls
    from crawler.extraction import extract_article
    from crawler.feeds import parse_feed, parse_sitemap, robots_sitemaps
    from crawler.profiles import load_profile

PROFILE = load_profile("presstv")
ARTICLE_URL = "https://www.presstv.ir/Detail/2026/01/01/1/x"
TARGETS = 4


def fuzz_one(data: bytes) -> None:
    if not data:
        return
    target, rest = data[0] % TARGETS, data[1:]
    if target == 0:
        extract_article(rest, ARTICLE_URL, PROFILE)
    elif target == 1:
        parse_feed(rest)
        robots_sitemaps(rest.decode("utf-8", "replace"))
    elif target == 2:
        parse_sitemap(rest)
    else:
        url = rest.decode("utf-8", "replace")
        urls.to_profile_url(url, PROFILE)
        urls.article_ref(url, PROFILE)
        urls.canonical_url(url, PROFILE)
        urls.page_type(url, PROFILE)
        urls.url_host(url)


def seeds() -> dict[str, bytes]:
    """Real inputs of each target, from the replay site, to start the corpus from."""
    from crawler.replay import ReplayConfig, build_site  # noqa: PLC0415 - seeds only

    site = build_site(ReplayConfig(stories=3, lag=1, new_stories=0))
    story = site.stories[0]
    host = "www.presstv.ir"
    return {
        "article": b"\0" + site.respond(host, story.path)[2],
        "feed": b"\1" + site.respond(host, "/rss.xml")[2],
        "robots": b"\1" + site.respond(host, "/robots.txt")[2],
        "index": b"\2" + site.respond(host, "/sitemap.xml")[2],
        "sitemap": b"\2" + site.respond(host, "/sitemap-2026-11.xml")[2],
        "url": b"\3" + f"https://{host}{story.path}?utm_source=x#top".encode(),
    }


def main() -> None:
    if "--write-seeds" in sys.argv:
        folder = sys.argv[sys.argv.index("--write-seeds") + 1]
        for name, data in seeds().items():
            with open(f"{folder}/{name}", "wb") as handle:
                handle.write(data)
        return
    atheris.Setup(sys.argv, fuzz_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
