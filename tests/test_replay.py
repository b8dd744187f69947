"""The offline replay site: what each host serves over loopback HTTP, and its ground truth."""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from email.message import Message
from email.utils import parsedate_to_datetime

import pytest
from lxml import etree
from parsel import Selector

from crawler.profiles import load_profile
from crawler.replay import ReplayConfig, ReplayServer, ReplaySite, StoryTruth, build_site, serve
from crawler.replay.model import END, TEHRAN
from crawler.urls import article_ref, canonical_url, story_key

PROFILE = load_profile("presstv")
PRIMARY, MIRROR, LAGGING, RETIRED = (
    "www.presstv.ir",
    "www.presstv.co.uk",
    "www.presstv.tv",
    "www.presstv.com",
)
LIVE = (PRIMARY, MIRROR, LAGGING)
SEIZED = "has been seized by the United States Government"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


@pytest.fixture(scope="module")
def site() -> ReplaySite:
    return build_site()


@pytest.fixture(scope="module")
def server(site: ReplaySite) -> Iterator[ReplayServer]:
    with serve(site) as running:
        yield running


def fetch(
    server: ReplayServer,
    host: str,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
) -> tuple[int, Message, bytes]:
    """One request the way --connect-to sends it: the host's port, the logical Host header."""
    request = urllib.request.Request(
        server.origins[host] + path, headers={"Host": host, **(headers or {})}, method=method
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def html_of(body: bytes) -> Selector:
    return Selector(text=body.decode("utf-8"))


def parse_xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(body, parser)


def texts(root: etree._Element, expression: str) -> list[str]:
    """Strings an XPath finds, sitemap namespace bound to `s`."""
    found = root.xpath(expression, namespaces=NS)
    assert isinstance(found, list)
    return [str(item) for item in found]


def linked_ids(body: bytes) -> set[int]:
    return {int(m) for m in re.findall(rb"/detail/\d+/\d+/\d+/(\d+)", body, re.IGNORECASE)}


def busiest_section(site: ReplaySite, host: str) -> int:
    top = [int(path.rsplit("/", 1)[1]) for path in PROFILE.discovery.sections]
    return max(top, key=lambda section_id: len(site.in_section(host, section_id)))


# --- every live host -----------------------------------------------------------------------


@pytest.mark.parametrize("host", LIVE)
def test_live_host_serves_home_robots_sitemaps_and_feeds(
    server: ReplayServer, site: ReplaySite, host: str
) -> None:
    status, headers, body = fetch(server, host, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(headers["Content-Length"]) == len(body)
    home = html_of(body)
    assert home.css('link[rel=alternate][type="application/rss+xml"]::attr(href)').get() == (
        "/rss.xml"
    )
    menu = home.css("nav.main-menu a::attr(href)").getall()
    assert menu == list(PROFILE.discovery.sections)
    newest = site.newest(host)[:20]
    assert {s.id for s in newest} <= linked_ids(body)

    status, headers, body = fetch(server, host, "/robots.txt")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert f"Sitemap: https://{host}/sitemap.xml" in body.decode()
    assert "Disallow: /search" in body.decode()

    status, headers, body = fetch(server, host, "/sitemap.xml")
    assert status == 200
    index = parse_xml(body)
    assert etree.QName(index).localname == "sitemapindex"
    monthly = texts(index, "//s:sitemap/s:loc/text()")
    assert monthly == [f"https://{host}/sitemap-2026-11.xml", f"https://{host}/sitemap-2026-10.xml"]
    listed: set[int] = set()
    for loc in monthly:
        status, _, body = fetch(server, host, loc.removeprefix(f"https://{host}"))
        assert status == 200
        urlset = parse_xml(body)
        locs = texts(urlset, "//s:url/s:loc/text()")
        assert all(loc.startswith(f"https://{host}/") for loc in locs)
        assert len(texts(urlset, "//s:url/s:lastmod/text()")) == len(locs)
        listed |= linked_ids(body)
    assert listed == {s.id for s in site.newest(host)}

    for feed in PROFILE.discovery.feeds:
        status, headers, body = fetch(server, host, feed)
        assert status == 200, feed
        assert headers["Content-Type"] == "application/rss+xml; charset=utf-8"
        channel = parse_xml(body).find("channel")
        assert channel is not None
        items = channel.findall("item")
        assert 0 < len(items) <= 30


@pytest.mark.parametrize("host", LIVE)
def test_section_listing_paginates_ten_stories_a_page(
    server: ReplayServer, site: ReplaySite, host: str
) -> None:
    section_id = busiest_section(site, host)
    stories = site.in_section(host, section_id)
    assert len(stories) > 10

    status, _, body = fetch(server, host, f"/Section/{section_id}")
    assert status == 200
    first = html_of(body)
    assert len(first.css("ul.news-list li.news-item")) == 10
    assert first.css('link[rel="next"]::attr(href)').get() == f"/Section/{section_id}?page=2"
    assert f"/Section/{section_id}?page=2" in first.css(".pagination a::attr(href)").getall()

    status, _, body = fetch(server, host, f"/Section/{section_id}?page=2")
    assert status == 200
    second = html_of(body)
    assert second.css('link[rel="prev"]::attr(href)').get() == f"/Section/{section_id}"
    assert len(second.css("ul.news-list li.news-item")) == min(10, len(stories) - 10)
    assert {s.id for s in stories[10:20]} <= linked_ids(body)
    crumbs = second.css(".breadcrumb a::text").getall()
    assert crumbs[0] == "News"

    last = -(-len(stories) // 10)
    assert fetch(server, host, f"/Section/{section_id}?page={last + 1}")[0] == 404


def test_sub_section_gives_breadcrumbs_two_levels_below_home(
    server: ReplayServer, site: ReplaySite
) -> None:
    story = next(s for s in site.stories if " / " in s.section and s.layout == "standard")
    status, _, body = fetch(server, PRIMARY, story.path)
    assert status == 200
    crumbs = html_of(body).css(".breadcrumb a::text").getall()
    assert crumbs == ["News", *story.section.split(" / ")]
    sub_href = html_of(body).css(".breadcrumb a::attr(href)").getall()[-1]
    assert fetch(server, PRIMARY, sub_href)[0] == 200


# --- articles ------------------------------------------------------------------------------


def _spellings(story: StoryTruth) -> list[str]:
    date = story.published
    tail = f"{date.year}/{date.month:02d}/{date.day:02d}/{story.id}"
    return [
        story.path,
        f"/Detail/{tail}/Another-slug-entirely",
        f"/Detail/{tail}",
        f"/Detail/{tail}/",
        f"{story.path}/",
        f"/detail/{date.year}/{date.month}/{date.day}/{story.id}/{story.slug.lower()}",
        f"/DETAIL/{tail}/{story.slug[:12]}-",
        f"/Detail/{tail}/%E2%80%98{story.slug}%E2%80%99",
        f"{story.path}?utm_source=twitter&utm_medium=social",
        f"{story.path}?fbclid=IwAR0abc",
        f"/Detail/1999/01/01/{story.id}/wrong-date-in-path",
    ]


@pytest.mark.parametrize("index", range(11))
def test_article_answers_under_any_slug_case_slash_and_query(
    server: ReplayServer, site: ReplaySite, index: int
) -> None:
    story = site.stories[20]
    path = _spellings(story)[index]
    status, _, body = fetch(server, PRIMARY, path)
    assert status == 200, path
    page = html_of(body)
    assert page.css("article.news-detail::attr(data-news-id)").get() == str(story.id)
    assert page.css("h1.news-title::text").get() == story.title
    assert story_key(f"https://{PRIMARY}{path}", PROFILE) == story.key


def test_unknown_story_and_unknown_paths_are_404_pages(
    server: ReplayServer, site: ReplaySite
) -> None:
    last = site.stories[-1]
    for path in (
        f"/Detail/2026/11/19/{last.id + 1}/Not-yet-written",
        "/Detail/2026/10/01/1/x",
        "/no/such/page",
        "/Section/99999",
        "/Section/10101?page=abc",
        "/rss/rss-4242.xml",
        "/sitemap-2019-01.xml",
        f"{last.path}/extra/segment",
    ):
        status, headers, body = fetch(server, PRIMARY, path)
        assert status == 404, path
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Page not found" in body.decode()


def test_standard_page_carries_the_truth_where_the_profile_looks(
    server: ReplayServer, site: ReplaySite
) -> None:
    for story in site.stories:
        if story.layout != "standard" or not story.dated_by_meta:
            continue
        _, _, body = fetch(server, PRIMARY, story.path)
        page = html_of(body)
        assert page.css("h1.news-title::text").get() == story.title
        paragraphs = [
            "".join(p.css("::text").getall())
            for p in page.css(".news-body > p")
            if "".join(p.css("::text").getall()).strip()
        ]
        assert "\n\n".join(paragraphs) == story.body
        assert page.css("meta[property='article:published_time']::attr(content)").get() == (
            story.published_at
        )
        assert page.css("meta[name=description]::attr(content)").get() == story.lead
        assert page.css("meta[property='og:image']::attr(content)").get() == story.image_url
        assert page.css("figure.news-image figcaption::text").get() == story.image_caption
        assert page.css(".news-tags a::text").getall() == list(story.tags)
        assert page.css(".alt-addresses a::attr(href)").getall() == [f"https://{h}" for h in LIVE]
        assert page.css("p::text").re(r"can also be accessed at the following alternate")
        data = json.loads(page.css('script[type="application/ld+json"]::text').get(""))
        assert data["@type"] == "NewsArticle"
        assert data["datePublished"] == story.published_at
        assert "articleBody" not in data
        assert [a["name"] for a in data.get("author", [])] == list(story.authors)


def test_related_links_mix_relative_cross_host_tracking_and_fragments(
    server: ReplayServer, site: ReplaySite
) -> None:
    hrefs = []
    for story in site.stories[10:30]:
        _, _, body = fetch(server, PRIMARY, story.path)
        hrefs += html_of(body).css("aside.related a::attr(href)").getall()
    assert any(h.startswith("/Detail/") and "?" not in h and "#" not in h for h in hrefs)
    assert any(h.startswith(f"https://{MIRROR}/") for h in hrefs)
    assert any(h.startswith(f"https://{LAGGING}/") for h in hrefs)
    assert any("utm_source=" in h for h in hrefs)
    assert any(h.endswith("#comments") for h in hrefs)
    assert all(story_key(f"https://{PRIMARY}{h}" if h[0] == "/" else h, PROFILE) for h in hrefs)


def test_drifted_pages_miss_the_profile_selectors_but_carry_jsonld_body(
    server: ReplayServer, site: ReplaySite
) -> None:
    drifted = [s for s in site.stories if s.layout == "drifted"]
    assert drifted
    for story in drifted:
        _, _, body = fetch(server, PRIMARY, story.path)
        page = html_of(body)
        for selector in (*PROFILE.selectors.body, *PROFILE.selectors.title):
            assert not page.css(selector), selector
        data = json.loads(page.css('script[type="application/ld+json"]::text').get(""))
        assert data["articleBody"] == story.body
        assert data["headline"] == story.title


def test_plain_pages_have_neither_profile_markup_nor_jsonld(
    server: ReplayServer, site: ReplaySite
) -> None:
    plain = [s for s in site.stories if s.layout == "plain"]
    assert 1 <= len(plain) <= 2
    for story in plain:
        _, _, body = fetch(server, PRIMARY, story.path)
        page = html_of(body)
        for selector in PROFILE.selectors.body:
            assert not page.css(selector), selector
        assert not page.css('script[type="application/ld+json"]')
        texts = ["".join(p.css("::text").getall()) for p in page.css("article > p")]
        notice = next(i for i, t in enumerate(texts) if t.startswith("Press TV’s website"))
        assert "\n\n".join(texts[:notice]) == story.body
        assert page.css("article h1::text").get() == story.title


def test_undated_pages_show_only_the_visible_date_without_offset(
    server: ReplayServer, site: ReplaySite
) -> None:
    undated = [s for s in site.stories if not s.dated_by_meta]
    assert len(undated) == 5
    for story in undated:
        _, _, body = fetch(server, PRIMARY, story.path)
        page = html_of(body)
        assert not page.css("meta[property='article:published_time']")
        assert "datePublished" not in body.decode()
        shown = (page.css(".news-date::text, .story-time::text, time::text").get() or "").strip()
        visible = dt.datetime.strptime(shown.split("  [")[0], PROFILE.selectors.date_formats[0])
        assert visible.replace(tzinfo=TEHRAN).isoformat() == story.published_at


# --- mirrors -------------------------------------------------------------------------------


def test_mirror_serves_edited_text_for_edited_stories(
    server: ReplayServer, site: ReplaySite
) -> None:
    edited = [s for s in site.stories if MIRROR in s.edited_on]
    assert len(edited) == 8
    changes = Counter(s.edited_on[MIRROR].change for s in edited)
    assert set(changes) == {"added paragraph", "changed paragraph", "changed title and paragraph"}
    for story in edited:
        version = story.edited_on[MIRROR]
        assert version.body != story.body
        _, _, primary_body = fetch(server, PRIMARY, story.path)
        _, _, mirror_body = fetch(server, MIRROR, story.path)
        _, _, lagging_body = fetch(server, LAGGING, story.path)
        mirror = html_of(mirror_body)
        primary = html_of(primary_body)
        assert mirror.css("meta[property='og:title']::attr(content)").get() == version.title
        assert primary.css("meta[property='og:title']::attr(content)").get() == story.title
        text = mirror.xpath("string(//body)").get("")
        for paragraph in version.paragraphs:
            assert paragraph in text
        assert lagging_body.replace(LAGGING.encode(), b"") != mirror_body.replace(
            MIRROR.encode(), b""
        )
        if story.layout == "standard" and story.dated_by_meta:
            modified = mirror.css("meta[property='article:modified_time']::attr(content)").get()
            assert modified == version.modified_at


def test_mirror_links_some_stories_under_other_slugs(
    server: ReplayServer, site: ReplaySite
) -> None:
    alt = [s for s in site.stories if MIRROR in s.alt_slug_on]
    assert len(alt) == 12
    paths = [s.alt_slug_on[MIRROR] for s in alt]
    assert any(p.endswith("-") for p in paths)
    assert any("%" in p for p in paths)
    assert any(p.startswith("/detail/") for p in paths)
    assert any(p.endswith("/") for p in paths)
    _, _, sitemap = fetch(server, MIRROR, "/sitemap-2026-11.xml")
    _, _, primary_sitemap = fetch(server, PRIMARY, "/sitemap-2026-11.xml")
    for story, path in zip(alt, paths, strict=True):
        assert path != story.path
        assert story_key(f"https://{MIRROR}{path}", PROFILE) == story.key
        assert fetch(server, MIRROR, path)[0] == 200
        if story.published_at.startswith("2026-11"):
            assert f"https://{MIRROR}{path}".encode() in sitemap
            assert story.path.encode() in primary_sitemap
            assert f"<loc>https://{MIRROR}{story.path}</loc>".encode() not in sitemap


def test_mirror_feed_links_items_to_the_primary(server: ReplayServer, site: ReplaySite) -> None:
    for feed in ("/rss.xml", "/rss/rss-10101.xml"):
        _, _, body = fetch(server, MIRROR, feed)
        links = texts(parse_xml(body), "//item/link/text()")
        assert links
        assert all(link.startswith(f"https://{PRIMARY}/") for link in links)
        assert all(story_key(link, PROFILE) for link in links)
    _, _, body = fetch(server, PRIMARY, "/rss.xml")
    items = parse_xml(body).findall("channel/item")
    assert any(item.find("pubDate") is None for item in items)
    assert any(item.find("pubDate") is not None for item in items)


def test_lagging_host_lacks_the_newest_stories(server: ReplayServer, site: ReplaySite) -> None:
    newest = site.stories[-5:]
    assert all(LAGGING not in s.served_on for s in newest)
    assert all(LAGGING in s.served_on for s in site.stories[:-5])
    missing = {s.id for s in newest}
    for story in newest:
        status, _, body = fetch(server, LAGGING, story.path)
        assert status == 404
        assert b"Page not found" in body
        assert fetch(server, PRIMARY, story.path)[0] == 200
    for path in ("/", "/rss.xml", "/sitemap-2026-11.xml", *PROFILE.discovery.feeds):
        _, _, body = fetch(server, LAGGING, path)
        assert not linked_ids(body) & missing, path
    assert fetch(server, LAGGING, site.stories[-6].path)[0] == 200


@pytest.mark.parametrize(
    "path", ["/", "/robots.txt", "/sitemap.xml", "/rss.xml", "/Detail/2021/06/01/1/x", "/zz?q=1"]
)
def test_retired_host_answers_the_seizure_notice_on_every_path(
    server: ReplayServer, path: str
) -> None:
    status, headers, body = fetch(server, RETIRED, path)
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    text = body.decode()
    assert f"The domain presstv.com {SEIZED}" in text
    assert any(marker in text for marker in PROFILE.markers.seizure)


# --- HTTP behaviour ------------------------------------------------------------------------


def test_conditional_requests_get_304_and_head_gets_no_body(
    server: ReplayServer, site: ReplaySite
) -> None:
    path = site.stories[3].path
    status, headers, body = fetch(server, PRIMARY, path)
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"')
    assert parsedate_to_datetime(last_modified) == site.stories[3].published.replace(microsecond=0)
    assert fetch(server, PRIMARY, path, {"If-None-Match": etag})[:1] == (304,)
    assert fetch(server, PRIMARY, path, {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(server, PRIMARY, path, {"If-None-Match": '"other"'})[0] == 200
    status, head_headers, head_body = fetch(server, PRIMARY, path, method="HEAD")
    assert status == 200
    assert head_body == b""
    assert int(head_headers["Content-Length"]) == len(body)
    assert head_headers["ETag"] == etag


def test_keep_alive_serves_many_requests_on_one_connection(
    server: ReplayServer, site: ReplaySite
) -> None:
    address, port = server.addresses[PRIMARY]
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.connect()
        first_socket = connection.sock
        for story in site.stories[:20]:
            connection.request("GET", story.path, headers={"Host": PRIMARY})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") != "close"
            response.read()
        assert connection.sock is first_socket
    finally:
        connection.close()


def test_host_header_picks_the_host_and_an_address_means_this_server(
    server: ReplayServer, site: ReplaySite
) -> None:
    story = next(s for s in site.stories if MIRROR in s.edited_on)
    title = story.edited_on[MIRROR].title
    # The primary's port, asked for the mirror by name: the name wins.
    address, port = server.addresses[PRIMARY]
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.request("GET", story.path, headers={"Host": MIRROR})
        assert title.encode() in connection.getresponse().read()
        connection.request("GET", story.path, headers={"Host": f"{address}:{port}"})
        assert story.title.encode() in connection.getresponse().read()
    finally:
        connection.close()


def test_servers_listen_on_loopback_only(server: ReplayServer) -> None:
    assert set(server.addresses) == {PRIMARY, MIRROR, LAGGING, RETIRED}
    for address, port in server.addresses.values():
        assert address == "127.0.0.1"
        assert port > 0
    assert server.connect_to() == [f"{h}={o}" for h, o in server.origins.items()]
    assert all(o.startswith("http://127.0.0.1:") for o in server.origins.values())


def test_stop_closes_listening_sockets_and_open_connections() -> None:
    running = serve(build_site(ReplayConfig(stories=12, lag=2)))
    address, port = running.addresses[PRIMARY]
    idle = socket.create_connection((address, port), timeout=5)
    try:
        idle.sendall(f"GET / HTTP/1.1\r\nHost: {PRIMARY}\r\n\r\n".encode())
        assert idle.recv(12) == b"HTTP/1.1 200"
        started = time.perf_counter()
        running.stop()
        running.stop()  # idempotent
        assert time.perf_counter() - started < 5
        idle.settimeout(5)
        while idle.recv(65536):  # the rest of the page, then end of stream
            pass
    finally:
        idle.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, port), timeout=2).close()


def test_requests_are_recorded_for_assertions(site: ReplaySite) -> None:
    with serve(site) as running:
        fetch(running, MIRROR, "/rss.xml?utm_source=x")
        fetch(running, LAGGING, "/nope", method="HEAD")
    assert [(h.host, h.method, h.path, h.status) for h in running.requests] == [
        (MIRROR, "GET", "/rss.xml?utm_source=x", 200),
        (LAGGING, "HEAD", "/nope", 404),
    ]


# --- determinism, scale, well-formedness -----------------------------------------------------


def _sample_paths(site: ReplaySite) -> list[str]:
    stories = site.stories
    return [
        "/",
        "/robots.txt",
        "/sitemap.xml",
        "/sitemap-2026-10.xml",
        "/sitemap-2026-11.xml",
        *PROFILE.discovery.feeds,
        *PROFILE.discovery.sections,
        "/Section/1010501",
        "/Section/10101?page=2",
        "/search",
        "/missing",
        *(s.path for s in stories),
        *(p for s in stories for p in s.alt_slug_on.values()),
    ]


def test_two_builds_give_byte_identical_responses(site: ReplaySite) -> None:
    again = build_site(ReplayConfig())
    for host in (*LIVE, RETIRED):
        for path in _sample_paths(site):
            assert site.respond(host, path) == again.respond(host, path), (host, path)
    assert [s.body for s in site.stories] == [s.body for s in again.stories]


def test_responses_do_not_depend_on_the_port(server: ReplayServer, site: ReplaySite) -> None:
    with serve(build_site()) as other:
        for path in ("/", site.stories[7].path, "/rss.xml", "/sitemap-2026-11.xml"):
            assert fetch(server, MIRROR, path)[2] == fetch(other, MIRROR, path)[2]


def test_another_seed_gives_another_site() -> None:
    assert build_site(ReplayConfig(seed=1)).stories[0].body != build_site().stories[0].body


@pytest.mark.parametrize("host", LIVE)
def test_every_page_parses_with_lxml(site: ReplaySite, host: str) -> None:
    for path in _sample_paths(site):
        _, headers, body = site.respond(host, path)
        content_type = dict(headers)["Content-Type"]
        if content_type.startswith("text/html"):
            parser = etree.HTMLParser()
            root = etree.fromstring(body, parser)
            assert root.tag == "html", path
            assert root.find("head/title") is not None, path
            assert not [e for e in parser.error_log if e.level_name == "FATAL"], path
        elif "xml" in content_type:
            parse_xml(body)  # raises when not well-formed
        assert body.decode("utf-8")


def test_ground_truth_matches_the_profile(site: ReplaySite) -> None:
    assert {h: PROFILE.role_of(h) for h in site.hosts} == site.hosts
    ids = [s.id for s in site.stories]
    assert ids == list(range(780001, 780061))
    for story in site.stories:
        url = f"https://{PRIMARY}{story.path}"
        assert article_ref(url, PROFILE) is not None
        assert story_key(url, PROFILE) == story.key
        assert canonical_url(url, PROFILE) == story.canonical_url
        published = story.published
        assert published.utcoffset() == dt.timedelta(hours=3, minutes=30)
        assert END - dt.timedelta(days=21) <= published < END
        assert story.body.split("\n\n")[0] == story.lead
        assert all(p.strip() == p and p for p in story.paragraphs)
    assert [s.published for s in site.stories] == sorted(s.published for s in site.stories)
    counts = Counter(s.layout for s in site.stories)
    assert counts == {"standard": 56, "drifted": 2, "plain": 2}


def test_stories_are_never_near_duplicates(site: ReplaySite) -> None:
    def shingles(text: str) -> set[tuple[str, ...]]:
        words = text.lower().split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    sets = [shingles(s.body) for s in site.stories]
    worst = max(len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2))
    assert worst < 0.2
    assert len({s.title for s in site.stories}) == len(site.stories)
    for story in site.stories:
        for version in story.edited_on.values():  # an edit is the same story, changed
            edited = shingles(version.body)
            assert len(edited & shingles(story.body)) / len(edited | shingles(story.body)) > 0.5


def test_large_site_builds_quickly_and_renders_on_demand() -> None:
    started = time.process_time()  # CPU time: other processes on the box do not count
    big = build_site(ReplayConfig(stories=5000))
    assert time.process_time() - started < 2.0
    assert len(big.stories) == 5000
    started = time.perf_counter()
    for story in big.stories[::50]:
        for host in LIVE:
            assert big.respond(host, story.path)[0] in (200, 404)
    assert time.perf_counter() - started < 5.0
    assert big.respond(PRIMARY, "/Section/10101?page=30")[0] == 200


def test_config_rejects_nonsense() -> None:
    for bad in ({"stories": 0}, {"lag": 60}, {"edit_every": -1}, {"days": 0}):
        with pytest.raises(ValueError, match="must"):
            ReplayConfig(**bad)


def test_module_prints_connect_to_and_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.replay", "--stories", "8", "--lag", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        pairs = dict(value.split("=", 1) for value in line[1::2])
        assert line[0::2] == ["--connect-to"] * 4
        assert set(pairs) == {PRIMARY, MIRROR, LAGGING, RETIRED}
        request = urllib.request.Request(pairs[PRIMARY] + "/robots.txt", headers={"Host": PRIMARY})
        with _OPENER.open(request, timeout=10) as response:
            assert b"Sitemap: https://www.presstv.ir/sitemap.xml" in response.read()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
