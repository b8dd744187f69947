"""The usual recipe: a Scrapy spider running trafilatura.extract on every page, into JSON lines.

The baseline a newsmirror crawl is measured against besides the bare spider: the same URL
list, the same settings, and what most news scrapers do with each page.
Run in its own process (a fresh reactor):
    python -m bench.usual_spider URLS.txt SETTINGS.json OUT.jsonl
It prints one JSON line: pages fetched and seconds from first request to the last response.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse

from bench.bare_spider import BareSpider
from crawler.runner import CrawlOptions, crawl_settings


class UsualSpider(BareSpider):
    """Fetches each URL once and writes trafilatura's text and metadata as one JSON line."""

    name = "usual"

    def __init__(self, url_list: list[str], out: IO[str], **kwargs: Any) -> None:
        super().__init__(url_list, **kwargs)
        self.out = out

    def parse(self, response: Response) -> Iterator[Any]:
        self.pages += 1
        if isinstance(response, TextResponse) and response.status == 200:
            extracted = trafilatura.extract(
                response.text, url=response.url, output_format="json", with_metadata=True
            )
            if extracted:
                self.out.write(extracted + "\n")  # json.dumps output: one line
        self.last = time.monotonic()
        return iter(())


def run(url_file: Path, options: CrawlOptions, out_path: Path) -> dict[str, float]:
    settings = crawl_settings(options)
    # Same transport, politeness and robots handling as bare_spider; no newsmirror components.
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {}, priority="cmdline")
    settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(UsualSpider)
    with out_path.open("w", encoding="utf-8") as out:
        process.crawl(crawler, url_list=url_file.read_text().split(), out=out)
        process.start()
    spider: UsualSpider = crawler.spider  # type: ignore[assignment]
    return {"pages": spider.pages, "seconds": spider.last - spider.started}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.usual_spider", description=__doc__)
    parser.add_argument("urls", type=Path, help="a file of URLs, one a line")
    parser.add_argument("options", type=Path, help="a JSON file of CrawlOptions fields")
    parser.add_argument("out", type=Path, help="the JSON lines file to write")
    args = parser.parse_args(argv)
    options = CrawlOptions(**json.loads(args.options.read_text()))
    print(json.dumps(run(args.urls, options, args.out)))


if __name__ == "__main__":
    main()
