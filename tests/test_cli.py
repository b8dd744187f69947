"""The command line: every bad input is one clear line, a non-zero exit, and no file touched."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.cli import main
from tests.conftest import run_newsmirror


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def bad_profile(tmp_path: Path) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(
        'name = "broken"\n[hosts]\nalternates = ["www.example.org"]\n'
        '[article]\npattern = "^/news/(?P<slug>[a-z-]+"\ncanonical = "/news/{slug}"\n',
        encoding="utf-8",
    )
    return path


BAD_CRAWLS = {
    "unknown_profile": (["crawl", "nosuchsite"], "unknown profile"),
    "bad_since": (["crawl", "presstv", "--since", "2025-13-45"], "--since"),
    "bad_until": (["crawl", "presstv", "--until", "yesterday"], "--until"),
    "window_backwards": (
        ["crawl", "presstv", "--since", "2025-03-09", "--until", "2025-03-01"],
        "is after",
    ),
    "connect_to_without_origin": (
        ["crawl", "presstv", "--connect-to", "www.presstv.ir"],
        "HOST=ORIGIN",
    ),
    "connect_to_bad_origin": (
        ["crawl", "presstv", "--connect-to", "www.presstv.ir=ftp://127.0.0.1:21"],
        "ORIGIN",
    ),
    "connect_to_foreign_host": (
        ["crawl", "presstv", "--connect-to", "www.example.com=http://127.0.0.1:8001"],
        "not a host of profile presstv",
    ),
    "bad_max_pages": (["crawl", "presstv", "--max-pages", "0"], "--max-pages"),
    "bad_policy": (["crawl", "presstv", "--mirror-policy", "some"], "--mirror-policy"),
    "bad_set": (["crawl", "presstv", "--set", "NOEQUALS"], "NAME=VALUE"),
}


@pytest.mark.parametrize("case", sorted(BAD_CRAWLS))
def test_bad_crawl_input_is_one_line_and_touches_nothing(case: str, tmp_path: Path) -> None:
    args, expected = BAD_CRAWLS[case]
    db = tmp_path / "archive.db"
    code, _, err = _invoke(*args, "--db", str(db))
    assert code == 2
    assert expected in err
    assert err.startswith("newsmirror: ")
    assert err.strip().count("\n") == 0, err
    assert not db.exists()


def test_malformed_profile_reports_each_problem_on_its_own_line(
    bad_profile: Path, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    code, _, err = _invoke("crawl", str(bad_profile), "--db", str(db))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) >= 3  # missing primary, bad regex, missing title is not an error
    assert all(line.startswith(f"newsmirror: profile {bad_profile}: ") for line in lines)
    assert any("hosts.primary" in line for line in lines)
    assert any("regular expression" in line for line in lines)
    assert not db.exists()


def test_db_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    before = _snapshot(tmp_path)
    code, _, err = _invoke("crawl", "presstv", "--db", str(tmp_path))
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert "directory" in err
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("command", ["crawl", "stats", "search"])
def test_db_that_is_not_sqlite_is_refused_and_left_alone(command: str, tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    db.write_text("these are my notes, not a database\n" * 200, encoding="utf-8")
    before = _snapshot(tmp_path)
    args = {"crawl": ["crawl", "presstv"], "stats": ["stats"], "search": ["search", "gaza"]}[
        command
    ]
    code, _, err = _invoke(*args, "--db", str(db))
    assert code == 2
    assert "not a SQLite database" in err
    assert err.strip().count("\n") == 0, err
    assert _snapshot(tmp_path) == before


def test_db_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        target = Path("/proc/newsmirror-test/archive.db")  # not creatable, even for root
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "archive.db"
    code, _, err = _invoke("crawl", "presstv", "--db", str(target))
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert not target.exists()


@pytest.mark.parametrize("command", [["stats"], ["search", "gaza"]])
def test_reading_commands_never_create_a_database(command: list[str], tmp_path: Path) -> None:
    db = tmp_path / "missing.db"
    code, _, err = _invoke(*command, "--db", str(db))
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert not db.exists()


def test_unknown_command_and_missing_argument_are_usage_errors() -> None:
    for args in (["nosuchcommand"], ["crawl"], ["search"]):
        code, _, err = _invoke(*args)
        assert code == 2
        assert err.startswith("newsmirror: ")
        assert err.strip().count("\n") == 0, err


def test_profiles_lists_the_builtin_presstv() -> None:
    code, out, _ = _invoke("profiles")
    assert code == 0
    assert "presstv" in out
    assert "www.presstv.ir" in out
    assert "www.presstv.co.uk, www.presstv.tv" in out
    assert "www.presstv.com" in out


def test_bad_input_in_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    result = run_newsmirror("crawl", "presstv", "--db", str(tmp_path), "--since", "never")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("newsmirror: ")
