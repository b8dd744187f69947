"""`newsmirror diff KEY` on the replay site's edited stories: over time and between mirrors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.replay import ReplayConfig, ReplaySite, build_site
from crawler.storydiff import INSERT, word_diff
from tests.conftest import crawl_two_phases, run_newsmirror

pytestmark = pytest.mark.crawl

PRIMARY, UK = "www.presstv.ir", "www.presstv.co.uk"


@dataclass
class Archive:
    path: Path
    site: ReplaySite


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    site = build_site(ReplayConfig())
    path = tmp_path_factory.mktemp("diff") / "archive.db"
    crawl_two_phases(path, site)
    return Archive(path, site)


def edited(site: ReplaySite, *, mirror_follows: bool, title: bool = False) -> int:
    """A story the primary edited in phase 2 whose co.uk copy followed the edit, or not
    (and whose title the edit changed, on request)."""
    edits = site.at_phase(2).truth.edited
    return min(
        i
        for i, r in edits.items()
        if (UK in r.edited_on) == mirror_follows and (not title or "title" in r.text.change)
    )


def texts(site: ReplaySite, story: int) -> tuple[set[str], set[str]]:
    """The paragraphs the edit took out and those it put in, from the site's truth."""
    old = site.at_phase(1).truth.text_on(story, PRIMARY)
    new = site.at_phase(2).truth.text_on(story, PRIMARY)
    assert old is not None
    assert new is not None
    return set(old.paragraphs) - set(new.paragraphs), set(new.paragraphs) - set(old.paragraphs)


def diff(archive: Archive, *args: str) -> str:
    result = run_newsmirror("diff", *args, "--db", str(archive.path))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_edit_over_time_is_a_unified_word_diff_with_hosts_and_times(archive: Archive) -> None:
    story = edited(archive.site, mirror_follows=True)
    out = diff(archive, f"presstv:{story}")
    removed, added = texts(archive.site, story)
    assert removed
    assert added
    assert "=== v1 → v2 ===" in out
    lines = out.splitlines()
    old_side = next(line for line in lines if line.startswith("--- v1"))
    new_side = next(line for line in lines if line.startswith("+++ v2"))
    for side in (old_side, new_side):
        assert PRIMARY in side
        assert "first seen 20" in side
        assert "last seen 20" in side
    minus = " ".join(line for line in lines if line.startswith("-") and not line.startswith("---"))
    plus = " ".join(line for line in lines if line.startswith("+") and not line.startswith("+++"))
    for paragraph in removed:
        assert paragraph.split()[-1] in minus
    for paragraph in added:
        assert paragraph.split()[-1] in plus
    assert "[-" in minus
    assert "{+" in plus
    assert "\x1b[" not in out  # not a terminal: no colour
    # co.uk followed the edit: the mirrors agree now.
    assert f"Serving it now, all with v2: {PRIMARY}, {UK}" in out


def test_title_edit_is_marked_word_by_word(archive: Archive) -> None:
    story = edited(archive.site, mirror_follows=False, title=True)
    old = archive.site.at_phase(1).truth.text_on(story, PRIMARY)
    new = archive.site.at_phase(2).truth.text_on(story, PRIMARY)
    assert old is not None
    assert new is not None
    assert old.title != new.title
    inserted = " ".join(op.new.strip() for op in word_diff(old.title, new.title) if op.op == INSERT)
    out = diff(archive, f"presstv:{story}")
    assert f"+{{+{inserted}+}} " in out  # "+{+Update —+} Mensah: ..."
    assert f"-{old.title}" in out


def test_mirror_that_kept_the_old_text_is_compared_with_the_primary(archive: Archive) -> None:
    story = edited(archive.site, mirror_follows=False)
    out = diff(archive, f"presstv:{story}")
    now = out.split("=== between mirrors now ===", 1)[1]
    assert f"{PRIMARY} (v2)  vs  {UK} (v1)" in now
    assert f"--- v2  {PRIMARY}" in now
    assert f"+++ v1  {UK}" in now


def test_json_names_versions_hosts_and_word_operations(archive: Archive) -> None:
    story = edited(archive.site, mirror_follows=False, title=True)
    report = json.loads(diff(archive, f"presstv:{story}", "--json"))
    assert report["key"] == f"presstv:{story}"
    assert [v["number"] for v in report["versions"]] == [1, 2]
    (change,) = report["changes"]
    assert change["from"]["version"] == 1
    assert change["to"]["version"] == 2
    assert PRIMARY in change["from"]["hosts"]
    assert change["to"]["hosts"] == [PRIMARY]
    assert change["title_changed"]
    assert change["body_changed"]
    assert not change["same_pages"]
    kinds = {op["op"] for op in change["body"]}
    assert kinds <= {"equal", "delete", "insert", "replace"}
    assert kinds - {"equal"}
    (mirror,) = report["mirrors_now"]
    assert (mirror["from"]["hosts"], mirror["to"]["hosts"]) == ([PRIMARY], [UK])
    hosts = {h["host"]: h for h in report["hosts_now"]}
    assert hosts[PRIMARY]["version"] == 2
    assert hosts[UK]["version"] == 1


def test_colour_on_request_and_never_in_plain_output(archive: Archive) -> None:
    story = edited(archive.site, mirror_follows=True)
    coloured = diff(archive, f"presstv:{story}", "--color", "always")
    assert "\x1b[31;9m" in coloured
    assert "\x1b[1;32m" in coloured
    assert "[-" not in coloured
    assert "\x1b[" not in diff(archive, f"presstv:{story}", "--color", "never")


def test_story_never_edited_has_one_version_and_no_change(archive: Archive) -> None:
    edits = archive.site.at_phase(2).truth.edited
    story = next(s.id for s in archive.site.stories if s.id not in edits and s.id % 7)
    out = diff(archive, f"presstv:{story}")
    assert "1 version\n" in out
    assert "Only one version to compare: no change over time." in out


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("presstv:1", "newsmirror: diff: no story presstv:1 in "),
        ("745312", "newsmirror: diff: '745312' is not a story key"),
    ],
)
def test_unknown_key_is_one_line_and_exit_2(archive: Archive, key: str, message: str) -> None:
    result = run_newsmirror("diff", key, "--db", str(archive.path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


def test_missing_database_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_newsmirror("diff", "presstv:1", "--db", str(tmp_path / "none.db"))
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "none.db").exists()
