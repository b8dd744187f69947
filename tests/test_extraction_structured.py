"""Structured layers: JSON-LD as pages really write it, OpenGraph, <title>, breadcrumbs."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from crawler.extraction import extract_article, parse_html
from crawler.extraction.breadcrumbs import Crumb, section_from_crumbs
from crawler.extraction.jsonld import load_jsonld
from crawler.extraction.merge import LazyLayer
from crawler.extraction.structured import read_structured, strip_site_name
from crawler.extraction.values import normalize_language

URL = "https://news.example.com/world/2025/story"
ARTICLE = {"@type": "NewsArticle", "headline": "The headline", "datePublished": "2025-03-08"}


def structured(html: str) -> dict[str, LazyLayer]:
    tree = parse_html(html)
    assert tree is not None
    return read_structured(tree, URL, dt.UTC)


def ld(script: str) -> str:
    return f"<html><head><script type='application/ld+json'>{script}</script></head></html>"


@pytest.mark.parametrize(
    "script",
    [
        json.dumps(ARTICLE),
        '{"@type": "NewsArticle", "headline": "The headline", "datePublished": "2025-03-08",}',
        '{"@type": "NewsArticle", "headline": "The\theadline", "datePublished": "2025-03-08"}',
        "<!-- " + json.dumps(ARTICLE) + " -->",
        "//<![CDATA[\n" + json.dumps(ARTICLE) + "\n//]]>",
        json.dumps([{"@type": "Organization", "name": "Org"}, ARTICLE]),
        json.dumps({"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, ARTICLE]}),
        json.dumps({"@type": "WebPage", "mainEntity": ARTICLE}),
        json.dumps({**ARTICLE, "@type": "ReportageNewsArticle"}),
        json.dumps({**ARTICLE, "@type": "BlogPosting"}),
        json.dumps({**ARTICLE, "@type": ["Article", "NewsArticle"]}),
        json.dumps({**ARTICLE, "@type": "http://schema.org/NewsArticle"}),
    ],
    ids=[
        "plain", "trailing-comma", "control-char", "html-comment", "cdata", "list", "graph",
        "main-entity", "reportage", "blogposting", "type-list", "type-iri",
    ],
)  # fmt: skip
def test_jsonld_article_is_found_however_it_is_written(script: str) -> None:
    layer = structured(ld(script))["jsonld"]
    assert layer["title"] == "The headline"
    assert layer["published_at"] == "2025-03-08T00:00:00+00:00"


@pytest.mark.parametrize("text", ["{not json", "[[[[", "", '"just a string"', "null"])
def test_unreadable_jsonld_is_ignored(text: str) -> None:
    assert not any(structured(ld(text))["jsonld"].values())


def test_deeply_nested_jsonld_does_not_raise() -> None:
    assert load_jsonld("[" * 100_000 + "]" * 100_000) is None
    assert not any(structured(ld("[" * 100_000 + "]" * 100_000))["jsonld"].values())


def test_jsonld_references_by_id_are_followed() -> None:
    graph = {
        "@graph": [
            {
                **ARTICLE,
                "author": [{"@id": "#ann"}, {"@type": "Person", "name": "Bo"}],
                "image": {"@id": "#img"},
                "keywords": "Iran, Gaza ,  ,Iran",
                "inLanguage": "en_gb",
                "publisher": {"@id": "#org"},
            },
            {"@type": "Person", "@id": "#ann", "name": "Ann"},
            {"@type": "ImageObject", "@id": "#img", "url": "/i.jpg", "caption": "Cap &amp; more"},
            {"@type": "Organization", "@id": "#org", "name": "Example News"},
        ]
    }
    layer = structured(ld(json.dumps(graph)))["jsonld"]
    assert layer["authors"] == ["Ann", "Bo"]
    assert layer["image_url"] == "https://news.example.com/i.jpg"
    assert layer["image_caption"] == "Cap & more"
    assert layer["tags"] == ["Iran", "Gaza"]
    assert layer["language"] == "en-GB"
    assert layer["site_name"] == "Example News"


def test_breadcrumblist_gives_section_in_position_order() -> None:
    crumbs = {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"position": 3, "name": "Europe", "item": "https://news.example.com/world/europe"},
            {"position": 1, "name": "Home", "item": "https://news.example.com/"},
            {"position": 2, "item": {"@id": "https://news.example.com/world", "name": "World"}},
        ],
    }
    html = ld(json.dumps(crumbs)) + "<div class='breadcrumb'><a href='/'>Home</a><a>Other</a></div>"
    assert extract_article(html, URL)["section"] == "World / Europe"


def test_breadcrumb_markup_gives_section_without_profile() -> None:
    html = (
        "<nav aria-label='Breadcrumb'><ol><li><a href='/'>Start</a></li>"
        "<li><a href='/sport'>Sport</a></li><li>The headline</li></ol></nav><h1>The headline</h1>"
        "<meta property='og:title' content='The headline'>"
    )
    assert extract_article(html, URL)["section"] == "Sport"


def test_region_whose_class_mentions_breadcrumb_is_not_a_trail() -> None:
    html = "<article class='content url-breadcrumb'><a href='/x'>Share</a><p>Text</p></article>"
    assert structured(html)["breadcrumb"]["section"] == []


@pytest.mark.parametrize(
    ("crumbs", "expected"),
    [
        ([Crumb("News", "/"), Crumb("Palestine"), Crumb("Foreign Policy")], "Palestine / Foreign Policy"),
        ([Crumb("HOME"), Crumb("Palestine")], "Palestine"),
        ([Crumb("Front", "https://x.example/"), Crumb("Iran")], "Iran"),
        ([Crumb("Iran"), Crumb("Talks")], "Iran / Talks"),
        ([Crumb("Home"), Crumb("Iran"), Crumb("The  headline")], "Iran"),
        ([Crumb("Home")], None),
    ],
)  # fmt: skip
def test_section_is_the_path_below_home_without_the_title(
    crumbs: list[Crumb], expected: str | None
) -> None:
    assert section_from_crumbs(crumbs, ["News", "Home"], ["The headline"]) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Israel mad at Trump: Report | Press TV", "Israel mad at Trump: Report"),
        ("Headline - PressTV", "Headline"),
        ("Press TV | Headline", "Headline"),
        ("Long headline about many things | World", "Long headline about many things"),
        ("Trump - the man and the myth", "Trump - the man and the myth"),
        ("Just a headline", "Just a headline"),
    ],
)
def test_title_tag_loses_the_site_name(title: str, expected: str) -> None:
    assert strip_site_name(title, ["Press TV"]) == expected


def test_title_falls_back_to_the_title_tag_without_site_suffix() -> None:
    html = "<html><head><title>A story – Example News</title>"
    html += "<meta property='og:site_name' content='Example News'></head></html>"
    result = extract_article(html, URL)
    assert result["title"] == "A story"
    assert result["field_sources"]["title"] == "html"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("en", "en"), ("EN-us", "en-US"), ("fa_IR", "fa-IR"), ("zh-Hant-TW", "zh-Hant-TW"),
     ("", None), ("english please", None), (None, None)],
)  # fmt: skip
def test_language_tags_are_normalised(value: str | None, expected: str | None) -> None:
    assert normalize_language(value) == expected


def test_opengraph_and_meta_fill_fields_without_jsonld() -> None:
    head = """
      <meta property="og:title" content="OG title">
      <meta property="og:description" content="OG lead">
      <meta property="og:image" content="//cdn.example.com/a.jpg">
      <meta property="og:locale" content="fa_IR">
      <meta property="article:published_time" content="2025-03-08T10:21:47+03:30">
      <meta property="article:modified_time" content="2025-03-09T08:00:00+03:30">
      <meta property="article:section" content="Iran">
      <meta property="article:tag" content="Tehran"><meta property="article:tag" content="Oil">
      <meta property="article:author" content="https://facebook.com/someone">
      <meta name="author" content="By Ann Author">
    """
    result = extract_article(f"<html><head>{head}</head></html>", URL)
    assert result["title"] == "OG title"
    assert result["lead"] == "OG lead"
    assert result["image_url"] == "https://cdn.example.com/a.jpg"
    assert result["language"] == "fa-IR"
    assert result["modified_at"] == "2025-03-09T08:00:00+03:30"
    assert result["section"] == "Iran"
    assert result["tags"] == ["Tehran", "Oil"]
    assert result["authors"] == ["Ann Author"]
    assert result["field_sources"]["authors"] == "meta"


def test_itemprop_dates_count_when_nothing_richer_is_there() -> None:
    html = (
        "<article><time itemprop='datePublished' datetime='2025-03-08T10:21:47+03:30'>8 March"
        "</time><span itemprop='dateModified' content='2025-03-09'></span></article>"
    )
    result = extract_article(html, URL)
    assert result["published_at"] == "2025-03-08T10:21:47+03:30"
    assert result["modified_at"] == "2025-03-09T00:00:00+00:00"
    assert result["field_sources"]["published_at"] == "meta"


def test_articlebody_written_as_html_gives_paragraphs() -> None:
    paragraphs = [f"Paragraph {i} says something. It goes on a little longer." for i in range(6)]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    layer = structured(ld(json.dumps({**ARTICLE, "articleBody": body})))["jsonld"]
    assert layer["body"] == paragraphs
