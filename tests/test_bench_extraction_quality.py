"""The extraction quality benchmark's scorer: the dev set's metric, and its own doc section."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bench.extraction_quality import (
    HEADING,
    body_metrics,
    page_scores,
    slug_words,
    update_doc,
    url_date,
)

TRUTH = "The harbour reopened on Thursday after three weeks of repairs to the old piers."


def test_identical_tokens_score_one_and_count_as_exact_whatever_the_punctuation() -> None:
    assert page_scores(TRUTH, TRUTH.replace(" on ", "\n\non ").rstrip(".")) == (1.0, 1.0, True)


def test_extra_text_lowers_precision_only_and_is_not_exact() -> None:
    precision, recall, exact = page_scores(TRUTH, TRUTH + " Related stories: ferries return")
    assert recall == 1.0
    assert precision == pytest.approx(11 / 15)  # 14 tokens: 11 shingles of 15
    assert not exact


def test_empty_prediction_scores_zero_and_f1_is_of_the_means() -> None:
    assert page_scores(TRUTH, "") == (0.0, 0.0, False)
    metrics = body_metrics([(TRUTH, TRUTH), (TRUTH, "")])
    assert metrics["precision"] == metrics["recall"] == 0.5
    assert metrics["f1"] == 0.5
    assert metrics["accuracy"] == 0.5


def test_url_dates_and_slugs() -> None:
    assert url_date("https://x.example/2019/11/18/some-story/") == dt.date(2019, 11, 18)
    assert url_date("https://x.example/2019/nov/18/some-story") is None
    assert slug_words("https://x.example/news/harbour-reopens-after-repairs.html") == [
        "harbour", "reopens", "after", "repairs",
    ]  # fmt: skip
    assert slug_words("https://x.example/a/30279001.html") == []


def test_update_doc_replaces_only_its_own_section(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        f"# Benchmarks\n\n## Storage\n\nkept\n\n{HEADING}\n\nold\n\n## Later\n\nkept too\n"
    )
    update_doc(f"{HEADING}\n\nnew\n", doc)
    assert doc.read_text() == (
        f"# Benchmarks\n\n## Storage\n\nkept\n\n{HEADING}\n\nnew\n\n## Later\n\nkept too\n"
    )
