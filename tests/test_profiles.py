"""Site profiles: the built-in Press TV profile, loading, and one clear error per problem."""

from __future__ import annotations

import copy
import datetime as dt
import doctest
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.profiles import (
    SELECTOR_FIELDS,
    TABLE_KEYS,
    TOP_LEVEL_KEYS,
    ProfileError,
    SiteProfile,
    accepted_keys,
    builtin_profiles,
    load_profile,
    parse_profile,
    parse_timezone,
    profile_from_mapping,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def _profiles_section() -> str:
    """The README's "Site profiles" section: the reference of every profile key."""
    text = README.read_text("utf-8")
    start = text.index("\n## Site profiles\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


PRESSTV_TEXT = resources.files("crawler.sites").joinpath("presstv.toml").read_text("utf-8")
PRESSTV_DATA: dict[str, Any] = tomllib.loads(PRESSTV_TEXT)
DELETE = object()


@pytest.fixture(scope="module")
def presstv() -> SiteProfile:
    return load_profile("presstv")


def presstv_with(**changes: Any) -> dict[str, Any]:
    """The Press TV profile as parsed TOML, with `hosts__primary=...` style changes applied."""
    data = copy.deepcopy(PRESSTV_DATA)
    for dotted, value in changes.items():
        *tables, key = dotted.split("__")
        target = data
        for table in tables:
            target = target.setdefault(table, {})
        if value is DELETE:
            target.pop(key, None)
        else:
            target[key] = value
    return data


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        profile_from_mapping(data, source="test.toml")
    return caught.value.problems


# --- the built-in Press TV profile ---------------------------------------------------------


def test_builtin_profiles_lists_presstv() -> None:
    assert "presstv" in builtin_profiles()


def test_presstv_names_primary_alternate_and_retired_hosts(presstv: SiteProfile) -> None:
    assert presstv.name == "presstv"
    assert presstv.title == "Press TV"
    assert presstv.scheme == "https"
    assert presstv.primary == "www.presstv.ir"
    assert presstv.alternates == ("www.presstv.co.uk", "www.presstv.tv")
    assert presstv.retired == ("www.presstv.com",)
    assert presstv.hosts == (
        "www.presstv.ir",
        "www.presstv.co.uk",
        "www.presstv.tv",
        "www.presstv.com",
    )
    assert presstv.live_hosts == ("www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv")


@pytest.mark.parametrize(
    ("host", "role"),
    [
        ("www.presstv.ir", "primary"),
        ("PRESSTV.IR", "primary"),
        ("presstv.co.uk:443", "alternate"),
        ("www.presstv.tv.", "alternate"),
        ("presstv.com", "retired"),
        ("presstv.ir.evil.com", None),
        ("evilpresstv.ir", None),
        ("", None),
    ],
)
def test_role_of_any_spelling_of_a_host(presstv: SiteProfile, host: str, role: str | None) -> None:
    assert presstv.role_of(host) == role


def test_presstv_article_pattern_reads_detail_urls(presstv: SiteProfile) -> None:
    match = presstv.article.pattern.match(
        "/Detail/2025/03/08/745312/Israel-mad-at-Trump-administration-over-secret-US-Hamas-talks-Report"
    )
    assert match is not None
    assert match.group("year", "month", "day", "id") == ("2025", "03", "08", "745312")
    assert presstv.article.pattern.match("/detail/2025/3/8/745312") is not None
    assert presstv.article.canonical == "/Detail/{year}/{month}/{day}/{id}/{slug}"


def test_presstv_feeds_are_main_and_section_rss(presstv: SiteProfile) -> None:
    feeds = presstv.discovery.feeds
    assert feeds[0] == "/rss.xml"
    section_feeds = feeds[1:]
    assert section_feeds
    assert all(re.fullmatch(r"/rss/rss-\d+\.xml", feed) for feed in section_feeds)
    assert all(any(p.match(feed) for p in presstv.discovery.feed_patterns) for feed in feeds)


def test_presstv_section_listings_and_pagination(presstv: SiteProfile) -> None:
    sections = presstv.discovery.sections
    assert sections
    assert all(re.fullmatch(r"/Section/\d+", section) for section in sections)
    for listing in (
        "/Section/10101",
        "/Section/10101/2",
        "/Section/10101?page=2",
        "/section/1?p=3",
    ):
        assert any(p.match(listing) for p in presstv.discovery.listing_patterns), listing
    assert not any(p.match("/Detail/2025/03/08/745312") for p in presstv.discovery.listing_patterns)
    assert presstv.discovery.max_listing_pages == 30
    assert presstv.discovery.home == ("/",)
    assert presstv.discovery.robots_sitemaps is True


def test_presstv_boilerplate_and_seizure_markers(presstv: SiteProfile) -> None:
    assert any(
        "can also be accessed at the following alternate addresses" in cut
        for cut in presstv.boilerplate.cut_at
    )
    assert ".alt-addresses" in presstv.boilerplate.selectors
    assert "News" in presstv.boilerplate.home_crumbs
    assert "has been seized by the United States Government" in presstv.markers.seizure
    assert presstv.markers.parking
    assert presstv.markers.soft_404


def test_presstv_reads_tehran_time(presstv: SiteProfile) -> None:
    assert presstv.language == "en"
    assert presstv.tzinfo.utcoffset(None) == dt.timedelta(hours=3, minutes=30)


def test_presstv_names_selectors_for_the_main_fields(presstv: SiteProfile) -> None:
    for name in ("title", "body", "published_at", "section"):
        assert presstv.selectors.for_field(name), name
    assert presstv.selectors.date_formats


# --- loading ---------------------------------------------------------------------------------


def test_load_profile_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "mirror-site.toml"
    path.write_text(PRESSTV_TEXT.replace('name = "presstv"', 'name = "mirror-site"'), "utf-8")
    for given_as in (str(path), path):
        profile = load_profile(given_as)
        assert profile.name == "mirror-site"
        assert profile.source == str(path)


def test_builtin_name_wins_over_a_file_of_that_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "presstv").write_text("not a profile", "utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_profile("presstv").primary == "www.presstv.ir"
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile("./presstv")


@pytest.mark.parametrize("name", ["nosuchsite", "", "PressTV"])
def test_unknown_profile_lists_builtins(name: str) -> None:
    with pytest.raises(
        ProfileError, match=r"unknown profile \(built-in profiles: .*presstv"
    ) as caught:
        load_profile(name)
    assert len(caught.value.problems) == 1


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile(tmp_path / "absent.toml")


def test_unreadable_profile_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(path)


def test_profile_error_is_one_line_naming_the_source() -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile('name = "x"\n', source="site.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("site.toml: ")
    assert caught.value.source == "site.toml"


# --- validation: one clear error per problem --------------------------------------------------

# Each case breaks the Press TV profile in one way and names the one problem it must report.
ONE_PROBLEM_CASES = [
    ("missing primary", {"hosts__primary": DELETE}, "hosts.primary is required"),
    ("missing hosts table", {"hosts": DELETE}, "[hosts] is required"),
    ("missing article table", {"article": DELETE}, "[article] is required"),
    ("missing name", {"name": DELETE}, "name is required"),
    (
        "bad regex",
        {"article__pattern": r"^/detail/(?P<id>\d+"},
        "article.pattern: bad regular expression",
    ),
    ("regex too big", {"discovery__listing_patterns": ["a{4294967296}"]}, "bad regular expression"),
    (
        "bad drop regex",
        {"boilerplate__drop": ["(unclosed"]},
        "boilerplate.drop: bad regular expression",
    ),
    (
        "pattern without id",
        {"article__pattern": r"^/detail/(?P<num>\d+)/?$", "article__canonical": "/Detail/{id}"},
        "needs a named group (?P<id>...)",
    ),
    (
        "canonical names missing group",
        {"article__canonical": "/Detail/{year}/{id}/{title}"},
        "uses {title}, which article.pattern does not capture",
    ),
    (
        "canonical without id",
        {"article__canonical": "/Detail/{year}/{slug}"},
        "article.canonical must use {id}",
    ),
    ("canonical stray brace", {"article__canonical": "/Detail/{id}/{slug"}, "brace outside"),
    (
        "canonical not a path",
        {"article__canonical": "Detail/{id}"},
        "must be a path starting with one '/'",
    ),
    (
        "unknown top-level key",
        {"hostz": {}},
        "the top level has unknown key 'hostz' (did you mean 'hosts'?)",
    ),
    (
        "unknown key in hosts",
        {"hosts__alternate": []},
        "[hosts] has unknown key 'alternate' (did you mean 'alternates'?)",
    ),
    (
        "unknown key in selectors",
        {"selectors__headline": ["h1"]},
        "[selectors] has unknown key 'headline'",
    ),
    (
        "unknown key in markers",
        {"markers__seizures": []},
        "[markers] has unknown key 'seizures' (did you mean 'seizure'?)",
    ),
    ("table as string", {"discovery": "everything"}, "[discovery] must be a table, not a string"),
    (
        "list of tables",
        {"hosts": [{"primary": "www.presstv.ir"}]},
        "[hosts] must be a table, not an array",
    ),
    ("name not string", {"name": 5}, "name must be a non-empty string, not an integer"),
    ("empty title", {"title": "  "}, "title must be a non-empty string, not an empty string"),
    (
        "alternates not list",
        {"hosts__alternates": 5},
        "hosts.alternates must be a list of strings, not an integer",
    ),
    (
        "alternate not string",
        {"hosts__alternates": ["www.presstv.tv", True]},
        "hosts.alternates[1] must be a non-empty string, not a boolean",
    ),
    (
        "pages not integer",
        {"discovery__max_listing_pages": "30"},
        "discovery.max_listing_pages must be a positive integer",
    ),
    (
        "pages zero",
        {"discovery__max_listing_pages": 0},
        "discovery.max_listing_pages must be a positive integer",
    ),
    (
        "flag not boolean",
        {"discovery__robots_sitemaps": "yes"},
        "discovery.robots_sitemaps must be true or false, not a string",
    ),
    (
        "date as string",
        {"language": dt.date(2025, 3, 8)},
        "language must be a non-empty string, not a date or time",
    ),
    (
        "host with scheme",
        {"hosts__alternates": ["https://www.presstv.tv"]},
        "hosts.alternates: 'https://www.presstv.tv' is not a host name",
    ),
    (
        "host upper-case",
        {"hosts__primary": "WWW.PRESSTV.IR"},
        "hosts.primary: 'WWW.PRESSTV.IR' is not a host name",
    ),
    ("host with port", {"hosts__retired": ["www.presstv.com:443"]}, "is not a host name"),
    ("host with path", {"hosts__retired": ["www.presstv.com/"]}, "is not a host name"),
    ("host with newline", {"hosts__retired": ["www.presstv.com\n"]}, "is not a host name"),
    ("host without dot", {"hosts__retired": ["localhost"]}, "is not a host name"),
    ("host label dash", {"hosts__retired": ["-presstv.com"]}, "is not a host name"),
    (
        "duplicate host",
        {"hosts__alternates": ["www.presstv.co.uk", "www.presstv.co.uk"]},
        "'www.presstv.co.uk' is the same host as 'www.presstv.co.uk'",
    ),
    (
        "duplicate without www",
        {"hosts__retired": ["presstv.ir"]},
        "hosts.retired: 'presstv.ir' is the same host as 'www.presstv.ir'",
    ),
    ("bad scheme", {"hosts__scheme": "ftp"}, "hosts.scheme must be 'http' or 'https'"),
    (
        "unknown zone",
        {"timezone": "Mars/Olympus_Mons"},
        "timezone 'Mars/Olympus_Mons' is neither +HH:MM nor a known zone name",
    ),
    ("zone directory", {"timezone": "America"}, "timezone 'America' is neither"),
    ("offset too big", {"timezone": "+25:00"}, "timezone '+25:00' is neither"),
    ("offset without colon", {"timezone": "+0330"}, "timezone '+0330' is neither"),
    ("bad language", {"language": "English"}, "language 'English' must be a language tag"),
    ("bad name", {"name": "Press TV"}, "name 'Press TV' must be lower-case"),
    (
        "bad css selector",
        {"selectors__title": ["h1..title"]},
        "selectors.title: bad selector 'h1..title'",
    ),
    ("bad css pseudo", {"selectors__body": [".body::nope"]}, "selectors.body: bad selector"),
    (
        "bad xpath selector",
        {"selectors__lead": ["xpath://p["]},
        "selectors.lead: bad selector 'xpath://p['",
    ),
    (
        "bad boilerplate selector",
        {"boilerplate__selectors": ["div >"]},
        "boilerplate.selectors: bad selector",
    ),
    (
        "feed not a path",
        {"discovery__feeds": ["rss.xml"]},
        "discovery.feeds: 'rss.xml' must be a path starting with one '/'",
    ),
    (
        "home as url",
        {"discovery__home": ["https://www.presstv.ir/"]},
        "discovery.home: 'https://www.presstv.ir/' must be a path",
    ),
    (
        "section on other host",
        {"discovery__sections": ["//evil.com/Section/1"]},
        "discovery.sections: '//evil.com/Section/1' must be a path",
    ),
    (
        "sitemap with space",
        {"discovery__sitemaps": ["/site map.xml"]},
        "discovery.sitemaps: '/site map.xml' must be a path",
    ),
    (
        "date format without directive",
        {"selectors__date_formats": ["dd MMMM yyyy"]},
        "has no strptime directive",
    ),
    (
        "date format bad directive",
        {"selectors__date_formats": ["%d %Q %Y"]},
        "selectors.date_formats: '%d %Q %Y' is not a strptime format",
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [pytest.param(changes, expected, id=case) for case, changes, expected in ONE_PROBLEM_CASES],
)
def test_each_mistake_gives_one_clear_problem(changes: dict[str, Any], expected: str) -> None:
    problems = problems_of(presstv_with(**changes))
    assert len(problems) == 1, problems
    assert expected in problems[0]


def test_invalid_toml_is_one_problem() -> None:
    with pytest.raises(ProfileError, match="not valid TOML") as caught:
        parse_profile(PRESSTV_TEXT.replace('title = "Press TV"', "title = Press TV"))
    assert len(caught.value.problems) == 1


def test_every_problem_is_reported_at_once() -> None:
    data = presstv_with(
        hosts__primary=DELETE,
        article__pattern=r"^/detail/(?P<id>\d+",
        hostz={},
        selectors__title=["h1..title"],
        discovery__feeds=["rss.xml"],
        timezone="Mars/Olympus_Mons",
        markers__seizures=[],
    )
    problems = problems_of(data)
    assert len(problems) == 7, problems
    for expected in (
        "hosts.primary is required",
        "article.pattern: bad regular expression",
        "unknown key 'hostz'",
        "selectors.title: bad selector",
        "discovery.feeds: 'rss.xml'",
        "timezone 'Mars/Olympus_Mons'",
        "[markers] has unknown key 'seizures'",
    ):
        assert any(expected in problem for problem in problems), expected


def test_minimal_profile_gets_defaults() -> None:
    profile = parse_profile(
        """
        name = "example"
        [hosts]
        primary = "www.example.com"
        [article]
        pattern = '^/news/(?P<id>\\d+)'
        canonical = "/news/{id}"
        """
    )
    assert profile.title == "example"
    assert (profile.scheme, profile.timezone, profile.language) == ("https", "+00:00", None)
    assert (profile.alternates, profile.retired) == ((), ())
    assert profile.discovery.home == ("/",)
    assert profile.discovery.max_listing_pages == 50
    assert profile.boilerplate.home_crumbs == ("Home",)


def test_single_string_counts_as_list_of_one() -> None:
    profile = profile_from_mapping(presstv_with(hosts__alternates="www.presstv.tv"))
    assert profile.alternates == ("www.presstv.tv",)


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("+03:30", dt.timedelta(hours=3, minutes=30)),
        ("-05:00", dt.timedelta(hours=-5)),
        ("UTC", dt.timedelta(0)),
    ],
)
def test_parse_timezone_reads_offsets_and_zone_names(value: str, offset: dt.timedelta) -> None:
    assert parse_timezone(value).utcoffset(dt.datetime(2025, 1, 1)) == offset


@pytest.mark.parametrize(
    "value", ["", "America", "../etc/passwd", "/etc/localtime", "a" * 300, "+24:00"]
)
def test_parse_timezone_raises_value_error_for_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match=r"time zone|offset|must be strictly between"):
        parse_timezone(value)


# --- robustness: nothing but ProfileError escapes ---------------------------------------------

toml_scalars = (
    st.text(max_size=12)
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.dates()
    | st.times()
    | st.datetimes()
)
toml_values = st.recursive(
    toml_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
known_tables = st.sampled_from(sorted(TABLE_KEYS))
key_paths = (
    st.sampled_from(TOP_LEVEL_KEYS).map(lambda key: (key,))
    | known_tables.flatmap(lambda t: st.sampled_from(TABLE_KEYS[t]).map(lambda key: (t, key)))
    | known_tables.map(lambda t: (t,))
    | st.text(max_size=8).map(lambda key: (key,))
)


def problems_or_none(load: Any, value: Any) -> list[str] | None:
    """The problems `load(value)` reports, or None when it loads; any other exception escapes."""
    try:
        load(value)
    except ProfileError as error:
        return error.problems
    return None


@given(st.lists(st.tuples(key_paths, toml_values), min_size=1, max_size=4))
def test_broken_profile_raises_only_profile_error(
    changes: list[tuple[tuple[str, ...], Any]],
) -> None:
    data = copy.deepcopy(PRESSTV_DATA)
    for path, value in changes:
        target = data
        for table in path[:-1]:
            if not isinstance(target.get(table), dict):  # an earlier change replaced it
                target[table] = {}
            target = target[table]
        target[path[-1]] = value
    problems = problems_or_none(profile_from_mapping, data)
    if problems is not None:
        assert problems
        assert all(problem and "\n" not in problem for problem in problems)


@given(st.text(max_size=200))
def test_any_text_raises_only_profile_error(text: str) -> None:
    problems = problems_or_none(parse_profile, text)
    assert problems is None or len(problems) >= 1


# --- the reference in the README --------------------------------------------------------


def test_accepted_keys_cover_every_table() -> None:
    keys = accepted_keys()
    assert len(keys) == len(set(keys))
    assert {f"selectors.{name}" for name in SELECTOR_FIELDS} <= set(keys)
    assert {"name", "hosts.primary", "article.pattern", "markers.seizure"} <= set(keys)


def test_docs_document_exactly_the_accepted_keys() -> None:
    documented = set(
        re.findall(r"^\| `([a-z_]+(?:\.[a-z_0-9]+)?)` \|", _profiles_section(), re.MULTILINE)
    )
    missing = set(accepted_keys()) - documented
    stale = documented - set(accepted_keys())
    assert not missing, f"the README does not document {sorted(missing)}"
    assert not stale, f"the README documents keys the loader rejects: {sorted(stale)}"


def test_docs_name_every_table() -> None:
    text = _profiles_section()
    for table in TABLE_KEYS:
        assert f"`[{table}]`" in text, table


def test_docs_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", _profiles_section(), re.DOTALL)
    examples = [block for block in blocks if ">>>" in block]
    assert examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for index, block in enumerate(examples):
        test = doctest.DocTestParser().get_doctest(block, {}, f"example {index}", str(README), 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
