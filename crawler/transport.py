"""The download handler behind `--connect-to`: logical URLs above it, the origin on the wire."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.httpobj import urlparse_cached

from crawler.routing import parse_connect_to

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


IDLE_CONNECTIONS_FACTOR = 2


class ConnectToDownloadHandler(HTTP11DownloadHandler):
    """HTTP(S) download handler that connects logical hosts to their configured origins.

    Everything above the handler (middlewares, robots.txt, redirects, stats, items) sees only
    the logical URL; the request that leaves the machine goes to the origin with the logical
    `Host` header, like curl's --connect-to.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._routes = parse_connect_to(crawler.settings.getlist("NEWSMIRROR_CONNECT_TO"))
        # Scrapy keeps as many idle connections per host as it may use at once; a crawl that
        # finds its next pages while it reads its last ones has that many in use and as many
        # coming back idle in bursts, so it closed connections only to open new ones a moment
        # later (a TCP, and on real hosts a TLS, handshake each).
        self._pool.maxPersistentPerHost *= IDLE_CONNECTIONS_FACTOR

    async def download_request(self, request: Request) -> Response:
        route = self._routes.get((urlparse_cached(request).hostname or "").lower())
        if route is None:
            return await super().download_request(request)
        transport = request.replace(url=route.rewrite(request.url))
        transport.headers[b"Host"] = urlparse_cached(request).netloc.encode("ascii")
        response = await super().download_request(transport)
        return response.replace(url=request.url)
