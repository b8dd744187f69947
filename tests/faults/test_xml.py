"""Hostile XML through the real parsers: billion laughs, XXE (never resolved, never fetched),
malformed feeds and sitemaps, a 50,000-URL sitemap; and profile keys nobody knows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crawler.feeds import parse_feed, parse_sitemap
from crawler.profiles import ProfileError, load_profile
from tests.faults.conftest import small_site
from tests.faults.server import FaultServer

LAUGHS = (
    b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">"""
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"""]><rss><channel><item><link>https://www.presstv.ir/&lol9;</link></item></channel></rss>"""
)


def test_billion_laughs_is_not_expanded() -> None:
    started = time.monotonic()
    entries = parse_feed(LAUGHS)
    assert time.monotonic() - started < 2
    assert all("lollol" not in e.url for e in entries)


def test_xxe_is_never_resolved_nor_fetched(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    with FaultServer(small_site(), {}) as server:
        origin = server.origins["www.presstv.ir"]
        for target in (secret.as_uri(), f"{origin}/xxe.dtd"):
            doc = (
                f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{target}">'
                f'<!ENTITY % p SYSTEM "{target}"> %p;]>'
                "<urlset><url><loc>https://www.presstv.ir/&x;</loc></url></urlset>"
            ).encode()
            _, entries = parse_sitemap(doc)
            parse_feed(doc)
            assert all("TOPSECRET" not in e.url for e in entries)
        assert server.asked("www.presstv.ir", "/xxe.dtd") == 0
        assert not server.requests


@pytest.mark.parametrize(
    "doc",
    [
        b"<rss><channel><item><link>https://www.presstv.ir/a</link>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><link href=",
        b"<urlset><url><loc>https://www.presstv.ir/a</loc></url><url><loc>",
        b"<sitemapindex><sitemap><loc></loc></sitemap></sitemapindex>",
        b"\x1f\x8b\x08\x00garbage",
        b"\xff\xfe<\x00r\x00",
        b"",
    ],
)
def test_malformed_feeds_and_sitemaps_give_what_they_can(doc: bytes) -> None:
    assert isinstance(parse_feed(doc), list)
    kind, entries = parse_sitemap(doc)
    assert kind in ("index", "urlset", "invalid")
    assert isinstance(entries, list)


def test_a_sitemap_of_fifty_thousand_urls() -> None:
    urls = b"".join(
        f"<url><loc>https://www.presstv.ir/page/{n}</loc></url>".encode() for n in range(50_000)
    )
    started = time.monotonic()
    kind, entries = parse_sitemap(b"<urlset>" + urls + b"</urlset>")
    assert (kind, len(entries)) == ("urlset", 50_000)
    assert time.monotonic() - started < 5


def test_profile_loader_rejects_unknown_keys(tmp_path: Path) -> None:
    source = Path("crawler/sites/presstv.toml").read_text(encoding="utf-8")
    profile = tmp_path / "p.toml"
    profile.write_text(source.replace("[hosts]", 'connect_to = ["x=http://1.2.3.4"]\n[hosts]'))
    with pytest.raises(ProfileError):
        load_profile(str(profile))
