"""Text clean-up: block paragraphs, boilerplate by tag and class token, paragraph rules."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from lxml import html as lxml_html

from crawler.extraction.clean import (
    block_paragraphs,
    finish_paragraphs,
    fold_text,
    is_boilerplate_element,
    normalize_text,
)
from crawler.profiles import Boilerplate


def fragment(markup: str) -> etree._Element:
    root: etree._Element = lxml_html.fragment_fromstring(markup, create_parent="div")
    return root


def test_normalize_text_collapses_whitespace_nbsp_and_invisible_characters() -> None:
    assert normalize_text(" a\u00a0 b\n\tc\u200bd\ufeff \u2009e ") == "a b cd e"


def test_normalize_text_keeps_zero_width_non_joiner_of_persian_words() -> None:
    assert normalize_text("می\u200cخواهم") == "می\u200cخواهم"


def test_fold_text_ignores_case_spacing_and_quote_style() -> None:
    assert fold_text("Press  TV’s “site”") == fold_text('press tv\'s "SITE"')


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>One <b>bold</b> <a>link</a>.</p><p>Two</p>", ["One bold link.", "Two"]),
        ("<div>Direct <span>text</span><p>Inner</p>tail text</div>", ["Direct text", "Inner", "tail text"]),
        ("<p>Line one<br>Line two<br/><br/>Line three</p>", ["Line one", "Line two", "Line three"]),
        ("<ul><li>A</li><li>B <em>b</em></li></ul><h2>Sub</h2>", ["A", "B b", "Sub"]),
        ("<blockquote><p>Quote</p></blockquote><pre>a\n  b</pre>", ["Quote", "a b"]),
        ("<table><tr><td>c1</td><td>c2</td></tr></table>", ["c1 c2"]),
        ("<p>x<script>var a=1;</script>y<style>p{}</style></p>", ["xy"]),
        ("<p>  </p><p>\u00a0</p>", []),
    ],
)  # fmt: skip
def test_block_paragraphs_give_clean_paragraphs(markup: str, expected: list[str]) -> None:
    assert block_paragraphs(fragment(markup)) == expected


def test_block_paragraphs_survive_nesting_deeper_than_the_recursion_limit() -> None:
    root = element = etree.Element("div")
    for _ in range(5000):
        element = etree.SubElement(element, "span")
    element.text = "deep"
    assert block_paragraphs(root) == ["deep"]


@pytest.mark.parametrize(
    ("markup", "removed"),
    [
        ("<div class='share-box'/>", True),
        ("<div class='post social_links'/>", True),
        ("<div id='related-stories'/>", True),
        ("<div class='Breadcrumbs'/>", True),
        ("<section class='newsletter'/>", True),
        ("<div class='ad advert'/>", True),
        ("<div class='promo'/>", True),
        ("<figure/>", True),
        ("<aside/>", True),
        ("<div class='shareholder-report'/>", False),
        ("<div class='relatedness'/>", False),
        ("<div class='advertiser-story'/>", False),
        ("<p class='lead'/>", False),
    ],
)
def test_generic_boilerplate_matches_whole_class_tokens_only(markup: str, removed: bool) -> None:
    assert is_boilerplate_element(lxml_html.fragment_fromstring(markup)) is removed


def test_skipped_boilerplate_keeps_the_text_after_it() -> None:
    container = fragment("<p>Before<span class='share'>Share</span> after.</p><aside>x</aside>z")
    assert block_paragraphs(container, skip=is_boilerplate_element) == ["Before after.", "z"]


BOILERPLATE = Boilerplate(
    cut_at=("Press TV’s website can also be accessed",),
    drop=(re.compile(r"^share this article$", re.IGNORECASE),),
)


def test_cut_at_ends_the_body_whatever_the_quotes_and_case() -> None:
    paragraphs = ["Story.", "PRESS TV'S  website can also be accessed at:", "www.presstv.ir"]
    assert finish_paragraphs(paragraphs, BOILERPLATE) == ["Story."]


def test_drop_patterns_caption_and_repeated_headline_are_removed() -> None:
    paragraphs = ["The Headline", "Story.", "Share this article", "A caption.", "More."]
    result = finish_paragraphs(
        paragraphs, BOILERPLATE, caption="A  caption.", titles=["The headline"]
    )
    assert result == ["Story.", "More."]
