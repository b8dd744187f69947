"""extract_article: layers, boilerplate, identity, encodings, robustness, no Scrapy."""

from __future__ import annotations

import functools
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crawler.extraction
import crawler.extraction.generic
from crawler.extraction import extract_article
from crawler.profiles import SiteProfile, load_profile, parse_profile

PAGES = Path(__file__).parent / "fixtures" / "pages" / "presstv"
REFERENCE_HTML = (PAGES / "reference" / "page.html").read_text("utf-8")
EXPECTED = json.loads((PAGES / "reference" / "expected.json").read_text("utf-8"))
URL = EXPECTED["canonical_url"]
ROOT_REPO = Path(__file__).resolve().parent.parent

# What the reference page shows around the story and must never reach the body.
REFERENCE_BOILERPLATE = [
    "Press TV’s website can also be accessed at the following alternate addresses",
    "alternate addresses",
    "www.presstv.ir",
    "www.presstv.co.uk",
    "www.presstv.tv",
    "SHARE THIS ARTICLE",
    "Share this article",
    EXPECTED["image_caption"],
    "Witkoff: Alexander's release is 'top priority'",
    "Netanyahu declares end of ceasefire beyond first phase",
    "Related",
    "News / Palestine",
    "Foreign Policy",
    "Press TV News Roku",
    "RSS",
]

EXAMPLE_PROFILE = """
name = "example"
timezone = "+02:00"
[hosts]
primary = "www.example.org"
alternates = ["mirror.example.net"]
[article]
pattern = '^/story/(?P<id>\\d+)(?:/(?P<slug>[^/]*))?/?$'
canonical = "/story/{id}/{slug}"
[selectors]
title = ["xpath://div[@id='headline']/text()"]
body = [".story"]
image_url = ["img.hero::attr(data-src)"]
image_caption = [".hero-caption"]
published_at = [".stamp"]
authors = [".byline a"]
tags = [".topics a::text"]
section = [".crumbs a"]
date_formats = ["%d.%m.%Y %H:%M"]
[boilerplate]
selectors = [".promo-box"]
cut_at = ["Read more from Example’s “newsroom”"]
drop = ['^advertisement$']
home_crumbs = ["Start"]
"""


@functools.cache
def presstv() -> SiteProfile:
    return load_profile("presstv")


@functools.cache
def example() -> SiteProfile:
    return parse_profile(EXAMPLE_PROFILE)


def page(body: str, head: str = "", lang: str = "en") -> str:
    return f"<!DOCTYPE html><html lang='{lang}'><head>{head}</head><body>{body}</body></html>"


def paragraphs(count: int, word: str = "word") -> str:
    sentence = f"This {word} sentence has enough words to read like a real news paragraph today."
    return "".join(f"<p>{sentence} Number {i}.</p>" for i in range(count))


@functools.cache
def reference_result() -> dict[str, Any]:
    return extract_article(REFERENCE_HTML, URL, presstv())


# --- the reference page ------------------------------------------------------------------


@pytest.mark.parametrize("text", REFERENCE_BOILERPLATE)
def test_reference_body_has_no_boilerplate(text: str) -> None:
    assert text.casefold() not in reference_result()["body"].casefold()


def test_reference_records_which_layer_gave_each_field() -> None:
    sources = reference_result()["field_sources"]
    assert sources["body"] == "profile"
    assert sources["title"] == "profile"
    assert sources["section"] == "profile"
    assert sources["published_at"] == "jsonld"
    assert sources["language"] == "html"


def test_word_count_counts_word_tokens_of_body() -> None:
    result = reference_result()
    assert result["word_count"] == len(re.findall(r"\w+", result["body"]))


def test_reference_without_profile_finds_title_date_and_body() -> None:
    result = extract_article(REFERENCE_HTML, URL)
    assert result["title"] == EXPECTED["title"]
    assert result["published_at"] == "2025-03-08T10:21:47+03:30"
    assert result["canonical_url"] == URL
    assert "key" not in result
    body = result["body"]
    assert body.startswith(EXPECTED["body"].split("\n\n")[0])
    assert EXPECTED["body"].split("\n\n")[-1] in body
    for text in ("alternate addresses", "www.presstv.co.uk", "SHARE THIS ARTICLE"):
        assert text not in body


# --- layers ------------------------------------------------------------------------------


@pytest.fixture
def generic_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = crawler.extraction.generic.read_generic

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(crawler.extraction, "read_generic", spy)
    return calls


@pytest.mark.parametrize("case", ["reference", "jsonld-body"])
def test_profile_or_jsonld_body_never_runs_the_generic_extractor(
    case: str, generic_calls: list[str]
) -> None:
    html = (PAGES / case / "page.html").read_bytes()
    assert extract_article(html, URL, presstv())["body"]
    assert generic_calls == []


def test_generic_extractor_runs_when_no_other_layer_has_a_body(generic_calls: list[str]) -> None:
    html = (PAGES / "generic-fallback" / "page.html").read_bytes()
    assert extract_article(html, URL, presstv())["extraction"] == "generic"
    assert generic_calls == [URL]


def test_teaser_articlebody_in_jsonld_is_not_taken_for_the_story() -> None:
    ld = {"@type": "NewsArticle", "headline": "H", "articleBody": "Only the first lines of…"}
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    html = page(f"<article><h1>H</h1>{paragraphs(8)}</article>", head)
    result = extract_article(html, "https://news.example.com/a/1")
    assert result["extraction"] == "generic"
    assert "Number 7." in result["body"]


def test_whole_articlebody_in_jsonld_gives_the_body_with_its_paragraphs() -> None:
    text = "\n".join(
        f"Sentence one of paragraph {i} runs on for a while. And two." for i in range(8)
    )
    ld = {"@type": "ReportageNewsArticle", "headline": "H", "articleBody": text}
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    result = extract_article(page("<div>menu</div>", head), "https://news.example.com/a/1")
    assert result["extraction"] == "jsonld"
    assert result["body"] == text.replace("\n", "\n\n")


def test_lead_falls_back_to_the_first_body_paragraph() -> None:
    html = page("<div class='story'><p>First paragraph.</p><p>Second.</p></div>")
    result = extract_article(html, "https://www.example.org/story/7", example())
    assert result["lead"] == "First paragraph."
    assert result["field_sources"]["lead"] == "body"


def test_nothing_found_leaves_core_fields_none() -> None:
    result = extract_article("<html><body></body></html>", "https://x.example/")
    assert {k: result[k] for k in ("title", "body", "published_at", "extraction")} == dict.fromkeys(
        ("title", "body", "published_at", "extraction")
    )


# --- profile selectors and body rules ----------------------------------------------------

EXAMPLE_PAGE = page(
    """
    <div class="crumbs"><a href="/">Start</a> <a href="/world">World</a>
      <a href="/world/europe">Europe</a> <a href="/story/7/slug">The headline</a></div>
    <div id="headline">The headline</div>
    <div class="stamp">Updated 08.03.2025 10:21 (edited 09.03.2025 11:00)</div>
    <img class="hero" src="/placeholder.gif" data-src="/img/hero.jpg">
    <div class="hero-caption">A caption under the photo.</div>
    <p class="byline">By <a>Ann Author</a> and <a>Bo Writer</a></p>
    <div class="story">
      <p>First&nbsp;paragraph with <b>bold</b> and <a href="#">a link</a>.</p>
      <div>Direct text in a div<br>after a line break</div>
      <ul><li>Item one</li><li>Item <em>two</em></li></ul>
      <p>A caption under the photo.</p>
      <div class="promo-box"><p>Subscribe to our promo!</p></div>
      <div class="shareholder-note"><p>Shareholders met on Monday.</p></div>
      <div class="share-tools"><p>Share on X</p></div>
      <p>Advertisement</p>
      <p>Zero\u200bwidth space removed.</p>
      <p>Read more from Example's "newsroom" below:</p>
      <p>Teaser that follows the cut.</p>
    </div>
    <div class="topics"><a>Politics</a><a>Europe</a><a>politics</a></div>
    """
)


@functools.cache
def example_result() -> dict[str, Any]:
    return extract_article(
        EXAMPLE_PAGE, "https://mirror.example.net/story/0007/x?utm_source=a", example()
    )


def test_body_paragraphs_come_from_block_elements() -> None:
    assert example_result()["body"].split("\n\n") == [
        "First paragraph with bold and a link.",
        "Direct text in a div",
        "after a line break",
        "Item one",
        "Item two",
        "Shareholders met on Monday.",
        "Zerowidth space removed.",
    ]


def test_xpath_and_attr_selectors_give_values() -> None:
    result = example_result()
    assert result["title"] == "The headline"
    assert result["image_url"] == "https://mirror.example.net/img/hero.jpg"
    assert result["image_caption"] == "A caption under the photo."


def test_list_fields_keep_every_match_once() -> None:
    assert example_result()["authors"] == ["Ann Author", "Bo Writer"]
    assert example_result()["tags"] == ["Politics", "Europe"]


def test_visible_date_takes_the_first_date_in_the_text_in_the_site_zone() -> None:
    assert example_result()["published_at"] == "2025-03-08T10:21:00+02:00"


def test_section_drops_home_crumb_and_trailing_title() -> None:
    assert example_result()["section"] == "World / Europe"


def test_mirror_url_gets_identity_on_the_primary() -> None:
    result = example_result()
    assert result["key"] == "example:7"
    assert result["site"] == "example"
    assert result["source_id"] == "7"
    assert result["canonical_url"] == "https://www.example.org/story/7/x"


def test_page_canonical_naming_the_same_story_is_moved_onto_the_primary() -> None:
    url = "https://www.presstv.co.uk/detail/2025/03/08/745312/Israel-mad-at-Tr"
    assert extract_article(REFERENCE_HTML, url, presstv())["canonical_url"] == URL


def test_page_canonical_naming_another_story_is_ignored() -> None:
    head = "<link rel='canonical' href='https://www.example.org/story/8/other'>"
    result = extract_article(page("<p>x</p>", head), "https://www.example.org/story/7/s", example())
    assert result["canonical_url"] == "https://www.example.org/story/7/s"


def test_without_profile_relative_canonical_is_made_absolute() -> None:
    head = "<link rel='Canonical' href='/a/1'>"
    result = extract_article(page("<p>x</p>", head), "https://news.example.com/a/1?utm_source=x")
    assert result["canonical_url"] == "https://news.example.com/a/1"


def test_cut_at_matches_whatever_quotes_and_case_the_page_uses() -> None:
    assert "Teaser that follows the cut" not in example_result()["body"]


# --- encodings ---------------------------------------------------------------------------


def test_windows_1252_bytes_decode_by_meta_charset() -> None:
    title = "Café – “naïve” ’s"
    html = page("", f"<meta charset='windows-1252'><meta property='og:title' content='{title}'>")
    assert extract_article(html.encode("cp1252"), "https://x.example/")["title"] == title


def test_utf8_bytes_with_bom_decode_without_a_declaration() -> None:
    html = page("", "<meta property='og:title' content='Ünïcödé ’quotes’'>")
    result = extract_article(b"\xef\xbb\xbf" + html.encode("utf-8"), "https://x.example/")
    assert result["title"] == "Ünïcödé ’quotes’"


def test_str_with_xml_encoding_declaration_parses() -> None:
    html = "<?xml version='1.0' encoding='iso-8859-1'?>" + page("", "<title>Été</title>")
    assert extract_article(html, "https://x.example/")["title"] == "Été"


# --- robustness --------------------------------------------------------------------------

rng = random.Random(20250308)
GARBAGE: list[str | bytes] = [
    "",
    b"",
    "   \n\t ",
    b"\x00\x00\x00",
    bytes(rng.randrange(256) for _ in range(4096)),
    "just some text, no markup at all",
    "<html",
    "<<<>>><p><p></div></span>",
    "<script type='application/ld+json'>{\"@type\": [[[[</script>",
    "\ud800 lone surrogate",
    page("<p>x</p>", "<meta property='article:published_time' content='yesterday-ish'>"),
]


@pytest.mark.parametrize("html", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_input_returns_nones_instead_of_raising(html: str | bytes) -> None:
    result = extract_article(html, "https://x.example/", presstv())
    assert result["published_at"] is None
    assert {"title", "body", "published_at", "extraction"} <= result.keys()


def test_huge_nesting_is_handled_quickly() -> None:
    html = "<div>" * 20000 + "deep text" + "</div>" * 20000
    started = time.perf_counter()
    extract_article(html, "https://x.example/", presstv())
    assert time.perf_counter() - started < 2.0


@settings(max_examples=25, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_any_input_never_raises(html: str | bytes) -> None:
    extract_article(html, "https://x.example/")


def test_extraction_is_deterministic() -> None:
    html = (PAGES / "generic-fallback" / "page.html").read_bytes()
    assert extract_article(html, URL, presstv()) == extract_article(html, URL, presstv())


def test_importing_and_running_extraction_never_imports_scrapy() -> None:
    code = (
        "import sys\n"
        "from crawler.extraction import extract_article\n"
        "extract_article('<html><body><p>Hello there.</p></body></html>', 'https://x.example/')\n"
        "loaded = [m for m in sys.modules if m == 'scrapy' or m.startswith('scrapy.')]\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT_REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(max_size=40),
    url=st.text(max_size=40),
    values=st.dictionaries(
        st.sampled_from(["headline", "datePublished", "author", "image", "keywords",
                         "articleSection", "inLanguage", "articleBody", "publisher"]),
        JSON_VALUES,
        max_size=6,
    ),
)  # fmt: skip
def test_hostile_field_values_never_raise(text: str, url: str, values: dict[str, Any]) -> None:
    ld = json.dumps({"@type": "NewsArticle", **values}).replace("</", "<\\/")
    quoted = text.replace("'", "&#39;")
    head = (
        f"<script type='application/ld+json'>{ld}</script>"
        f"<meta property='article:published_time' content='{quoted}'>"
        f"<meta property='og:image' content='{quoted}'><link rel='canonical' href='{quoted}'>"
    )
    body = (
        f"<div class='breadcrumb'><a href='{quoted}'>{text}</a></div>"
        f"<div class='news-date'>{text}</div><div class='news-body'><p>{text}</p><p>x</p></div>"
    )
    html = page(body, head, lang=quoted)
    # A body is always there, so trafilatura never runs and the test stays fast.
    extract_article(html, url, presstv())
    extract_article(html.encode("utf-8", "surrogatepass"), url, presstv())
