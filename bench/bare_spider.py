"""A bare Scrapy spider that fetches a fixed URL list and yields nothing: the speed ceiling.

Run in its own process (a fresh reactor): python -m bench.bare_spider URLS.txt SETTINGS.json
It prints one JSON line: pages fetched and seconds from first request to close.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

from crawler.runner import CrawlOptions, crawl_settings


class BareSpider(scrapy.Spider):
    """Fetches each URL once, reads nothing, yields nothing."""

    name = "bare"

    def __init__(self, url_list: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url_list = url_list
        self.pages = 0
        self.started = 0.0
        self.last = 0.0

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.started = time.monotonic()
        for url in self.url_list:
            yield scrapy.Request(url, callback=self.parse, meta={"handle_httpstatus_all": True})

    def parse(self, response: Response) -> Iterator[Any]:
        self.pages += 1
        self.last = time.monotonic()
        return iter(())


def run(url_file: Path, options: CrawlOptions) -> dict[str, float]:
    settings = crawl_settings(options)
    # Same transport, politeness and robots handling; none of newsmirror's own components.
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {}, priority="cmdline")
    settings.set("DOWNLOADER_MIDDLEWARES", {}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    url_list = url_file.read_text().split()
    process.crawl(crawler, url_list=url_list)
    process.start()
    spider: BareSpider = crawler.spider  # type: ignore[assignment]
    # To the last response, not to the close (see crawl_speed: Scrapy's idle heartbeat).
    return {"pages": spider.pages, "seconds": spider.last - spider.started}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_spider", description=__doc__)
    parser.add_argument("urls", type=Path, help="a file of URLs, one a line")
    parser.add_argument("options", type=Path, help="a JSON file of CrawlOptions fields")
    args = parser.parse_args(argv)
    options = CrawlOptions(**json.loads(args.options.read_text()))
    print(json.dumps(run(args.urls, options)))


if __name__ == "__main__":
    main()
