"""URL identity: every spelling of a Press TV story names one key and one canonical URL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crawler.profiles import load_profile
from crawler.urls import (
    _clean,
    article_ref,
    canonical_url,
    clean_url,
    is_tracking_param,
    page_type,
    read_link,
    story_key,
    to_profile_url,
    url_host,
)

PROFILE = load_profile("presstv")
PRIMARY = "https://www.presstv.ir"
ARTICLE_PATH = "/Detail/2025/03/08/745312/Israel-mad-at-Trump-administration"
ARTICLE = PRIMARY + ARTICLE_PATH
TRACKING_PAIRS = (
    "utm_source=tw",
    "utm_medium=",
    "UTM_Campaign=x",
    "fbclid=IwAR0",
    "gclid=1",
    "msclkid",
)
_BAD_ESCAPE_RE = re.compile(r"%(?![0-9A-F]{2})")


# --- generating spellings of one story -------------------------------------------------------


@dataclass(frozen=True)
class Story:
    """What a story URL must say: its date and id, and the slug text (None: no slug segment)."""

    year: int
    month: int
    day: int
    id: int
    slug: str | None

    @property
    def key(self) -> str:
        return f"presstv:{self.id}"

    @property
    def canonical_prefix(self) -> str:
        return f"{PRIMARY}/Detail/{self.year}/{self.month:02d}/{self.day:02d}/{self.id}"


# Words from real headlines; from_regex would be ten times slower to generate.
_WORDS = [
    "Israel",
    "mad",
    "at",
    "Trump",
    "administration",
    "US",
    "Hamas",
    "talks",
    "Report",
    "2025",
    "UN",
]
ascii_slugs = st.builds(
    lambda words, dash: "-".join(words) + dash,
    st.lists(st.sampled_from(_WORDS), min_size=1, max_size=9),
    st.sampled_from(["", "-"]),
)
# Anything a slug may hold once decoded, except '/' (a new segment), '\' (browsers and w3lib
# read it as '/'), controls (stripped from URLs) and the dot segments '.' and '..'.
free_slugs = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
    min_size=1,
    max_size=30,
).filter(lambda s: s not in (".", ".."))
truncated_slugs = st.builds(lambda slug, cut: slug[:cut], ascii_slugs, st.integers(1, 60))
slugs = st.none() | st.just("") | ascii_slugs | truncated_slugs | free_slugs
stories = st.builds(
    Story,
    year=st.integers(1996, 2030),
    month=st.integers(1, 12),
    day=st.integers(1, 28),
    id=st.integers(1, 10**7),
    slug=slugs,
)

# A slug character that must be escaped for the URL to keep its meaning.
_MUST_ESCAPE = set("%?#/ ")


def _escape(char: str, upper: bool) -> str:
    escaped = quote(char, safe="")
    if escaped == char:  # quote leaves unreserved characters alone
        escaped = "".join(f"%{b:02X}" for b in char.encode())
    return escaped if upper else escaped.lower()


def _bits(mask: int, count: int) -> list[bool]:
    return [bool(mask >> i & 1) for i in range(count)]


@st.composite
def encodings(draw: st.DrawFn, text: str) -> str:
    """`text` with any of its characters percent-encoded, in either hex case."""
    # Two bitmasks instead of two draws per character keep generation fast.
    escape = _bits(draw(st.integers(0, 2 ** len(text) - 1)), len(text))
    upper = _bits(draw(st.integers(0, 2 ** len(text) - 1)), len(text))
    return "".join(
        _escape(c, up) if c in _MUST_ESCAPE or esc else c
        for c, esc, up in zip(text, escape, upper, strict=True)
    )


@st.composite
def host_spellings(draw: st.DrawFn) -> str:
    host = draw(st.sampled_from(PROFILE.hosts)).removeprefix("www.")
    if draw(st.booleans()):
        host = "www." + host
    flips = _bits(draw(st.integers(0, 2 ** len(host) - 1)), len(host))
    return "".join(c.upper() if flip else c for c, flip in zip(host, flips, strict=True))


@st.composite
def spellings(draw: st.DrawFn, story: Story) -> str:
    """One URL for the story: any host, scheme, case, padding, encoding, tracking, fragment."""
    scheme = draw(st.sampled_from(["http", "https", "HTTPS"]))
    detail = draw(st.sampled_from(["Detail", "detail", "DETAIL", "dEtAiL"]))
    month = f"{story.month:02d}" if draw(st.booleans()) else str(story.month)
    day = f"{story.day:02d}" if draw(st.booleans()) else str(story.day)
    story_id = "0" * draw(st.integers(0, 3)) + str(story.id)
    path = "/" + "/".join(
        draw(encodings(s)) for s in (detail, str(story.year), month, day, story_id)
    )
    if story.slug is not None:
        path += "/" + draw(encodings(story.slug))
    if draw(st.booleans()):
        path += "/"
    params = draw(st.lists(st.sampled_from(TRACKING_PAIRS), max_size=3))
    query = "?" + "&".join(params) if params else ""
    fragment = draw(st.sampled_from(["", "#", "#top", "#comments?x=1"]))
    return f"{scheme}://{draw(host_spellings())}{path}{query}{fragment}"


story_spellings = stories.flatmap(lambda s: st.tuples(st.just(s), spellings(s)))
story_spelling_pairs = stories.flatmap(lambda s: st.tuples(st.just(s), spellings(s), spellings(s)))


# --- properties of story identity ------------------------------------------------------------


@given(story_spellings)
def test_every_spelling_shares_story_key(case: tuple[Story, str]) -> None:
    story, url = case
    assert story_key(url, PROFILE) == story.key


@given(story_spellings)
def test_canonical_url_is_a_clean_url_on_primary_host(case: tuple[Story, str]) -> None:
    story, url = case
    canonical = canonical_url(url, PROFILE)
    assert canonical is not None
    assert canonical.startswith(story.canonical_prefix)
    parts = urlsplit(canonical)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == (
        "https",
        "www.presstv.ir",
        "",
        "",
    )
    # Plain ASCII with valid escapes, and a fixed point of every identity function.
    assert canonical.isascii()
    assert canonical.isprintable()
    assert not _BAD_ESCAPE_RE.search(canonical)
    assert canonical_url(canonical, PROFILE) == canonical
    assert clean_url(canonical) == canonical
    assert story_key(canonical, PROFILE) == story.key
    assert to_profile_url(canonical, PROFILE) == canonical


@given(story_spelling_pairs)
@example(  # w3lib 2.6 drops a path's last ";" (empty parameters); "%3b" spells it
    (
        Story(1996, 1, 1, 1, "00000;"),
        "http://presstv.ir/Detail/1996/1/1/1/00000;",
        "http://presstv.ir/Detail/1996/1/1/1/00000%3b",
    )
)
def test_spellings_of_one_slug_share_canonical_url(case: tuple[Story, str, str]) -> None:
    _, one, other = case
    assert canonical_url(one, PROFILE) == canonical_url(other, PROFILE)


@given(stories, free_slugs | ascii_slugs)
def test_any_slug_shares_story_key(story: Story, other_slug: str) -> None:
    path = f"/Detail/{story.year}/{story.month:02d}/{story.day:02d}/{story.id}"
    with_slug = f"{PRIMARY}{path}/{quote(other_slug)}"
    without_slug = f"{PRIMARY}{path}"
    assert story_key(with_slug, PROFILE) == story_key(without_slug, PROFILE) == story.key


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (ARTICLE, ARTICLE),
        (
            "http://presstv.co.uk/detail/2025/3/8/0745312/Israel-mad-at-Trump-administration/",
            ARTICLE,
        ),
        (
            "https://WWW.PRESSTV.TV/Detail/2025/03/08/745312/Israel-mad-at-Trump-administration#x",
            ARTICLE,
        ),
        (
            "https://www.presstv.com/Detail/2025/03/08/745312/Israel-mad-at-Trump-administration",
            ARTICLE,
        ),
        ("https://www.presstv.ir:443" + ARTICLE_PATH + "?utm_source=tw&fbclid=abc", ARTICLE),
        ("https://www.presstv.ir." + ARTICLE_PATH, ARTICLE),
        ("https://www.presstv.ir/Detail/2025/03/08/745312", f"{PRIMARY}/Detail/2025/03/08/745312"),
        ("https://www.presstv.ir/Detail/2025/03/08/745312/", f"{PRIMARY}/Detail/2025/03/08/745312"),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/Israel-mad-",
            f"{ARTICLE.rsplit('/', 1)[0]}/Israel-mad-",
        ),
        # Relative links resolve against the page; a scheme-relative one keeps its host.
        (ARTICLE_PATH, ARTICLE),
        ("//presstv.tv" + ARTICLE_PATH, ARTICLE),
        # Percent-encoding: hex case, escaped unreserved characters, non-ASCII, stray '%'.
        (
            "https://www.presstv.ir/%44etail/2025/03/08/%37%34%35312/Israel-mad-at-Trump-administration",
            ARTICLE,
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/Iran’s-reply",
            f"{PRIMARY}/Detail/2025/03/08/745312/Iran%E2%80%99s-reply",
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/Iran%e2%80%99s-reply",
            f"{PRIMARY}/Detail/2025/03/08/745312/Iran%E2%80%99s-reply",
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/100%-sure",
            f"{PRIMARY}/Detail/2025/03/08/745312/100%25-sure",
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/a;b",
            f"{PRIMARY}/Detail/2025/03/08/745312/a%3Bb",
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/a%3bb",
            f"{PRIMARY}/Detail/2025/03/08/745312/a%3Bb",
        ),
        # Bytes that are not UTF-8 are kept, not replaced with U+FFFD.
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/caf%e9",
            f"{PRIMARY}/Detail/2025/03/08/745312/caf%E9",
        ),
        # Dot segments are resolved as a browser would before the path is read.
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/x/../Israel-mad-at-Trump-administration",
            ARTICLE,
        ),
        (
            "https://www.presstv.ir/Detail/2025/03/08/745312/.",
            f"{PRIMARY}/Detail/2025/03/08/745312",
        ),
    ],
)
def test_spelling_has_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url, PROFILE) == canonical
    assert story_key(url, PROFILE) == "presstv:745312"


def test_article_ref_reads_date_and_id() -> None:
    ref = article_ref("https://www.presstv.tv/Detail/2025/3/8/0745312/x", PROFILE)
    assert ref is not None
    assert (ref.key, ref.source_id) == ("presstv:745312", "745312")
    assert ref.date is not None
    assert ref.date.isoformat() == "2025-03-08"


def test_impossible_date_keeps_key_without_date() -> None:
    ref = article_ref(f"{PRIMARY}/Detail/2025/13/40/745312/x", PROFILE)
    assert ref is not None
    assert ref.key == "presstv:745312"
    assert ref.date is None


# --- what never gets a key -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://presstv.ir.evil.com" + ARTICLE_PATH,
        "https://www.presstv.ir.evil.com" + ARTICLE_PATH,
        "https://evilpresstv.ir" + ARTICLE_PATH,
        "https://www.presstv.irr" + ARTICLE_PATH,
        "https://wwww.presstv.ir" + ARTICLE_PATH,
        "https://m.presstv.ir" + ARTICLE_PATH,
        "https://french.presstv.ir" + ARTICLE_PATH,  # a separate site, not a mirror
        "https://www.presstv.ir@evil.com" + ARTICLE_PATH,
        "https://www.presstv.ir:443@evil.com" + ARTICLE_PATH,
        # Browsers, w3lib and so Scrapy read '\' as '/': this URL is on evil.com.
        "https://evil.com\\@www.presstv.ir" + ARTICLE_PATH,
        "https://evil.com\\.www.presstv.ir" + ARTICLE_PATH,
        "ftp://www.presstv.ir" + ARTICLE_PATH,
        "javascript://www.presstv.ir" + ARTICLE_PATH,
        # No host after the scheme: a browser would take 'detail' for the host.
        "http:" + ARTICLE_PATH,
    ],
)
def test_foreign_hosts_get_no_key(url: str) -> None:
    assert story_key(url, PROFILE) is None
    assert canonical_url(url, PROFILE) is None
    assert to_profile_url(url, PROFILE) is None
    assert page_type(url, PROFILE) == "other"


look_alike_hosts = st.builds(
    lambda before, host, after: before + host.removeprefix("www.") + after,
    st.sampled_from(["", "www.", "evil", "evil-", "www2.", "m.", "www.evil.", "wwww."]),
    st.sampled_from(PROFILE.hosts),
    st.sampled_from(["", ".evil.com", "r", "-cdn.net", ".", ".co", ".ir.evil.com"]),
).filter(lambda host: PROFILE.resolve_host(host) is None)


@given(look_alike_hosts)
def test_look_alike_hosts_get_no_key(host: str) -> None:
    assert story_key(f"https://{host}{ARTICLE_PATH}", PROFILE) is None
    assert url_host(f"https://{host}{ARTICLE_PATH}") == host.lower()


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/Section/10101",
        "/rss.xml",
        "/rss/rss-10101.xml",
        "/robots.txt",
        "/Detail/",
        "/Detail/2025/03/08/",
        "/Detail/2025/03/08/abc/slug",
        "/Detail/2025/03/08/745312x",
        "/Detail/25/03/08/745312",
        "/Detail/2025/03/08/745312/slug/extra",
        "/Detail/2025/03/08/745312/..",
        "/Detail/2025/03/08/745312/%2e%2E",
        "/News/745312",
        "/Detail/2025/03/08/%D9%A7%D9%A4%D9%A5/x",  # Arabic-Indic digits are not an id
        "/Detail/2025/03/08/٧٤٥/x",
        "/Detail/2025/03/08/745312%2Fslug",
    ],
)
def test_non_article_paths_get_no_key(path: str) -> None:
    assert story_key(PRIMARY + path, PROFILE) is None
    assert canonical_url(PRIMARY + path, PROFILE) is None


@given(st.text(max_size=80))
@example("http://[::1/x")
@example("https://www.presstv.ir:99999" + ARTICLE_PATH)
@example("https://www.presstv.ir/\ud800")
@example("https://[::1]/Detail/2025/03/08/745312/x")
def test_identity_functions_never_raise(text: str) -> None:
    for candidate in (text, PRIMARY + "/" + text, f"{PRIMARY}/Detail/2025/03/08/745312/{text}"):
        story_key(candidate, PROFILE)
        canonical_url(candidate, PROFILE)
        to_profile_url(candidate, PROFILE)
        assert page_type(candidate, PROFILE) in {
            "article",
            "home",
            "listing",
            "feed",
            "sitemap",
            "robots",
            "other",
        }
        assert isinstance(url_host(candidate), str)


# --- clean_url ---------------------------------------------------------------------------------

netlocs = (
    host_spellings()
    | st.text(max_size=20)
    | st.sampled_from(
        ["[::1]:80", "u:p@www.presstv.ir", "ä.com", "xn--4ca.com:443", "a..b", "H.COM.", "%41.com"]
    )
)
url_texts = st.builds(
    lambda scheme, netloc, path, query, fragment: f"{scheme}://{netloc}/{path}?{query}#{fragment}",
    st.sampled_from(["http", "https", "HTTP", "ftp", ""]),
    netlocs,
    st.text(max_size=30),
    st.text(max_size=30),
    st.text(max_size=10),
)


@given(url_texts | story_spellings.map(lambda case: case[1]) | st.text(max_size=40))
@example("http:////?#")
def test_clean_url_is_idempotent(url: str) -> None:
    try:
        cleaned = clean_url(url)
    except ValueError:
        return  # not a URL; test_clean_url_rejects_unparseable_urls covers these
    assert clean_url(cleaned) == cleaned


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/x", "Invalid IPv6 URL"),
        (f"{PRIMARY}:99999/x", "Port out of range"),
        ("http:///", "no host"),
        ("file:///etc/hosts", "no host"),
    ],
)
def test_clean_url_rejects_unparseable_urls(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        clean_url(url)


def test_missing_slashes_after_a_special_scheme_are_read_as_browsers_read_them() -> None:
    # The WHATWG URL standard (browsers, and w3lib since 2.6, so Scrapy) reads "https:/x" as
    # https://x/: the link names host x, the request Scrapy would send goes there.
    assert clean_url("https:/x") == "https://x/"


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("UTM_Campaign", True),
        ("fbclid", True),
        ("gclid", True),
        ("mc_eid", True),
        ("utmost", False),
        ("page", False),
        ("id", False),
        ("ref", False),
    ],
)
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


MEANINGFUL_PARAMS = ("page=2", "id=745312", "p=3", "q=iran")


@given(st.lists(st.sampled_from(TRACKING_PAIRS + MEANINGFUL_PARAMS), max_size=8))
def test_clean_url_drops_tracking_params_and_keeps_the_rest(params: list[str]) -> None:
    query = urlsplit(clean_url(f"{PRIMARY}/Section/10101?{'&'.join(params)}")).query
    kept = [pair for pair in query.split("&") if pair]
    assert kept == sorted(p for p in params if p in MEANINGFUL_PARAMS)


@pytest.mark.parametrize(
    "name",
    [
        "utm_source",
        "utm_content",
        "UTM_MEDIUM",
        "fbclid",
        "gclid",
        "msclkid",
        "_ga",
        "mc_eid",
        "utm%5Fterm",
    ],
)
def test_tracking_params_are_removed(name: str) -> None:
    assert (
        clean_url(f"{PRIMARY}/Section/10101?page=2&{name}=x") == f"{PRIMARY}/Section/10101?page=2"
    )


@pytest.mark.parametrize(
    "query", ["page=2", "id=745312", "p=3", "q=iran+talks", "utmost=1", "ref=home", "lang=fa"]
)
def test_meaningful_params_are_kept(query: str) -> None:
    assert urlsplit(clean_url(f"{PRIMARY}/Section/10101?{query}&utm_source=x")).query == query


@pytest.mark.parametrize(
    ("url", "cleaned"),
    [
        ("HTTPS://WWW.PressTV.IR/Section/10101#top", f"{PRIMARY}/Section/10101"),
        (f"{PRIMARY}/Section/10101?page=2&id=5", f"{PRIMARY}/Section/10101?id=5&page=2"),
        ("http://www.presstv.ir:80/rss.xml", "http://www.presstv.ir/rss.xml"),
        (f"{PRIMARY}:8443/rss.xml", f"{PRIMARY}:8443/rss.xml"),
        (f"  {PRIMARY}/a b\n", f"{PRIMARY}/a%20b"),
        (f"{PRIMARY}/a/./b/../c", f"{PRIMARY}/a/c"),
        (f"{PRIMARY}/%7e%41", f"{PRIMARY}/~A"),
        (f"{PRIMARY}?utm_source=x", f"{PRIMARY}/"),
    ],
)
def test_clean_url_spelling(url: str, cleaned: str) -> None:
    assert clean_url(url) == cleaned


# Links as pages write them: plain paths, dots, escapes, a trailing slash, tracking and
# meaningful parameters in any mix, fragments.
_link_segments = st.lists(
    st.sampled_from(["Detail", "a.b", "..", ".", "x~y", "A-B_c", "%41", "a%2Fb", "é", ""]),
    max_size=4,
)
_link_params = st.lists(
    st.sampled_from([*TRACKING_PAIRS, *MEANINGFUL_PARAMS, "utm%5Fterm=1", "utm_source", ""]),
    max_size=3,
)
link_texts = st.builds(
    lambda scheme, host, segments, slash, params, question, fragment: (
        f"{scheme}://{host}{'/' if segments or slash else ''}{'/'.join(segments)}"
        f"{'/' if slash and segments else ''}{'?' if params or question else ''}"
        f"{'&'.join(params)}{fragment}"
    ),
    st.sampled_from(["http", "https"]),
    st.sampled_from(["www.presstv.ir", "presstv.co.uk", "WWW.presstv.ir", "xn--mgba3a4f16a.ir"]),
    _link_segments,
    st.booleans(),
    _link_params,
    st.booleans(),
    st.sampled_from(["", "#", "#comments", "#a?b=1"]),
)


@given(link_texts | story_spellings.map(lambda case: case[1]))
def test_clean_url_shortcuts_agree_with_w3lib(url: str) -> None:
    # clean_url answers the common shapes without w3lib; the answer must be w3lib's.
    assert clean_url(url) == _clean(url)


# --- page types and host handling ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (ARTICLE, "article"),
        (ARTICLE_PATH, "article"),
        (f"{PRIMARY}/robots.txt", "robots"),
        (f"{PRIMARY}/", "home"),
        (f"{PRIMARY}", "home"),
        (f"{PRIMARY}/?utm_source=x", "home"),
        (f"{PRIMARY}/rss.xml", "feed"),
        (f"{PRIMARY}/RSS.xml", "feed"),
        (f"{PRIMARY}/rss/rss-10101.xml", "feed"),
        (f"{PRIMARY}/rss/rss-99999.xml", "feed"),
        (f"{PRIMARY}/sitemap.xml", "sitemap"),
        (f"{PRIMARY}/Sitemap_index.xml.gz", "sitemap"),
        (f"{PRIMARY}/Section/10101", "listing"),
        (f"{PRIMARY}/section/10101", "listing"),
        (f"{PRIMARY}/Section/99999", "listing"),
        (f"{PRIMARY}/Section/10101/2", "listing"),
        (f"{PRIMARY}/Section/10101?page=2", "listing"),
        (f"{PRIMARY}/Section/10102?p=3&utm_source=x", "listing"),
        (f"{PRIMARY}/About-us", "other"),
        (f"{PRIMARY}/Detail/", "other"),
        ("https://www.presstv.co.uk/Section/10101", "listing"),
        ("https://evil.com/rss.xml", "other"),
        ("https://evil.com/Section/10101", "other"),
    ],
)
def test_page_type_classifies_by_url(url: str, expected: str) -> None:
    assert page_type(url, PROFILE) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://PRESSTV.co.uk/Section/10101#x", "https://www.presstv.co.uk/Section/10101"),
        ("https://user:pw@presstv.tv:8443/rss.xml", "https://www.presstv.tv/rss.xml"),
        ("https://www.presstv.ir", "https://www.presstv.ir/"),
        (ARTICLE + "?utm_medium=x", ARTICLE),
        (ARTICLE_PATH, None),
        ("https://evil.com/rss.xml", None),
        ("mailto:desk@presstv.ir", None),
    ],
)
def test_to_profile_url_uses_profile_spelling_of_host(url: str, expected: str | None) -> None:
    assert to_profile_url(url, PROFILE) == expected


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("HTTPS://WWW.PRESSTV.IR:443/x", "www.presstv.ir"),
        ("https://evil.com\\@www.presstv.ir/x", "evil.com"),
        ("https://www.presstv.ir@evil.com/x", "evil.com"),
        ("/relative/path", ""),
        ("http://[::1/x", ""),
    ],
)
def test_url_host_is_the_host_scrapy_would_reach(url: str, host: str) -> None:
    assert url_host(url) == host


def _cleaned_then_checked(url: str) -> str | None:
    """to_profile_url as it was written first: clean every link, then look at its host."""
    try:
        parts = urlsplit(clean_url(url))
    except ValueError:
        return None
    host = PROFILE.resolve_host(parts.hostname or "") if parts.scheme in ("http", "https") else None
    if host is None:
        return None
    return f"{PROFILE.scheme}://{host}{parts.path or '/'}" + (
        f"?{parts.query}" if parts.query else ""
    )


foreign_or_not = st.builds(
    lambda scheme, host, rest: f"{scheme}{host}{rest}",
    st.sampled_from(["https://", "http://", "HTTPS://", "https:", "//", " https://"]),
    st.sampled_from(
        [
            "twitter.com",
            "www.presstv.ir",
            "PRESSTV.IR.",
            "t.me:443",
            "presstv.tv:99999",
            "%77ww.presstv.ir",
            "www.presstv.ir\\",
            "u@www.presstv.ir",
            "xn--presstv.ir",
            "",
        ]
    ),
    st.text(alphabet="/?#:%@\\.\t abc=", max_size=12),
)


@given(url_texts | foreign_or_not)
@example("https://twitter.com/intent/tweet?url=https%3A%2F%2Fwww.presstv.ir%2FDetail%2F1")
def test_foreign_links_are_answered_without_cleaning_and_alike(url: str) -> None:
    assert to_profile_url(url, PROFILE) == _cleaned_then_checked(url)


@given(url_texts | foreign_or_not | story_spellings.map(lambda case: case[1]))
def test_read_link_answers_what_the_three_questions_answer(url: str) -> None:
    kind, profile_url, ref = read_link(url, PROFILE)
    assert profile_url == to_profile_url(url, PROFILE)
    if profile_url is None:
        assert (kind, ref) == ("other", None)
        return
    assert kind == page_type(profile_url, PROFILE)
    assert ref == (article_ref(profile_url, PROFILE) if kind == "article" else None)
