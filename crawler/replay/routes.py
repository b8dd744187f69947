"""Request routing for the replay site: path to page, and page to an HTTP answer with validators."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qs, unquote

from crawler.replay import feeds, pages
from crawler.replay.model import END, SECTION_BY_ID, StoryTruth

if TYPE_CHECKING:
    from crawler.replay.site import ReplaySite

# Articles are routed by id alone: any slug or none, any case, a trailing slash, any query.
_ARTICLE_RE = re.compile(r"^/detail/\d{4}/\d{1,2}/\d{1,2}/0*(\d+)(?:/[^/]*)?/?$", re.IGNORECASE)
_LISTING_RE = re.compile(r"^/section/(\d+)(?:/(\d+))?/?$", re.IGNORECASE)
_FEED_RE = re.compile(r"^/rss(?:/rss-(\d+))?\.xml$", re.IGNORECASE)
_SITEMAP_RE = re.compile(r"^/sitemap-(\d{4}-\d{2})\.xml$", re.IGNORECASE)
# Pages that depend on no story (robots, errors) carry the site's build instant.
_STATIC_TIME = END
_SEIZED_AT = dt.datetime(2021, 6, 22, tzinfo=dt.UTC)

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Route(NamedTuple):
    kind: str  # home robots sitemap_index sitemap feed listing article search seized not_found
    number: int = 0  # story id or section id (0: the whole site's feed)
    page: int = 1
    month: str = ""


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
    modified: dt.datetime
    etag: str


def make_page(status: int, content_type: str, text: str, modified: dt.datetime) -> Page:
    body = text.encode("utf-8")
    # A strong validator from the bytes themselves: equal bodies, equal ETags, on every build.
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Page(status, content_type, body, modified, etag)


def parse_route(path_and_query: str, retired: bool = False) -> Route:
    if retired:
        return Route("seized")
    target = path_and_query.split("#", 1)[0]
    path, _, query = target.partition("?")
    path = path or "/"
    match = _ARTICLE_RE.match(path) or _ARTICLE_RE.match(unquote(path))
    if match:
        return Route("article", int(match.group(1)))
    if path == "/":
        return Route("home")
    if path.lower() == "/robots.txt":
        return Route("robots")
    if path.lower() == "/sitemap.xml":
        return Route("sitemap_index")
    if path.lower().startswith("/search"):
        return Route("search")
    if match := _SITEMAP_RE.match(path):
        return Route("sitemap", month=match.group(1))
    if match := _FEED_RE.match(path):
        return Route("feed", int(match.group(1) or 0))
    if match := _LISTING_RE.match(path):
        params = parse_qs(query)
        raw = match.group(2) or (params.get("page") or params.get("p") or ["1"])[0]
        if not raw.isdigit() or int(raw) < 1:
            return Route("not_found")
        return Route("listing", int(match.group(1)), page=int(raw))
    return Route("not_found")


def render(site: ReplaySite, host: str, route: Route) -> Page:
    """The page for a route on a host; 404 pages for whatever the host does not have."""
    if route.kind == "seized":
        return make_page(200, HTML, pages.render_seizure(), _SEIZED_AT)
    renderer = _RENDERERS.get(route.kind)
    if renderer is None or site.hosts.get(host) not in ("primary", "alternate"):
        return _not_found()
    return renderer(site, host, route)


def _latest(stories: list[StoryTruth]) -> dt.datetime:
    return stories[0].published if stories else _STATIC_TIME


def _article(site: ReplaySite, host: str, route: Route) -> Page:
    story = site.story(route.number)
    if story is None or host not in story.served_on:
        return _not_found()
    text = pages.render_article(site, story, host)
    return make_page(200, HTML, text, site.modified(story, host))


def _home(site: ReplaySite, host: str, route: Route) -> Page:
    return make_page(200, HTML, pages.render_home(site, host), _latest(site.newest(host)))


def _robots(site: ReplaySite, host: str, route: Route) -> Page:
    return make_page(200, TEXT, feeds.render_robots(host), _STATIC_TIME)


def _search(site: ReplaySite, host: str, route: Route) -> Page:
    return make_page(200, HTML, pages.render_search(), _STATIC_TIME)


def _sitemap_index(site: ReplaySite, host: str, route: Route) -> Page:
    text = feeds.render_sitemap_index(site, host)
    return make_page(200, XML, text, _latest(site.newest(host)))


def _sitemap(site: ReplaySite, host: str, route: Route) -> Page:
    months = feeds.sitemap_months(site, host)
    if route.month not in months:
        return _not_found()
    text = feeds.render_sitemap(site, host, route.month)
    return make_page(200, XML, text, months[route.month])


def _feed(site: ReplaySite, host: str, route: Route) -> Page:
    if route.number and route.number not in SECTION_BY_ID:
        return _not_found()
    listed = site.in_section(host, route.number) if route.number else site.newest(host)
    text = feeds.render_rss(site, host, route.number or None)
    return make_page(200, RSS, text, _latest(listed))


def _listing(site: ReplaySite, host: str, route: Route) -> Page:
    section_id = route.number
    if section_id not in SECTION_BY_ID or route.page > pages.listing_pages(site, host, section_id):
        return _not_found()
    text = pages.render_listing(site, host, section_id, route.page)
    return make_page(200, HTML, text, _latest(site.in_section(host, section_id)))


_RENDERERS: dict[str, Callable[[ReplaySite, str, Route], Page]] = {
    "article": _article,
    "home": _home,
    "robots": _robots,
    "search": _search,
    "sitemap_index": _sitemap_index,
    "sitemap": _sitemap,
    "feed": _feed,
    "listing": _listing,
}


def _not_found() -> Page:
    return make_page(404, HTML, pages.render_not_found(), _STATIC_TIME)


def answer(
    page: Page, method: str, request_headers: Mapping[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body; HEAD gets no body, a matching validator gets 304."""
    method = method.upper()
    if method not in ("GET", "HEAD"):
        body = pages.render_method_not_allowed().encode("utf-8")
        return 405, [("Allow", "GET, HEAD"), *_entity_headers(HTML, len(body))], body
    validators = [
        ("ETag", page.etag),
        ("Last-Modified", format_datetime(page.modified.astimezone(dt.UTC), usegmt=True)),
    ]
    if page.status == 200 and _not_modified(page, request_headers):
        return 304, validators, b""
    headers = [*_entity_headers(page.content_type, len(page.body)), *validators]
    return page.status, headers, b"" if method == "HEAD" else page.body


def _entity_headers(content_type: str, length: int) -> list[tuple[str, str]]:
    return [("Content-Type", content_type), ("Content-Length", str(length))]


def _not_modified(page: Page, request_headers: Mapping[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in request_headers.items()}
    if "if-none-match" in lowered:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = [t.strip().removeprefix("W/") for t in lowered["if-none-match"].split(",")]
        return "*" in tags or page.etag in tags
    since = lowered.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return page.modified.replace(microsecond=0) <= when
