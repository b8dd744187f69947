"""The README and docs stay true: every command, option and setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

from crawler import settings
from crawler.cli import main

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text("utf-8")


def test_readme_opens_with_the_two_setup_commands() -> None:
    first_block = README.split("```", 2)[1]
    assert "make demo" in first_block
    assert "make test" in first_block


def test_every_command_is_documented() -> None:
    for name in main.commands:
        assert f"`newsmirror {name}" in README, name


def test_every_crawl_option_is_documented() -> None:
    crawl = main.commands["crawl"]
    for param in crawl.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}" in README, opt


def test_every_newsmirror_setting_is_documented() -> None:
    names = [name for name in vars(settings) if name.startswith("NEWSMIRROR_")]
    assert names
    for name in names:
        assert f"| `{name}` |" in README, name


def test_changelog_has_an_unreleased_section() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text("utf-8")
    assert re.search(r"^## Unreleased", changelog, re.MULTILINE)
