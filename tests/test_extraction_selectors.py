"""The profile layer: selector syntax, the tuned CSS translation, boilerplate selectors."""

from __future__ import annotations

import functools

import pytest
from lxml import etree
from parsel.csstranslator import HTMLTranslator

from crawler.extraction import extract_article, parse_html
from crawler.extraction.selectors import css_to_xpath, profile_only_selectors, select
from crawler.profiles import SiteProfile, load_profile, parse_profile

PAGE = """<html><body>
<div class="news-body main"><p class="x">One</p><p>Two</p>
  <div class="news-body-extra">Not the body</div></div>
<article><div class="body"><span itemprop="articleBody">Three</span></div></article>
<ul class="tags"><li><a class="tag">A</a></li><li><a>B</a></li></ul>
<div class="breadcrumb"><a href="/">Home</a><a href="/x">X</a></div>
<h1 class="news-title big">Title</h1>
</body></html>"""


@functools.cache
def tree() -> etree._Element:
    parsed = parse_html(PAGE)
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    "selector",
    [
        ".news-body",
        ".news-body p",
        ".tags a::text",
        ".breadcrumb a::attr(href)",
        "[itemprop='articleBody']",
        "article .body",
        "h1.news-title",
        ".news-body.main",
        ".tags li:first-child a",
        ".missing",
    ],
)
def test_tuned_css_translation_selects_what_parsel_selects(selector: str) -> None:
    ours = etree.XPath(css_to_xpath(selector))(tree())
    parsels = etree.XPath(HTMLTranslator().css_to_xpath(selector))(tree())
    assert ours == parsels


def test_xpath_selectors_may_return_a_string() -> None:
    assert select(tree(), "xpath:normalize-space(//h1)") == ["Title"]


@pytest.mark.parametrize("selector", ["xpath://*[", "div[", "::nonsense"])
def test_selector_that_does_not_compile_selects_nothing(selector: str) -> None:
    assert select(tree(), selector) == []


def test_boilerplate_selectors_already_covered_by_generic_rules_are_not_rerun() -> None:
    selectors = load_profile("presstv").boilerplate.selectors
    assert profile_only_selectors(selectors) == (".alt-addresses", ".news-tags", ".tags")


@functools.cache
def text_body_profile() -> SiteProfile:
    return parse_profile(
        """
name = "textbody"
[hosts]
primary = "www.example.org"
[article]
pattern = '^/a/(?P<id>\\d+)$'
canonical = "/a/{id}"
[selectors]
body = [".missing", ".news-body p::text"]
"""
    )


def test_text_body_selector_gives_one_paragraph_per_string() -> None:
    result = extract_article(PAGE, "https://www.example.org/a/1", text_body_profile())
    assert result["body"] == "One\n\nTwo"
    assert result["extraction"] == "profile"
