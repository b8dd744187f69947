"""Hostile XML inside a real crawl: sitemap-index loops, malformed feeds and sitemaps, billion
laughs, XXE (never resolved, never fetched), and feeds, sitemaps and listings that name the
loopback address a host is really served from (a page must not steer `--connect-to`).

One crawl serves them all; the replay site's own sitemaps and feeds are replaced per host.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from crawler.replay import ReplaySite
from spiders.mirror import MAX_SITEMAP_DEPTH
from tests.faults.conftest import Crawl, assert_sound, crawl, small_site
from tests.faults.server import Fault, body, rendered, transform
from tests.faults.test_xml import LAUGHS

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING = "www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv"
SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
SECRET = f"TOPSECRET-{random.Random(6).getrandbits(64):x}"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


def _index(*locs: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="{SM}">{entries}</sitemapindex>'.encode()


def _add_to_index(*locs: str) -> Fault:
    """The host's real sitemap index, with more entries at its end."""
    extra = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs).encode()
    return transform(lambda page: page.replace(b"</sitemapindex>", extra + b"</sitemapindex>"))


def _chain() -> Fault:
    """An index that always names one more index: /sitemap-chain.xml?n=1 names ?n=2, ..."""

    def fault(handler: Any, host: str, path: str) -> None:
        n = int(path.rsplit("=", 1)[-1]) if "=" in path else 0
        body(_index(f"https://{host}/sitemap-chain.xml?n={n + 1}"), XML)(handler, host, path)

    return fault


def _steering(origins: dict[str, str], path: str) -> list[str]:
    """Spellings of the address a profile host is really served from, on `path`."""
    origin = origins[PRIMARY]
    port = origin.rsplit(":", 1)[1]
    return [
        f"{origin}{path}",
        f"http://localhost:{port}{path}",
        f"https://{PRIMARY}@127.0.0.1:{port}{path}",
        f"//127.0.0.1:{port}{path}",
    ]


def _xxe_doc(origins: dict[str, str], secret: Path, root: str, inner: str) -> bytes:
    """A document whose DOCTYPE names a local file and three URLs on the primary's origin."""
    origin = origins[PRIMARY]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n'
        f'  <!ENTITY secret SYSTEM "{secret.as_uri()}">\n'
        f'  <!ENTITY remote SYSTEM "{origin}/xxe/entity">\n'
        f'  <!ENTITY % dtd SYSTEM "{origin}/xxe/param.dtd"> %dtd;\n'
        f"]>\n{inner}"
    ).encode()


def _xxe_sitemap(secret: Path, story_path: str) -> Fault:
    def make(origins: dict[str, str], _: bytes) -> bytes:
        inner = (
            f'<urlset xmlns="{SM}">'
            f"<url><loc>https://{PRIMARY}{story_path}&secret;</loc></url>"
            f"<url><loc>https://{PRIMARY}/&remote;</loc></url></urlset>"
        )
        return _xxe_doc(origins, secret, "urlset", inner)

    return rendered(make, XML)


def _xxe_external_dtd() -> Fault:
    def make(origins: dict[str, str], _: bytes) -> bytes:
        return (
            f'<?xml version="1.0"?>\n<!DOCTYPE urlset SYSTEM "{origins[PRIMARY]}/xxe/external.dtd">'
            f'<urlset xmlns="{SM}"><url><loc>https://{PRIMARY}/&ext;</loc></url></urlset>'
        ).encode()

    return rendered(make, XML)


def _xxe_feed(secret: Path, story_path: str) -> Fault:
    def make(origins: dict[str, str], _: bytes) -> bytes:
        inner = (
            "<rss><channel><title>&secret;</title>"
            f"<item><title>&remote;</title><link>https://{PRIMARY}{story_path}&secret;</link>"
            "</item></channel></rss>"
        )
        return _xxe_doc(origins, secret, "rss", inner)

    return rendered(make, RSS)


def _steering_feed(story_path: str) -> Fault:
    def make(origins: dict[str, str], _: bytes) -> bytes:
        items = "".join(
            f"<item><title>x</title><link>{url}</link><guid>{url}</guid></item>"
            for url in _steering(origins, story_path)
        )
        return f"<rss><channel>{items}</channel></rss>".encode()

    return rendered(make, RSS)


def _steering_sitemap_index(story_path: str) -> Fault:
    def make(origins: dict[str, str], page: bytes) -> bytes:
        locs = _steering(origins, "/sitemap-2026-10.xml") + _steering(origins, story_path)
        extra = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs).encode()
        mine = f"<sitemap><loc>https://{PRIMARY}/sitemap.xml</loc></sitemap>".encode()
        xxe = "".join(
            f"<sitemap><loc>https://{PRIMARY}/{name}</loc></sitemap>"
            for name in ("sitemap-xxe.xml", "sitemap-xxe-dtd.xml")
        ).encode()
        return page.replace(b"</sitemapindex>", mine + xxe + extra + b"</sitemapindex>")

    return rendered(make, XML)


def _steering_listing(story_path: str) -> Fault:
    def make(origins: dict[str, str], page: bytes) -> bytes:
        links = "".join(f'<a href="{url}">story</a>' for url in _steering(origins, story_path))
        return page.replace(b"</body>", links.encode() + b"</body>")

    return rendered(make, "text/html; charset=utf-8")


JUNK = random.Random(7).randbytes(16 * 1024)
# Malformed documents: (host, path) -> fault. The crawl must go on past each of them.
MALFORMED: dict[str, tuple[str, str, Fault]] = {
    "rss_cut_in_half": (PRIMARY, "/rss.xml", transform(lambda b: b[: len(b) // 2])),
    "rss_billion_laughs": (PRIMARY, "/rss/rss-10101.xml", body(LAUGHS, RSS)),
    "atom_unclosed": (
        MIRROR,
        "/rss/rss-10101.xml",
        body(
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><link href='https://"
            + MIRROR.encode()
            + b"/Detail/2026/01/01/1/x'/><entry><link href=",
            "application/atom+xml",
        ),
    ),
    "feed_of_binary_junk": (LAGGING, "/rss/rss-10101.xml", body(JUNK, RSS)),
    "sitemap_cut_mid_tag": (
        PRIMARY,
        "/sitemap-2026-11.xml",
        transform(lambda b: b[: b.index(b"<loc>", len(b) // 2) + 3]),
    ),
    "sitemap_of_binary_junk": (MIRROR, "/sitemap-2026-10.xml", body(JUNK, XML)),
    "sitemap_gzip_garbage": (LAGGING, "/sitemap-2026-10.xml", body(b"\x1f\x8b\x08\0junk", XML)),
}


@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, secret: Path) -> tuple[ReplaySite, Crawl]:
    site = small_site()
    story = site.stories[0].path
    faults: dict[tuple[str, str], Fault] = {
        # An index naming itself (and the loopback origin it is served from, and two XXE
        # sitemaps); on the mirror a loop of two indexes; on the lagging mirror a chain of
        # ever-new indexes, which only the depth limit ends.
        (PRIMARY, "/sitemap.xml"): _steering_sitemap_index(story),
        (PRIMARY, "/sitemap-xxe.xml"): _xxe_sitemap(secret, story),
        (PRIMARY, "/sitemap-xxe-dtd.xml"): _xxe_external_dtd(),
        (MIRROR, "/sitemap.xml"): _add_to_index(f"https://{MIRROR}/sitemap-loop.xml"),
        (MIRROR, "/sitemap-loop.xml"): body(_index(f"https://{MIRROR}/sitemap.xml"), XML),
        (LAGGING, "/sitemap.xml"): _add_to_index(f"https://{LAGGING}/sitemap-chain.xml"),
        (LAGGING, "/sitemap-chain.xml"): _chain(),
        (PRIMARY, "/rss/rss-10102.xml"): _xxe_feed(secret, story),
        (PRIMARY, "/rss/rss-10103.xml"): _steering_feed(story),
        (PRIMARY, "/Section/10101"): _steering_listing(story),
    }
    for host, path, fault in MALFORMED.values():
        faults[(host, path)] = fault
    return site, crawl(tmp_path_factory.mktemp("xml"), site, faults)


def test_xml_faults_leave_the_run_whole_and_every_story_true(
    faulty: tuple[ReplaySite, Crawl],
) -> None:
    site, run = faulty
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert_sound(run, site)
    (stored,) = run.db.query("SELECT count(*) AS n FROM articles")
    assert stored["n"] == len(site.stories)


@pytest.mark.parametrize(
    ("host", "path"),
    [
        (PRIMARY, "/sitemap.xml"),  # names itself
        (MIRROR, "/sitemap.xml"),  # names /sitemap-loop.xml, which names it back
        (MIRROR, "/sitemap-loop.xml"),
    ],
)
def test_sitemap_index_loops_fetch_each_index_once(
    faulty: tuple[ReplaySite, Crawl], host: str, path: str
) -> None:
    _, run = faulty
    assert run.server.asked(host, path) == 1
    rows = run.captures("host = ? AND url = ?", [host, f"https://{host}{path}"])
    assert [(row["status"], row["page_type"]) for row in rows] == [(200, "sitemap")], rows


def test_a_chain_of_new_indexes_stops_at_the_depth_limit(faulty: tuple[ReplaySite, Crawl]) -> None:
    _, run = faulty
    asked = run.server.asked(LAGGING, "/sitemap-chain.xml")
    assert 2 <= asked <= MAX_SITEMAP_DEPTH  # followed, and then stopped
    assert len(run.captures("url LIKE ?", [f"https://{LAGGING}/sitemap-chain.xml%"])) == asked


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_feed_or_sitemap_is_a_capture_and_the_run_goes_on(
    faulty: tuple[ReplaySite, Crawl], case: str
) -> None:
    _, run = faulty
    host, path, _ = MALFORMED[case]
    assert run.server.asked(host, path) == 1
    rows = run.captures("url = ?", [f"https://{host}{path}"])
    assert len(rows) == 1, rows
    (row,) = rows
    assert row["status"] == 200
    assert row["page_type"] in ("feed", "sitemap")
    assert row["outcome"] == "listing", row  # fetched whole; what it names is another matter
    if case != "rss_billion_laughs":  # well-formed: its entities are left unexpanded
        assert row["error"], "an unreadable feed or sitemap says so in its capture"


def test_xxe_in_a_crawl_is_never_fetched_nor_read(faulty: tuple[ReplaySite, Crawl]) -> None:
    _, run = faulty
    for path in ("/sitemap-xxe.xml", "/sitemap-xxe-dtd.xml", "/rss/rss-10102.xml"):
        assert run.server.asked(PRIMARY, path) == 1, f"{path} was not crawled"
    entity_asks = [r for r in run.server.requests if r.path.startswith("/xxe")]
    assert entity_asks == []
    assert not [r for r in run.server.requests if SECRET in r.path]
    for table in run.db.table_names():
        for row in run.db.query(f"SELECT * FROM [{table}]"):  # noqa: S608 - test SQL
            for value in row.values():
                text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                assert SECRET not in text, f"{table}: local file content stored"


def test_feeds_sitemaps_and_listings_cannot_steer_connect_to(
    faulty: tuple[ReplaySite, Crawl],
) -> None:
    _, run = faulty
    for path in ("/sitemap.xml", "/rss/rss-10103.xml", "/Section/10101"):
        assert run.server.asked(PRIMARY, path) == 1, f"{path} was not crawled"
    named = {r.host_header for r in run.server.requests}
    assert all(not h.startswith(("127.0.0.1", "localhost")) for h in named), named
    stored = [
        row["url"]
        for row in run.db.query("SELECT url FROM captures")
        if "127.0.0.1" in row["url"] or "localhost" in row["url"]
    ]
    assert stored == []
