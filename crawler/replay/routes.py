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
_ID_ONLY_RE = re.compile(r"^/detail/0*(\d+)/?$", re.IGNORECASE)  # /Detail/<id>: no date, no slug
# Pages that depend on no story (robots, errors) carry the site's build instant.
_STATIC_TIME = END

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Route(NamedTuple):
    # home robots sitemap_index sitemap feed listing article id_only search not_found, and for
    # a host that is no longer the site's: seized redirect
    kind: str
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
    headers: tuple[tuple[str, str], ...] = ()  # more response headers, such as Location


def make_page(
    status: int,
    content_type: str,
    text: str,
    modified: dt.datetime,
    headers: tuple[tuple[str, str], ...] = (),
) -> Page:
    body = text.encode("utf-8")
    # A strong validator from the bytes themselves: equal bodies, equal ETags, on every build.
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return Page(status, content_type, body, modified, etag, headers)


def same_answer(one: Page, other: Page) -> bool:
    """The same response apart from Last-Modified."""
    return (one.status, one.content_type, one.body, one.headers) == (
        other.status,
        other.content_type,
        other.body,
        other.headers,
    )


def parse_route(path_and_query: str) -> Route:
    target = path_and_query.split("#", 1)[0]
    path, _, query = target.partition("?")
    path = path or "/"
    match = _ARTICLE_RE.match(path) or _ARTICLE_RE.match(unquote(path))
    if match:
        return Route("article", int(match.group(1)))
    if match := _ID_ONLY_RE.match(path):
        return Route("id_only", int(match.group(1)))
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
    """The page for a route on a host; what the host answers for whatever it does not have."""
    if route.kind == "seized":
        return _seized(site, host)
    if route.kind == "redirect":
        target = site.config.redirect_target or "/"
        return make_page(
            site.config.redirect_status,
            HTML,
            pages.render_moved(target),
            _STATIC_TIME,
            (("Location", target),),
        )
    if site.hosts.get(host) not in ("primary", "alternate"):
        return not_found()
    renderer = _RENDERERS.get(route.kind)
    if renderer is None:
        return site.missing(host)
    return renderer(site, host, route)


def _seized(site: ReplaySite, host: str) -> Page:
    seized_at, wording = site.seizure(host)
    if wording == "known":
        text = pages.render_seizure(host.removeprefix("www."))
    else:  # no marker of the profile's matches: only the same page on every path gives it away
        text = pages.render_parked(host.removeprefix("www."))
    return make_page(200, HTML, text, seized_at)


def _latest(stories: list[StoryTruth]) -> dt.datetime:
    return stories[0].published if stories else _STATIC_TIME


def _article(site: ReplaySite, host: str, route: Route) -> Page:
    story = site.story(route.number)
    if story is None or not site.serves(story, host):
        return _absent(site, host, story)
    view = site.view_for(story, host)
    if view is not site:  # written in an earlier phase and kept: that phase's page as it was
        return view.render(host, route)
    text = pages.render_article(site, story, host)
    return make_page(200, HTML, text, site.modified(story, host))


def _id_only(site: ReplaySite, host: str, route: Route) -> Page:
    """/Detail/<id> sends the reader to the story's full URL on the same host, as Press TV does."""
    if not site.config.id_redirects:
        return site.missing(host)
    story = site.story(route.number)
    if story is None or not site.serves(story, host):
        return _absent(site, host, story)
    target = site.link_url(story, host)
    return make_page(301, HTML, pages.render_moved(target), _STATIC_TIME, (("Location", target),))


def _absent(site: ReplaySite, host: str, story: StoryTruth | None) -> Page:
    """A story the host does not serve: taken down (404 or 410, as it was removed) or missing."""
    removal = site.removal(story, host) if story is not None else None
    if removal is None:
        return site.missing(host)
    if removal.page == "plain":
        return make_page(404, TEXT, "Not Found\n", removal.removed_at)
    if removal.page == "gone":
        return make_page(410, HTML, pages.render_gone(), removal.removed_at)
    return make_page(404, HTML, pages.render_not_found(), removal.removed_at)


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
        return site.missing(host)
    text = feeds.render_sitemap(site, host, route.month)
    return make_page(200, XML, text, months[route.month])


def _feed(site: ReplaySite, host: str, route: Route) -> Page:
    if route.number and route.number not in SECTION_BY_ID:
        return site.missing(host)
    listed = site.in_section(host, route.number) if route.number else site.newest(host)
    text = feeds.render_rss(site, host, route.number or None)
    return make_page(200, RSS, text, _latest(listed))


def _listing(site: ReplaySite, host: str, route: Route) -> Page:
    section_id = route.number
    if section_id not in SECTION_BY_ID or route.page > pages.listing_pages(site, host, section_id):
        return site.missing(host)
    text = pages.render_listing(site, host, section_id, route.page)
    return make_page(200, HTML, text, _latest(site.in_section(host, section_id)))


_RENDERERS: dict[str, Callable[[ReplaySite, str, Route], Page]] = {
    "article": _article,
    "id_only": _id_only,
    "home": _home,
    "robots": _robots,
    "search": _search,
    "sitemap_index": _sitemap_index,
    "sitemap": _sitemap,
    "feed": _feed,
    "listing": _listing,
}


def not_found() -> Page:
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
    headers = [*_entity_headers(page.content_type, len(page.body)), *validators, *page.headers]
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
