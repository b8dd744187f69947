"""One page read once: the streaming scan gives exactly what the lxml tree gives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction import extract_article
from crawler.extraction.document import Document, parse_fragment, reads_alike_in_a_fragment
from crawler.profiles import SiteProfile, load_profile, parse_profile
from crawler.replay import ReplaySite

PAGES = Path(__file__).parent / "fixtures" / "pages"
URL = "https://www.presstv.ir/Detail/2026/03/08/745312/A-story"

# Pages whose markup tests the edges of reading an element from its source alone.
TRICKY = {
    "no-html-tag": "<title>T &amp; U</title><h1 class='news-title'>Head<br>line</h1>"
    "<div class=news-body><p>One two three.</p><p>Four <b>five</b> six.</p></div>",
    "unclosed-paragraphs": "<html lang=fr><body><h1 class=news-title>H</h1><div class=news-body>"
    "<p>First paragraph<p>Second <i>paragraph<p>Third</div><div class=share>x</div>",
    "boilerplate-inside": "<html><body><article><h1 class=news-title>H</h1><div class=news-body>"
    "<p>Kept one.</p><div class='share-box'>Share</div>tail text<figure><figcaption>Cap"
    "</figcaption></figure><script>var x = '<p>not text</p>';</script><p>Kept two.</p>"
    "<div class=alt-addresses><p>Press TV’s website can also be accessed at the following "
    "alternate addresses:</p><p>www.presstv.co.uk</p></div></div></article></body></html>",
    "entities-and-svg": "<html><head><title>A &eacute; B | Press TV</title>"
    "<meta property=og:title content='OG &amp; title'><meta name=author content='By Jane Roe'>"
    "<link rel='Canonical alternate' href='/Detail/2026/03/08/745312/x'></head><body>"
    "<svg><title>icon</title></svg><main><figure><figcaption>Main &amp; caption</figcaption>"
    "</figure></main><div itemprop=articleBody><p>Body &nbsp; text&#8217;s here.</p></div>"
    "<span itemprop=datePublished content='2026-03-08T10:00:00Z'></span></body></html>",
    "json-ld-only": '<html><head><script type="Application/LD+JSON">{"@type": "NewsArticle", '
    '"headline": "JSON head", "datePublished": "2026-03-08", "articleBody": "'
    + " ".join(["Sentence number one is here."] * 30)
    + '", "author": {"name": "Ann Lee"}}</script></head><body><p>x</p></body></html>',
    "table-cells": "<html><body><h1 class=news-title>Cells</h1><div class=news-body><table>"
    "<tr><td>a</td><td>b</td></tr></table><p>after</p></div></body></html>",
    "nested-containers": "<div class=news-body><div class=news-body><p>inner</p></div>"
    "<p>outer</p></div><h1 class=news-title>T</h1>",
    "empty-body": "<html><body><h1 class=news-title>T</h1><div class=news-body>"
    "<script>x</script></div><article><div class=body><p>Fallback body.</p></div>"
    "</article></body></html>",
}


def _fixture_pages() -> Iterator[Any]:
    for meta_path in sorted(PAGES.glob("*/*/meta.json")):
        meta = json.loads(meta_path.read_text("utf-8"))
        html = (meta_path.parent / "page.html").read_bytes()
        name = f"{meta_path.parent.parent.name}/{meta_path.parent.name}"
        # Without a profile nothing is scanned (the tree trafilatura needs answers all), so
        # every case runs with one: the structured-data questions are scanned for it too.
        yield pytest.param(html, meta["url"], meta.get("profile") or "presstv", id=name)


def _read_both(
    html: str | bytes, url: str, profile: SiteProfile, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any]]:
    scanned = extract_article(html, url, profile)
    with monkeypatch.context() as patch:
        patch.setattr(Document, "scan_pages", False)
        from_tree = extract_article(html, url, profile)
    return scanned, from_tree


@pytest.mark.parametrize(("html", "url", "profile_name"), list(_fixture_pages()))
def test_saved_pages_read_the_same_scanned_or_from_the_tree(
    html: bytes, url: str, profile_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned, from_tree = _read_both(html, url, load_profile(profile_name), monkeypatch)
    assert scanned == from_tree


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_awkward_markup_reads_the_same_scanned_or_from_the_tree(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned, from_tree = _read_both(TRICKY[name], URL, load_profile("presstv"), monkeypatch)
    assert scanned == from_tree


def test_replay_pages_of_every_layout_read_the_same_scanned_or_from_the_tree(
    replay_site: ReplaySite, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = load_profile("presstv")
    checked = 0
    for story in replay_site.stories[:60]:
        for host in replay_site.hosts:
            status, _, body = replay_site.respond(host, story.path)
            if status != 200:
                continue
            url = f"https://{host}{story.path}"
            scanned, from_tree = _read_both(body, url, profile, monkeypatch)
            assert scanned == from_tree, url
            checked += 1
    assert checked > 100


def _profile(extra: str) -> SiteProfile:
    return parse_profile(
        f"""
name = "edge"
[hosts]
primary = "www.example.org"
[article]
pattern = '^/a/(?P<id>\\d+)$'
canonical = "/a/{{id}}"
{extra}
"""
    )


def test_a_selector_outside_the_scans_subset_is_asked_of_the_tree() -> None:
    profile = _profile(
        "[selectors]\ntitle = ['xpath:normalize-space(//h1)']\nbody = ['div:nth-of-type(2) p']"
    )
    page = "<h1> Spaced   title </h1><div><p>no</p></div><div><p>Yes, this one.</p></div>"
    result = extract_article(page, "https://www.example.org/a/1", profile)
    assert (result["title"], result["body"]) == ("Spaced title", "Yes, this one.")


@pytest.mark.parametrize(
    ("selector", "body"),
    [
        # The page's second <p> is the body's first: a fragment of the body alone would
        # skip its second instead.
        ("xpath:(//p)[2]", "Second."),
        # The container is the page's second div, not the first child of anything.
        (".text:first-child p", "Kept.\n\nSecond."),
    ],
)
def test_boilerplate_that_depends_on_the_whole_page_is_found_in_the_whole_page(
    selector: str, body: str
) -> None:
    profile = _profile(
        f"[selectors]\nbody = ['.text']\n[boilerplate]\nselectors = [\"{selector}\"]"
    )
    page = "<p>Intro.</p><div>x</div><div class=text><p>Kept.</p><p>Second.</p></div>"
    result = extract_article(page, "https://www.example.org/a/1", profile)
    assert result["body"] == body


@pytest.mark.parametrize(
    ("selector", "alike"),
    [
        (".share-box", True),
        ("figure", True),
        ("div.a.b[data-x='1']#main", True),
        ("article .share", True),
        ("ul > li + li", True),
        ("li:first-child", False),
        (":not(.x)", False),
        ("p::text", False),
        ("xpath://aside", False),
        ("div[", True),
    ],
)
def test_plain_css_reads_alike_in_a_fragment(selector: str, alike: bool) -> None:
    assert reads_alike_in_a_fragment(selector) is alike


@pytest.mark.parametrize(
    ("outer", "tag"),
    [
        ("<h1 class=t>Head<br>line</h1>", "h1"),
        ("<td>cell</td>", "td"),
        ("<title>A &amp; B</title>", "title"),
        ("<p>unclosed", "p"),
        ("<html lang=en><body>x</body></html>", "html"),
    ],
)
def test_a_fragment_parses_back_to_its_element(outer: str, tag: str) -> None:
    element = parse_fragment(outer)
    assert element is not None
    assert element.tag == tag


@pytest.mark.parametrize("outer", ["just text", "", "<!-- c -->", "<1nvalid>"])
def test_a_fragment_that_is_no_element_leaves_the_question_to_the_tree(outer: str) -> None:
    assert parse_fragment(outer) is None
