"""The usual recipe: a Scrapy spider running trafilatura.extract on every page, into JSON lines.

The baseline a newsmirror crawl is measured against besides the bare spider: the same URL
list, the same settings, and what most news scrapers do with each page.
Run in its own process (a fresh reactor):
    python -m bench.usual_spider URLS.txt SETTINGS.json OUT.jsonl
It prints one JSON line: pages fetched and seconds from first request to the last response.
"""

from __future__ import annotations

import json
import sys
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


def main() -> None:
    url_file, options_file, out_path = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    options = CrawlOptions(**json.loads(options_file.read_text()))
    print(json.dumps(run(url_file, options, out_path)))


if __name__ == "__main__":
    main()
