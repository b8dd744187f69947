"""Saved pages and what extraction must give for them, checked one field at a time.

Each case is tests/fixtures/pages/<site>/<case>/: page.html as received, meta.json (url and
the profile to run, if any) and expected.json (exact fields, plus optional "contains" and
"excludes": field -> snippets that must or must not appear, for text too long to pin).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction import extract_article
from crawler.profiles import load_profile

PAGES = Path(__file__).parent / "fixtures" / "pages"
SNIPPET_KEYS = ("contains", "excludes")
CASES = sorted(p.parent for p in PAGES.glob("*/*/expected.json"))


def case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


@functools.cache
def expected_of(case: Path) -> dict[str, Any]:
    expected: dict[str, Any] = json.loads((case / "expected.json").read_text("utf-8"))
    return expected


@functools.cache
def extracted(case: Path) -> dict[str, Any]:
    meta = json.loads((case / "meta.json").read_text("utf-8"))
    profile = load_profile(meta["profile"]) if meta.get("profile") else None
    return extract_article((case / "page.html").read_bytes(), meta["url"], profile)


def field_params() -> list[Any]:
    params = []
    for case in CASES:
        for field in expected_of(case):
            if field not in SNIPPET_KEYS:
                params.append(pytest.param(case, field, id=f"{case_id(case)}:{field}"))
    return params


def snippet_params(kind: str) -> list[Any]:
    return [
        pytest.param(case, field, snippet, id=f"{case_id(case)}:{field}:{i}")
        for case in CASES
        for field, snippets in expected_of(case).get(kind, {}).items()
        for i, snippet in enumerate(snippets)
    ]


def test_fixture_cases_exist() -> None:
    assert any(case.name == "reference" for case in CASES)


@pytest.mark.parametrize(("case", "field"), field_params())
def test_fixture_field_matches_expected(case: Path, field: str) -> None:
    assert extracted(case).get(field) == expected_of(case)[field]


@pytest.mark.parametrize(("case", "field", "snippet"), snippet_params("contains"))
def test_fixture_field_contains_snippet(case: Path, field: str, snippet: str) -> None:
    assert snippet in (extracted(case).get(field) or "")


@pytest.mark.parametrize(("case", "field", "snippet"), snippet_params("excludes"))
def test_fixture_field_excludes_snippet(case: Path, field: str, snippet: str) -> None:
    assert snippet not in (extracted(case).get(field) or "")


def test_reference_page_body_comes_from_the_profile() -> None:
    assert extracted(PAGES / "presstv" / "reference")["extraction"] == "profile"
