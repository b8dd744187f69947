"""Property fuzzing: extraction, URL identity and the feed/sitemap parsers never raise and never
hang, whatever bytes or text they are given."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import urls
from crawler.extraction import extract_article
from crawler.feeds import parse_feed, parse_sitemap, robots_sitemaps
from crawler.profiles import load_profile
from crawler.reading import LinkBook, read_story_page
from tests.faults.conftest import Tally

PROFILE = load_profile("presstv")
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
TAGS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "<h1>",
        "<script>",
        "<![CDATA[",
        "<!--",
        "&amp;",
        "<item>",
        "<loc>",
        "<url>",
        "<?xml version='1.0'?>",
        "<!DOCTYPE x [",
        "\0",
    ]
)
MARKUP = st.lists(st.one_of(TAGS, st.text(max_size=40)), max_size=60).map("".join)
URLS = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda host, path: f"https://{host}{path}",
        st.sampled_from(["www.presstv.ir", "presstv.co.uk", "WWW.PRESSTV.TV.", "x"]),
        st.text(alphabet="/Detail0123456789%?#&=-_.~aZ ", max_size=80),
    ),
)


@FUZZ
@given(page=st.one_of(MARKUP, st.binary(max_size=2000)), url=URLS)
def test_extract_article_never_raises(page: str | bytes, url: str) -> None:
    result = extract_article(page, "https://www.presstv.ir/Detail/2026/01/01/1/x", PROFILE)
    assert "extraction" in result
    extract_article(page, url if url.startswith("http") else "https://x/", None)


@FUZZ
@given(url=URLS)
def test_url_identity_never_raises(url: str) -> None:
    urls.to_profile_url(url, PROFILE)
    urls.article_ref(url, PROFILE)
    urls.canonical_url(url, PROFILE)
    urls.page_type(url, PROFILE)
    urls.url_host(url)


@FUZZ
@given(body=st.one_of(MARKUP.map(str.encode), st.binary(max_size=2000)))
def test_feed_and_sitemap_parsers_never_raise(body: bytes) -> None:
    parse_feed(body)
    parse_sitemap(body)
    robots_sitemaps(body.decode("utf-8", "replace"))


def test_control_characters_after_removed_boilerplate_never_raise() -> None:
    # Found by atheris: lxml refuses a C0 control in a tail joined onto the previous element.
    page = (
        '<html><body><article><h1>T</h1><div class="share">s</div>\x01after\x0bit'
        f"<p>{'Words here. ' * 40}</p></article></body></html>"
    )
    result = extract_article(page, "https://www.presstv.ir/Detail/2026/01/01/1/x", PROFILE)
    assert "after it" in (result["body"] or "")


HREFS = st.one_of(
    URLS,
    st.builds(
        lambda host, path: f"https://{host}/Detail/2026/01/01/{path}",
        st.sampled_from(["[bad", "[::1", "cdn.example.org", "x:y:z", "presstv.ir:99999"]),
        st.text(max_size=20),
    ),
)


@FUZZ
@given(hrefs=st.lists(HREFS, max_size=12), markup=MARKUP)
def test_story_page_reading_never_raises(hrefs: list[str], markup: str) -> None:
    links = "".join(f'<a href="{href}">link</a>' for href in hrefs)
    page = f"<html><body><article><h1>T</h1>{markup}<p>{links}</p></article></body></html>"
    url = "https://www.presstv.ir/Detail/2026/01/01/1/x"
    read_story_page(page, url, "presstv:1", LinkBook(PROFILE))


def test_a_broken_link_spoils_no_story_page() -> None:
    # A link to a broken IPv6 address made reading the page raise (urlsplit's ValueError),
    # so the story it carried was not stored.
    links = (
        '<a href="https://[bad/Detail/2026/01/01/7/x">a</a>'
        '<a href="https://cdn.example.org/Detail/2026/01/01/7/x">b</a>'
    )
    page = f"<html><body><article><h1>T</h1><p>{'Words. ' * 50}{links}</p></article></body></html>"
    url = "https://www.presstv.ir/Detail/2026/01/01/1/x"
    read = read_story_page(page, url, "presstv:1", LinkBook(PROFILE))
    assert read.serving_hosts == {
        "cdn.example.org": "https://cdn.example.org/Detail/2026/01/01/7/x"
    }


def test_fuzz_examples_are_tallied(trials: Tally) -> None:
    trials.extra_trials = trials.extra_passed = 4 * FUZZ.max_examples
