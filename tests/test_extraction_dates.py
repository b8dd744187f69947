"""Dates: ISO 8601 with seconds and offset; the site's zone for dates printed without one."""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from crawler.extraction import extract_article
from crawler.extraction.dates import parse_date, parse_visible_date, read_date
from crawler.profiles import SiteProfile, load_profile

TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))
PRESSTV_FORMATS = ("%A, %d %B %Y %I:%M %p", "%d %B %Y %I:%M %p", "%A, %d %B %Y %H:%M")
URL = "https://www.presstv.ir/Detail/2025/03/08/745312/x"


@functools.cache
def presstv() -> SiteProfile:
    return load_profile("presstv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-08T10:21:47", "2025-03-08T10:21:47+03:30"),
        ("2025-03-08 10:21", "2025-03-08T10:21:00+03:30"),
        ("2025-03-08", "2025-03-08T00:00:00+03:30"),
        ("2025-03-08T10:21:47Z", "2025-03-08T10:21:47+00:00"),
        ("2025-03-08T10:21:47.123-05:00", "2025-03-08T10:21:47-05:00"),
        ("2025-03-08T10:21:47+0330", "2025-03-08T10:21:47+03:30"),
        ("2025-03-08T10:21:47 +03:30", "2025-03-08T10:21:47+03:30"),
        ("Sat, 08 Mar 2025 10:21:47 +0330", "2025-03-08T10:21:47+03:30"),
        ("  2025-03-08T10:21:47+01:00\n", "2025-03-08T10:21:47+01:00"),
    ],
)
def test_machine_dates_keep_their_offset_or_get_the_site_zone(text: str, expected: str) -> None:
    assert parse_date(text, TEHRAN) == expected


@pytest.mark.parametrize(
    "text",
    ["", "not a date", "2025-13-45", "0000-00-00", "yesterday", "1200-01-01", "9" * 200, None, 42],
)
def test_garbage_dates_give_none(text: object) -> None:
    assert parse_date(text, TEHRAN) is None
    assert read_date(text, PRESSTV_FORMATS, TEHRAN) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Saturday, 08 March 2025 10:21 AM  [ Last Update: Sunday, 09 March 2025 11:00 PM ]",
            "2025-03-08T10:21:00+03:30",
        ),
        ("Published:\u00a008 March 2025 03:05 PM", "2025-03-08T15:05:00+03:30"),
        ("Saturday, 08 March 2025 22:40", "2025-03-08T22:40:00+03:30"),
    ],
)
def test_visible_date_text_reads_the_first_date(text: str, expected: str) -> None:
    assert parse_visible_date(text, PRESSTV_FORMATS, TEHRAN) == expected


def test_visible_text_without_a_date_gives_none() -> None:
    assert parse_visible_date("Last update: soon [ ]", PRESSTV_FORMATS, TEHRAN) is None


def test_page_date_without_offset_gets_the_profile_zone() -> None:
    html = "<meta property='article:published_time' content='2025-03-08T10:21:47'><p>x</p>"
    assert extract_article(html, URL, presstv())["published_at"] == "2025-03-08T10:21:47+03:30"


def test_page_date_without_offset_and_without_profile_is_utc() -> None:
    html = "<meta property='article:published_time' content='2025-03-08T10:21:47'><p>x</p>"
    assert extract_article(html, URL)["published_at"] == "2025-03-08T10:21:47+00:00"


def test_visible_date_is_used_when_the_page_has_no_machine_date() -> None:
    html = (
        "<article class='news-detail'><h1 class='news-title'>T</h1>"
        "<div class='news-date'>Saturday, 08 March 2025 10:21 AM [ Last Update: x ]</div>"
        "<div class='news-body'><p>Body.</p></div></article>"
    )
    result = extract_article(html, URL, presstv())
    assert result["published_at"] == "2025-03-08T10:21:00+03:30"
    assert result["field_sources"]["published_at"] == "profile"
