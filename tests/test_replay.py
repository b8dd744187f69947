"""The offline replay site: what each host serves over loopback HTTP, and its ground truth."""

from __future__ import annotations

import datetime as dt
import hashlib
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
from typing import Any

import pytest
from lxml import etree
from parsel import Selector

from crawler.profiles import load_profile
from crawler.replay import ReplayConfig, ReplayServer, ReplaySite, StoryTruth, build_site, serve
from crawler.replay.model import CDN_HOST, END, NEWS_HOST, PHASE_NOW, SECTIONS, TEHRAN
from crawler.replay.pages import listing_pages, visible_date
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
MARKERS = [m.lower() for m in (*PROFILE.markers.seizure, *PROFILE.markers.parking)]
MARKERS += [m.lower() for m in PROFILE.markers.soft_404]
RECENT = PHASE_NOW[2] - dt.timedelta(days=7)
# sha256 over _sample_paths() on each host, recorded from the replay site as it was before it
# had phases and troublesome hosts: phase 1 of the default config must not change by a byte.
PHASE_ONE_SHA256 = {
    PRIMARY: "4d8f216f78f08f0cd49db5c21d9e2bf50db08eaf5fc5281c46cc20c84bb08350",
    MIRROR: "7ec51d64828bc12bd128d1142d791245d5078faae010d6a1ec11697214948993",
    LAGGING: "6efe4039d0ad125d0544a1733492d7d343cdbf56aec9b931dc92f3c886181285",
    RETIRED: "1f183cee248e3fbbccb902e213af9e5a546e8a48941876ad060643c6e0210fa2",
}


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    """Hand 3xx answers back as they are: the test looks at them, and never leaves loopback."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepRedirects())


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


def shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def jaccard(one: str, other: str) -> float:
    a, b = shingles(one), shingles(other)
    return len(a & b) / len(a | b)


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
        _, headers, _ = fetch(running, PRIMARY, "/")
        fetch(running, PRIMARY, "/", {"If-None-Match": headers["ETag"]})
    assert [(h.host, h.method, h.path, h.status) for h in running.requests] == [
        (MIRROR, "GET", "/rss.xml?utm_source=x", 200),
        (LAGGING, "HEAD", "/nope", 404),
        (PRIMARY, "GET", "/", 200),
        (PRIMARY, "GET", "/", 304),
    ]
    assert [hit.not_modified for hit in running.requests] == [False, False, False, True]
    running.clear_requests()
    assert running.requests == []


# --- phases: the site a day and two days later ---------------------------------------------


@pytest.fixture(scope="module")
def phase2() -> ReplaySite:
    return build_site(ReplayConfig(phase=2))


@pytest.fixture(scope="module")
def phase2_server(phase2: ReplaySite) -> Iterator[ReplayServer]:
    with serve(phase2) as running:
        yield running


@pytest.fixture(scope="module")
def phase3() -> ReplaySite:
    return build_site(ReplayConfig(phase=3))


def story_of(site: ReplaySite, story_id: int) -> StoryTruth:
    story = site.story(story_id)
    assert story is not None, story_id
    return story


def heading(body: bytes) -> str | None:
    """The story's headline in any of the three layouts."""
    return html_of(body).css("h1::text").get()


def body_text(body: bytes) -> str:
    page = html_of(body)
    texts = ("".join(p.css("::text").getall()) for p in page.css(".news-body > p"))
    return "\n\n".join(t for t in texts if t.strip())


def test_phase_two_publishes_the_next_ids_on_the_hosts_still_live(
    server: ReplayServer, site: ReplaySite, phase2_server: ReplayServer, phase2: ReplaySite
) -> None:
    truth = phase2.truth
    assert truth.new_ids == tuple(range(780061, 780071))
    for story in [story_of(phase2, i) for i in truth.new_ids]:
        assert story.phase == 2
        assert site.stories[-1].published < story.published < PHASE_NOW[2]
        assert truth.hosts_of(story.id) == (PRIMARY, MIRROR, NEWS_HOST, CDN_HOST)
        for host in (PRIMARY, MIRROR):
            status, _, body = fetch(phase2_server, host, phase2.link_path(story, host))
            assert status == 200
            shown = truth.text_on(story.id, host)
            assert shown is not None
            assert heading(body) == shown.title
        assert fetch(phase2_server, LAGGING, story.path)[0] == 200  # the seizure notice
        assert fetch(server, PRIMARY, story.path)[0] == 404  # not yet, in phase 1
    for host in (PRIMARY, MIRROR):
        _, _, home = fetch(phase2_server, host, "/")
        assert set(truth.new_ids) <= linked_ids(home)
        _, _, sitemap = fetch(phase2_server, host, "/sitemap-2026-11.xml")
        assert set(truth.new_ids) <= linked_ids(sitemap)


def test_phase_two_edits_recent_stories_on_the_primary_and_one_mirror_follows(
    server: ReplayServer, phase2_server: ReplayServer, phase2: ReplaySite
) -> None:
    edited = phase2.truth.edited
    assert len(edited) == 3
    followed = [i for i, revision in edited.items() if MIRROR in revision.edited_on]
    stale = [i for i, revision in edited.items() if MIRROR in revision.stale_on]
    assert len(followed) == 1
    assert len(stale) == 2
    changes = set()
    for story_id, revision in edited.items():
        story = story_of(phase2, story_id)
        text = revision.text
        changes.add(text.change)
        modified = dt.datetime.fromisoformat(text.modified_at)
        assert RECENT <= story.published < END < modified < PHASE_NOW[2]
        assert text.body != story.body
        assert revision.edited_on[0] == PRIMARY
        _, headers, body = fetch(phase2_server, PRIMARY, story.path)
        page = html_of(body)
        assert page.css("h1.news-title::text").get() == text.title
        assert body_text(body) == text.body
        assert page.css("meta[property='article:modified_time']::attr(content)").get() == (
            text.modified_at
        )
        assert f"Last Update: {visible_date(modified)}" in page.css(".news-date::text").get("")
        assert parsedate_to_datetime(headers["Last-Modified"]) == modified
        _, _, mirror = fetch(phase2_server, MIRROR, story.path)
        _, _, mirror_before = fetch(server, MIRROR, story.path)
        if story_id in followed:  # edited everywhere
            assert body_text(mirror) == text.body
            assert heading(mirror) == text.title
        else:  # the mirror diverges: the text from before, byte for byte
            assert mirror == mirror_before
            assert body_text(mirror) == story.body
            shown = phase2.truth.text_on(story_id, MIRROR)
            assert shown is not None
            assert shown.body == story.body
    assert changes == {"changed paragraph", "changed title and paragraph"}


def test_phase_two_removes_stories_from_the_primary_while_the_mirror_keeps_them(
    phase2_server: ReplayServer, phase2: ReplaySite
) -> None:
    removed = phase2.truth.removed
    pages = {(r.status, r.page) for r in removed.values()}
    assert pages == {(404, "plain"), (410, "gone"), (404, "error page")}
    recent = sorted(story_of(phase2, i).published >= RECENT for i in removed)
    assert recent == [False, True, True]
    for story_id, removal in removed.items():
        story = story_of(phase2, story_id)
        assert removal.removed_from == (PRIMARY, NEWS_HOST, CDN_HOST)
        assert removal.still_on == (MIRROR,)
        assert phase2.truth.hosts_of(story_id) == (MIRROR,)
        answers = [fetch(phase2_server, host, story.path) for host in removal.removed_from]
        assert {(status, body) for status, _, body in answers} == {
            (removal.status, answers[0][2])
        }  # the candidate hosts proxy the primary
        _, headers, body = answers[0]
        if removal.page == "plain":
            assert headers["Content-Type"] == "text/plain; charset=utf-8"
            assert body == b"Not Found\n"
        elif removal.page == "error page":
            assert heading(body) == "Page not found"
        else:
            assert headers["Content-Type"] == "text/html; charset=utf-8"
        status, _, body = fetch(phase2_server, MIRROR, story.path)
        assert status == 200
        assert body_text(body) == story.body
    for path in ("/", "/rss.xml", "/sitemap-2026-11.xml", *PROFILE.discovery.feeds):
        assert not linked_ids(fetch(phase2_server, PRIMARY, path)[2]) & set(removed), path
    assert set(removed) <= linked_ids(fetch(phase2_server, MIRROR, "/sitemap-2026-11.xml")[2])


def test_phase_two_seizes_the_tv_mirror_with_the_notice_the_markers_know(
    phase2_server: ReplayServer, phase2: ReplaySite
) -> None:
    paths = ("/", "/robots.txt", "/rss.xml", "/Section/10101", phase2.stories[3].path, "/zz?q=1")
    answers = [fetch(phase2_server, LAGGING, path) for path in paths]
    assert {status for status, _, _ in answers} == {200}
    assert len({body for _, _, body in answers}) == 1
    text = answers[0][2].decode()
    assert f"The domain presstv.tv {SEIZED}" in text
    assert any(marker in text.lower() for marker in MARKERS)
    assert phase2.truth.seized == {RETIRED: "known", LAGGING: "known"}
    assert phase2.truth.states[LAGGING] == "seized"
    assert not phase2.truth.ids_on(LAGGING)


def test_phase_three_parks_the_co_uk_mirror_behind_wording_no_marker_knows(
    phase3: ReplaySite,
) -> None:
    truth = phase3.truth
    with serve(phase3) as running:
        paths = ["/", "/robots.txt", "/sitemap.xml", "/Section/10101?page=2", "/rss.xml", "/x/y"]
        paths += [s.path for s in phase3.stories[::7]]
        answers = [fetch(running, MIRROR, path) for path in paths]
        assert {status for status, _, _ in answers} == {200}
        assert len({body for _, _, body in answers}) == 1  # only this gives it away
        lowered = answers[0][2].decode().lower()
        assert [m for m in MARKERS if m in lowered] == []
        assert truth.seized == {RETIRED: "known", LAGGING: "known", MIRROR: "unknown"}
        assert not truth.ids_on(MIRROR)
        # The primary goes on publishing, alone.
        assert truth.new_ids == tuple(range(780071, 780076))
        _, _, home = fetch(running, PRIMARY, "/")
        for story_id in truth.new_ids:
            story = story_of(phase3, story_id)
            assert PHASE_NOW[2] < story.published < PHASE_NOW[3]
            assert truth.hosts_of(story_id) == (PRIMARY, NEWS_HOST, CDN_HOST)
            assert fetch(running, PRIMARY, story.path)[0] == 200
            assert story_id in linked_ids(home)


def _revalidate(
    running: ReplayServer, before: dict[tuple[str, str], tuple[int, Message, bytes]]
) -> dict[tuple[str, str], str]:
    """Ask again with each page's earlier validators: 304 exactly when the bytes are the same.

    Returns "same" or "changed" for every page that answered 200 before.
    """
    verdicts = {}
    for (host, path), (status, headers, body) in before.items():
        if status != 200:
            continue
        now_status, now_list, now_body = running.site.respond(host, path)  # what a GET gets
        now_headers = dict(now_list)
        by_tag = fetch(running, host, path, {"If-None-Match": headers["ETag"]})
        by_date = fetch(running, host, path, {"If-Modified-Since": headers["Last-Modified"]})
        if (now_status, now_body) == (200, body):
            assert now_headers["ETag"] == headers["ETag"], (host, path)
            assert now_headers["Last-Modified"] == headers["Last-Modified"], (host, path)
            assert (by_tag[0], by_date[0], by_tag[2]) == (304, 304, b""), (host, path)
            verdicts[host, path] = "same"
        else:
            assert now_headers["ETag"] != headers["ETag"], (host, path)
            if now_status == 200:
                later = parsedate_to_datetime(now_headers["Last-Modified"])
                assert later > parsedate_to_datetime(headers["Last-Modified"]), (host, path)
            assert by_tag[0] == by_date[0] == now_status, (host, path)
            verdicts[host, path] = "changed"
    return verdicts


def _by_kind(verdicts: dict[tuple[str, str], str]) -> Counter[tuple[str, str]]:
    """(kind of page, verdict) counts; kinds: home robots detail section rss sitemap."""

    def kind(path: str) -> str:
        return re.findall(r"^/([a-z]*)", path.lower())[0] or "home"

    return Counter((kind(path), verdict) for (_, path), verdict in verdicts.items())


def test_unchanged_pages_answer_304_to_the_previous_phase_validators(site: ReplaySite) -> None:
    paths = ["/", "/robots.txt", "/sitemap.xml", "/sitemap-2026-10.xml", "/sitemap-2026-11.xml"]
    paths += ["/rss.xml", *(f"/rss/rss-{s.id}.xml" for s in SECTIONS)]
    paths += [f"/Section/{s.id}" for s in SECTIONS]
    with serve(site) as running:
        before = {
            (host, path): fetch(running, host, path)
            for host in (PRIMARY, MIRROR)
            for path in [*paths, *(s.path for s in site.stories)]
        }
        running.set_phase(2)
        running.clear_requests()
        verdicts = _revalidate(running, before)
        seen = _by_kind(verdicts)
        for kind in ("detail", "section", "rss", "sitemap"):  # articles, listings, feeds, sitemaps
            assert seen[kind, "same"], kind
            assert seen[kind, "changed"], kind
        assert seen["home", "changed"] == 2
        assert seen["robots", "same"] == 2
        same = sum(count for (_, verdict), count in seen.items() if verdict == "same")
        assert sum(hit.not_modified for hit in running.requests) == 2 * same
        # Which articles changed is what the truth says changed.
        truth = running.site.truth
        for story in site.stories:
            for host in (PRIMARY, MIRROR):
                revision = truth.edited.get(story.id)
                removed = story.id in truth.removed and host == PRIMARY
                edited = revision is not None and host in revision.edited_on
                expected = "changed" if removed or edited else "same"
                assert verdicts[host, story.path] == expected, (host, story.id)

        articles = [s.path for s in running.site.stories[::3]]  # phase 3 changes none of them
        phase2 = {(PRIMARY, path): fetch(running, PRIMARY, path) for path in paths + articles}
        running.set_phase(3)
        seen = _by_kind(_revalidate(running, phase2))
        assert seen["detail", "same"] == sum(phase2[PRIMARY, p][0] == 200 for p in articles)
        assert not seen["detail", "changed"]
        assert seen["section", "same"]
        assert seen["section", "changed"]


def test_phase_two_brings_candidate_hosts_that_serve_the_primarys_pages(
    site: ReplaySite, phase2: ReplaySite
) -> None:
    assert site.respond(NEWS_HOST, "/")[0] == 404  # not there yet
    with serve(site) as running:
        assert set(running.origins) == {PRIMARY, MIRROR, LAGGING, RETIRED}
        running.set_phase(2)
        assert set(running.origins) == {PRIMARY, MIRROR, LAGGING, RETIRED, NEWS_HOST, CDN_HOST}
        assert [r.split("=")[0] for r in running.connect_to()] == [*LIVE, RETIRED]
        assert len(running.connect_to(candidates=True)) == 6
        assert phase2.truth.candidate_hosts == (NEWS_HOST, CDN_HOST)
        new = [story_of(phase2, i) for i in phase2.truth.new_ids]
        standard = next(s for s in new if s.layout == "standard")
        _, _, body = fetch(running, PRIMARY, standard.path)
        alternates = html_of(body).css(".alt-addresses a::attr(href)").getall()
        assert alternates == [f"https://{h}" for h in (*LIVE, NEWS_HOST)]
        old = next(s for s in site.stories if s.layout == "standard")
        _, _, body = fetch(running, PRIMARY, old.path)  # written in phase 1, kept as it was
        assert NEWS_HOST.encode() not in body
        for host in (NEWS_HOST, CDN_HOST):
            for path in ("/", "/rss.xml", standard.path, "/Section/10101?page=2"):
                assert fetch(running, host, path)[2] == fetch(running, PRIMARY, path)[2]
        assert {hit.host for hit in running.requests} >= {NEWS_HOST, CDN_HOST}
        cdn = []
        for story in new:
            _, _, body = fetch(running, MIRROR, phase2.link_path(story, MIRROR))
            cdn += [h for h in html_of(body).css("aside a::attr(href)").getall() if CDN_HOST in h]
        assert len(cdn) >= 5
        for href in cdn:  # the same ids as on the primary, and the primary's pages
            path = href.removeprefix(f"https://{CDN_HOST}")
            (story_id,) = linked_ids(path.encode())
            assert CDN_HOST in phase2.truth.hosts_of(story_id)
            status, _, body = fetch(running, CDN_HOST, path)
            assert (status, body) == (200, fetch(running, PRIMARY, path)[2])


# --- troublesome hosts and ids ---------------------------------------------------------------


def test_soft_404_host_answers_200_with_the_error_page_for_what_it_lacks() -> None:
    troubled = build_site(ReplayConfig(stories=20, lag=3, soft_404_host=LAGGING))
    missing = troubled.stories[-1]
    assert troubled.truth.hosts_of(missing.id) == (PRIMARY, MIRROR)
    with serve(troubled) as running:
        for path in (missing.path, "/no/such/page", "/Section/99999"):
            status, _, body = fetch(running, LAGGING, path)
            assert status == 200, path
            page = html_of(body)
            assert "Page not found" in page.css("title::text").get("")
            assert page.css("h1::text").get() == "Page not found"
            assert page.css("nav.main-menu a")  # the site's chrome around it
            assert page.css("footer.site-footer")
        status, _, body = fetch(running, LAGGING, troubled.stories[0].path)
        assert status == 200
        assert heading(body) == troubled.stories[0].title
        assert fetch(running, PRIMARY, "/no/such/page")[0] == 404


def test_home_for_any_path_host_answers_its_home_page_for_what_it_lacks() -> None:
    troubled = build_site(ReplayConfig(stories=20, lag=3, home_for_any_path_host=LAGGING))
    with serve(troubled) as running:
        _, _, home = fetch(running, LAGGING, "/")
        for path in (troubled.stories[-1].path, "/no/such/page", "/Section/99999", "/x.xml"):
            status, _, body = fetch(running, LAGGING, path)
            assert (status, body) == (200, home), path
        assert fetch(running, LAGGING, troubled.stories[0].path)[2] != home
        assert fetch(running, MIRROR, "/no/such/page")[0] == 404


@pytest.mark.parametrize(
    ("target", "code"), [("https://www.presstv.ir/", 301), ("https://parking.example/", 302)]
)
def test_redirecting_host_sends_every_path_to_one_url(target: str, code: int) -> None:
    config = ReplayConfig(
        stories=20, lag=3, redirecting_host=MIRROR, redirect_target=target, redirect_status=code
    )
    troubled = build_site(config)
    assert troubled.truth.states[MIRROR] == "redirecting"
    assert troubled.truth.hosts_of(troubled.stories[0].id) == (PRIMARY, LAGGING)
    with serve(troubled) as running:
        for path in ("/", "/robots.txt", "/rss.xml", troubled.stories[0].path, "/x?y=1"):
            status, headers, _ = fetch(running, MIRROR, path)
            assert (status, headers["Location"]) == (code, target), path
        assert fetch(running, PRIMARY, "/")[0] == 200


@pytest.fixture(scope="module")
def holes() -> ReplaySite:
    return build_site(
        ReplayConfig(stories=40, lag=4, unlisted_every=6, gap_every=7, id_redirects=True)
    )


def _every_link(running: ReplayServer, site: ReplaySite, host: str) -> set[int]:
    """Story ids linked from every page a crawler could reach on a host."""
    paths = ["/", "/sitemap.xml", "/sitemap-2026-10.xml", "/sitemap-2026-11.xml", "/rss.xml"]
    paths += [f"/rss/rss-{s.id}.xml" for s in SECTIONS]
    paths += [
        f"/Section/{s.id}?page={page}"
        for s in SECTIONS
        for page in range(1, listing_pages(site, host, s.id) + 1)
    ]
    paths += [site.link_path(s, host) for s in site.stories if site.serves(s, host)]
    linked: set[int] = set()
    for path in paths:
        status, _, body = fetch(running, host, path)
        assert status == 200, path
        this = linked_ids(body)
        if path.startswith(("/Detail", "/detail")):
            this.discard(int(re.findall(r"/(\d+)", path)[3]))  # og:url, canonical: itself
        linked |= this
    return linked


def test_unlisted_stories_are_served_everywhere_and_linked_from_nowhere(holes: ReplaySite) -> None:
    unlisted = set(holes.truth.unlisted)
    assert unlisted == {780006, 780012, 780018, 780024, 780030, 780036}
    gaps = set(holes.truth.gaps)
    assert gaps == {780007, 780014, 780021, 780028, 780035}
    with serve(holes) as running:
        for host in LIVE:
            linked = _every_link(running, holes, host)
            assert not linked & unlisted, host
            assert not linked & gaps, host
            listed = {s.id for s in holes.stories if s.listed and holes.serves(s, host)}
            assert listed <= linked, host
        for story_id in unlisted:
            story = story_of(holes, story_id)
            assert holes.truth.hosts_of(story_id) == LIVE
            for host in LIVE:
                assert fetch(running, host, story.path)[0] == 200


def test_gap_ids_are_never_published(holes: ReplaySite) -> None:
    assert {s.id for s in holes.stories}.isdisjoint(holes.truth.gaps)
    assert len(holes.stories) == 40 - len(holes.truth.gaps)
    with serve(holes) as running:
        for story_id in holes.truth.gaps:
            assert holes.truth.hosts_of(story_id) == ()
            for host in LIVE:
                assert fetch(running, host, f"/Detail/2026/11/01/{story_id}/x")[0] == 404
                assert fetch(running, host, f"/Detail/{story_id}")[0] == 404


def test_id_only_urls_redirect_to_the_full_url_on_the_same_host(
    holes: ReplaySite, server: ReplayServer, site: ReplaySite
) -> None:
    other_slug = next(s for s in holes.stories if MIRROR in s.alt_slug_on)
    unlisted = story_of(holes, holes.truth.unlisted[0])
    with serve(holes) as running:
        for story in (other_slug, unlisted):
            for host in LIVE:
                status, headers, _ = fetch(running, host, f"/Detail/{story.id}")
                assert (status, headers["Location"]) == (301, holes.link_url(story, host))
                path = headers["Location"].removeprefix(f"https://{host}")
                status, _, body = fetch(running, host, path)
                assert status == 200
                assert f'data-news-id="{story.id}"'.encode() in body or story.layout != "standard"
        assert fetch(running, MIRROR, f"/detail/{other_slug.id}/")[0] == 301
        newest = holes.stories[-1]
        assert fetch(running, LAGGING, f"/Detail/{newest.id}")[0] == 404  # lacks it
        assert fetch(running, PRIMARY, "/Detail/1")[0] == 404
    assert fetch(server, PRIMARY, f"/Detail/{site.stories[0].id}")[0] == 404  # switched off


# --- near-duplicates -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def echoes() -> ReplaySite:
    return build_site(ReplayConfig(republish_every=6, bulletins=True, phase=2))


def test_republished_copies_repeat_a_story_under_a_new_id(echoes: ReplaySite) -> None:
    pairs = echoes.truth.republished
    assert len(pairs) >= 4
    kinds: Counter[str] = Counter()
    with serve(echoes) as running:
        for original_id, copy_id in pairs.items():
            original = story_of(echoes, original_id)
            copy = story_of(echoes, copy_id)
            assert (copy.kind, copy.original_id) == ("republished", original_id)
            gap = copy.published - original.published
            assert dt.timedelta(days=1) <= gap <= dt.timedelta(days=2)
            assert jaccard(original.body, copy.body) >= 0.95
            if copy.title == original.title:
                words = list(zip(original.body.split(), copy.body.split(), strict=True))
                assert sum(a != b for a, b in words) == 1
                kinds["one word changed"] += 1
            else:
                assert copy.body == original.body
                kinds["new title"] += 1
            status, _, body = fetch(running, PRIMARY, copy.path)
            assert status == 200
            assert heading(body) == copy.title
    assert set(kinds) == {"one word changed", "new title"}


def test_bulletins_recur_daily_as_near_identical_text_days_apart(echoes: ReplaySite) -> None:
    bulletins = [story_of(echoes, i) for i in echoes.truth.bulletins]
    days = [b.published.date() for b in bulletins]
    assert days == sorted(set(days))  # one a day
    assert len(days) >= 20
    for one, other in itertools.pairwise(bulletins):
        assert one.title == other.title == "Press TV’s news headlines"
        assert one.body != other.body
        if other.published.date() - one.published.date() == dt.timedelta(days=1):
            assert 0.9 <= jaccard(one.body, other.body) < 0.95
    ordinary = [s for s in echoes.stories if s.kind == "story"]
    assert max(jaccard(bulletins[0].body, s.body) for s in ordinary) < 0.2
    _, _, body = echoes.respond(PRIMARY, bulletins[-1].path)
    assert heading(body) == "Press TV’s news headlines"


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


def _digest(site: ReplaySite, host: str) -> str:
    total = hashlib.sha256()
    for path in _sample_paths(site):
        status, headers, body = site.respond(host, path)
        total.update(f"{path} {status} {headers!r}\n".encode())
        total.update(body)
    return total.hexdigest()


@pytest.mark.parametrize("host", [*LIVE, RETIRED])
def test_phase_one_of_the_default_site_is_byte_identical_to_before_phases(
    site: ReplaySite, host: str
) -> None:
    assert _digest(site, host) == PHASE_ONE_SHA256[host]


@pytest.mark.parametrize("phase", [2, 3])
def test_each_phase_is_the_same_on_every_build(phase: int) -> None:
    one = build_site(ReplayConfig(phase=phase))
    other = build_site().at_phase(phase)
    assert other.config == one.config
    for host in (*LIVE, NEWS_HOST):
        for path in _sample_paths(one):
            assert one.respond(host, path) == other.respond(host, path), (host, path)
    assert one.truth == other.truth
    assert [s.body for s in one.stories] == [s.body for s in other.stories]


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
    started = time.process_time()
    truth = big.at_phase(3).truth
    assert time.process_time() - started < 1.0
    assert (len(truth.new_ids), len(truth.edited), len(truth.removed)) == (5, 3, 3)
    assert big.at_phase(3).respond(MIRROR, big.stories[-1].path)[0] == 200  # parked


def test_config_rejects_nonsense() -> None:
    bad: list[dict[str, Any]] = [
        {"stories": 0},
        {"lag": 60},
        {"edit_every": -1},
        {"days": 0},
        {"phase": 4},
        {"removals": 4},
        {"new_stories": -1},
        {"gap_every": -2},
        {"soft_404_host": "www.example.org"},
        {"soft_404_host": LAGGING, "home_for_any_path_host": LAGGING},
        {"redirecting_host": LAGGING},
        {"redirecting_host": LAGGING, "redirect_target": "/relative"},
        {
            "redirecting_host": LAGGING,
            "redirect_target": "https://x.example/",
            "redirect_status": 200,
        },
    ]
    for fields in bad:
        with pytest.raises(ValueError, match="must"):
            ReplayConfig(**fields)


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
