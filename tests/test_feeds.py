"""Feeds and sitemaps read once: what they name, and why a broken one is broken."""

from __future__ import annotations

from crawler.feeds import read_feed, read_sitemap

RSS1 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
  <item rdf:about="https://www.presstv.ir/Detail/2025/03/08/745312/A"><link>https://www.presstv.ir/Detail/2025/03/08/745312/A</link></item>
</rdf:RDF>"""


def test_an_rss_1_feed_is_a_feed_with_no_problem() -> None:
    document = read_feed(RSS1)
    assert document.kind == "feed"
    assert document.problem is None
    assert [e.url for e in document.entries] == [
        "https://www.presstv.ir/Detail/2025/03/08/745312/A"
    ]


def test_a_feed_cut_short_is_read_as_far_as_it_goes_and_says_so() -> None:
    document = read_feed(RSS1[: RSS1.index(b"</item>")])
    assert document.problem is not None
    assert document.problem.startswith("not well-formed XML")
    assert [e.url for e in document.entries] == [
        "https://www.presstv.ir/Detail/2025/03/08/745312/A"
    ]


def test_a_page_served_as_a_sitemap_is_not_one() -> None:
    document = read_sitemap(b"<html><body>Parked</body></html>")
    assert document.kind == "invalid"
    assert document.problem == "not a sitemap: root element <html>"
    assert read_sitemap(b"").problem == "empty document"
