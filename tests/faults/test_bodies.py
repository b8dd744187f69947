"""Broken and hostile bodies: oversized, decompression bombs, junk, empty, truncated, charsets,
and pages built to hurt (script, SQL-like text, NUL bytes, a 1 MB title, 100,000 paragraphs,
10,000 levels of nesting). One crawl serves them all, each on its own story on the primary.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import pytest

from crawler.replay import ReplaySite
from tests.faults.conftest import Crawl, assert_sound, crawl, small_site
from tests.faults.server import Fault, body, deflate_bomb, gzip_bomb, transform

pytestmark = pytest.mark.crawl

PRIMARY = "www.presstv.ir"
MAXSIZE = 3 * 1024 * 1024
WARNSIZE = 512 * 1024
BOMB = 40 * 1024 * 1024  # unpacked; a few tens of KB on the wire


def _in_body(extra: bytes) -> Callable[[bytes], bytes]:
    """Put markup at the start of the story's body block."""
    marker = b'<div class="news-body">'
    return lambda page: page.replace(marker, marker + extra, 1)


def _title(text: bytes) -> Callable[[bytes], bytes]:
    def change(page: bytes) -> bytes:
        start = page.index(b'<h1 class="news-title">') + len(b'<h1 class="news-title">')
        return page[:start] + text + page[page.index(b"</h1>", start) :]

    return change


def _cut_mid_tag(page: bytes) -> bytes:
    cut = page.index(b"<p>", page.index(b'<div class="news-body">')) + 200
    return page[: page.index(b"<", cut) + 2]  # ends inside a tag: "<p" or "</"


JUNK = random.Random(6).randbytes(64 * 1024)
# C0 controls other than tab, newline and carriage return: never text.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
SQL = b"Robert'); DROP TABLE articles;-- \" OR 1=1 --"
# case -> (fault, outcomes the primary's capture may have, whether the primary's copy may
# differ from the truth: hostile pages are new versions, stored as text)
WIRE: dict[str, Fault] = {
    "oversized_body": body(b"<html><body>" + b"x" * (MAXSIZE + 1024) + b"</body></html>"),
    "gzip_bomb": body(gzip_bomb(BOMB), headers=(("Content-Encoding", "gzip"),)),
    "deflate_bomb": body(deflate_bomb(BOMB), headers=(("Content-Encoding", "deflate"),)),
    "brotli_bomb": body(
        brotli.compress(b"\0" * BOMB, quality=1), headers=(("Content-Encoding", "br"),)
    ),
}
BROKEN: dict[str, Fault] = {
    "binary_junk_as_html": body(JUNK, "text/html; charset=utf-8"),
    "empty_200": body(b"", "text/html; charset=utf-8"),
    "truncated_mid_tag": transform(_cut_mid_tag),
}
# Same text, other bytes: the story must come out as the host's real text.
SAME_TEXT: dict[str, Fault] = {
    "missing_charset": transform(lambda b: b, "text/html"),
    "utf8_bom": transform(lambda b: b"\xef\xbb\xbf" + b),
    "near_warnsize": transform(lambda b: b.replace(b"</body>", b"<!--" + b"p" * WARNSIZE + b"-->")),
}
# A UTF-8 page labelled ISO-8859-1: decoded as labelled (the HTTP header wins, as in a
# browser), so the host's copy is a version with mojibake; the true versions stay as they were.
MISLABELLED: dict[str, Fault] = {
    "wrong_charset_label": transform(lambda b: b, "text/html; charset=iso-8859-1"),
}
HOSTILE: dict[str, Fault] = {
    "script_tags": transform(
        _in_body(
            b"<p>Before <script>document.title='pwned'</script> after.</p>"
            b"<p><img src=x onerror=alert(1)>Image.</p>"
        )
    ),
    "sql_like_strings": transform(
        lambda b: _in_body(b"<p>He wrote: " + SQL + b"</p>")(_title(b"Title " + SQL)(b))
    ),
    "nul_bytes": transform(_in_body(b"<p>Nul\0bytes\0here.</p>")),
    # C0 controls after an element extraction removes (found by atheris).
    "control_characters": transform(
        _in_body(b'<div class="share">Share</div>\x01Tail\x1d text.<p>Bell\x07 here.</p>')
    ),
    "mixed_encodings": transform(_in_body(b"<p>Caf\xe9 cr\xe8me, latin-1 in utf-8.</p>")),
    "one_megabyte_title": transform(_title(b"Huge " * 210_000)),
    "hundred_thousand_paragraphs": transform(_in_body(b"<p>Word.</p>" * 100_000)),
    "ten_thousand_levels": transform(
        _in_body(b"<div>" * 10_000 + b"<p>Deep down.</p>" + b"</div>" * 10_000)
    ),
}
ALL = {**WIRE, **BROKEN, **SAME_TEXT, **MISLABELLED, **HOSTILE}
STORY = {case: n for n, case in enumerate(sorted(ALL), start=1)}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplaySite, Crawl]:
    site = small_site(stories=len(ALL) + 4)
    faults = {}
    for case, fault in ALL.items():
        story = site.stories[STORY[case] - 1]
        faults[(PRIMARY, story.path.rsplit("/", 1)[0])] = fault
    run = crawl(
        tmp_path_factory.mktemp("bodies"),
        site,
        faults,
        "--set",
        f"DOWNLOAD_MAXSIZE={MAXSIZE}",
        "--set",
        f"DOWNLOAD_WARNSIZE={WARNSIZE}",
        # No case here hangs: big pages get time to arrive on a loaded machine.
        "--set",
        "DOWNLOAD_TIMEOUT=20",
    )
    return site, run


def _key(site: ReplaySite, case: str) -> str:
    return site.stories[STORY[case] - 1].key


def _primary(run: Crawl, key: str) -> list[dict[str, object]]:
    return run.captures("article_key = ? AND host = ? AND page_type = 'article'", [key, PRIMARY])


def test_run_goes_on_and_untouched_stories_stay_true(faulty: tuple[ReplaySite, Crawl]) -> None:
    site, run = faulty
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    hostile = {_key(site, case) for case in (*HOSTILE, *BROKEN, *MISLABELLED)}
    assert_sound(run, None)
    for story in site.stories:
        row = run.article(story.key)
        assert row is not None, story.key
        if story.key not in hostile:
            assert row["body"] in {site.shown(story, h).body for h in story.served_on}, story.key


@pytest.mark.parametrize("case", sorted(WIRE))
def test_oversized_and_bombs_are_error_captures(
    faulty: tuple[ReplaySite, Crawl], case: str
) -> None:
    site, run = faulty
    rows = _primary(run, _key(site, case))
    assert rows
    assert {row["outcome"] for row in rows} == {"error"}, rows
    assert all(row["error"] for row in rows)
    assert PRIMARY not in str(run.article(_key(site, case))["mirrors"])  # type: ignore[index]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_pages_never_become_stories(faulty: tuple[ReplaySite, Crawl], case: str) -> None:
    site, run = faulty
    key = _key(site, case)
    rows = _primary(run, key)
    assert rows, f"{case}: no capture"
    assert {row["outcome"] for row in rows} <= {"soft_404", "not_article", "error"}, rows
    story = site.stories[STORY[case] - 1]
    stored = run.article(key)
    assert stored is not None
    assert stored["body"] in {site.shown(story, h).body for h in story.served_on}


@pytest.mark.parametrize("case", sorted(SAME_TEXT))
def test_encodings_and_sizes_give_the_true_story(
    faulty: tuple[ReplaySite, Crawl], case: str
) -> None:
    site, run = faulty
    key = _key(site, case)
    rows = _primary(run, key)
    assert [row["outcome"] for row in rows] == ["article"], rows
    story = site.stories[STORY[case] - 1]
    (version,) = run.db.query(
        "SELECT body, title FROM versions WHERE article_key = ? AND hosts LIKE ?",
        [key, f"%{PRIMARY}%"],
    )
    assert version["body"] == site.shown(story, PRIMARY).body
    assert version["title"] == site.shown(story, PRIMARY).title


def test_a_mislabelled_charset_keeps_the_true_versions(faulty: tuple[ReplaySite, Crawl]) -> None:
    site, run = faulty
    key = _key(site, "wrong_charset_label")
    story = site.stories[STORY["wrong_charset_label"] - 1]
    assert [row["outcome"] for row in _primary(run, key)] == ["article"]
    bodies = {
        row["body"]
        for row in run.db.query("SELECT body FROM versions WHERE article_key = ?", [key])
    }
    assert site.shown(story, "www.presstv.co.uk").body in bodies


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_content_is_stored_as_text(faulty: tuple[ReplaySite, Crawl], case: str) -> None:
    site, run = faulty
    key = _key(site, case)
    rows = _primary(run, key)
    assert rows
    assert all(row["outcome"] != "error" for row in rows), rows
    assert run.db.table("articles").exists()
    for version in run.db.query("SELECT title, body FROM versions WHERE article_key = ?", [key]):
        text = f"{version['title']}\n{version['body']}"
        assert "<script" not in text
        assert "onerror" not in text
    if case == "sql_like_strings":
        (version,) = run.db.query(
            "SELECT title, body FROM versions WHERE article_key = ? AND hosts LIKE ?",
            [key, f"%{PRIMARY}%"],
        )
        assert SQL.decode() in version["body"]
        assert SQL.decode() in version["title"]
    if case == "control_characters":
        texts = run.db.query("SELECT title, body FROM versions WHERE article_key = ?", [key])
        assert not [t for t in texts if CONTROL.search(f"{t['title']}{t['body']}")]
    # Found again by full-text search: the FTS index kept in step with the hostile row (by a
    # word of the title it stored: a hostile page may have changed the title).
    word = re.sub(r"\W", "", str(run.article(key)["title"]).split()[0])  # type: ignore[index]
    (hits,) = run.db.query(
        "SELECT count(*) AS n FROM articles_fts WHERE articles_fts MATCH ?", [f'"{word}"']
    )
    assert hits["n"] >= 1
