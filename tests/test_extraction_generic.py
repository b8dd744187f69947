"""The generic path (no profile): page furniture out of the body, the headline not repeated,
the body candidate chosen by agreement, trafilatura's metadata pass only when needed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crawler.extraction import extract_article, generic
from crawler.extraction.boilerplate import is_furniture, is_timestamp, strip_furniture
from crawler.extraction.jsonld import body_paragraphs

URL = "https://news.example.com/2024/05/02/harbour-reopens"
STORY = [
    f"Paragraph {i} of the story tells readers what happened at the harbour on Thursday, "
    "who was there and what the port authority said about the repairs."
    for i in range(1, 7)
]


def page(body: str, head: str = "") -> str:
    title = "<title>Harbour reopens | Example News</title>"
    return f"<html><head>{title}{head}</head><body>{body}</body></html>"


def story_html(extra_inside: str = "", extra_after: str = "", first: str = "") -> str:
    """The story in an <article>, with extra markup in its middle, after it or before it."""
    before = "".join(f"<p>{text}</p>" for text in STORY[:3])
    after = "".join(f"<p>{text}</p>" for text in STORY[3:])
    return f"<article>{first}{before}{extra_inside}{after}{extra_after}</article>"


@pytest.mark.parametrize(
    "line",
    [
        "Related: Ten more harbours worth a visit",
        "READ MORE: How the port was built",
        "Advertisement",
        "You may also like...",
        "Subscribe to the Morning Briefing newsletter",
        "Get the day's top headlines delivered to your inbox by subscribing to our newsletter.",
        "Like this story? Share it with a friend!",
        "Also on example.com Storm damage closes the coast road",
        '[button link="https://example.com/submit" type="big"] Send us your story[/button]',
    ],
)
def test_furniture_lines_never_reach_a_generic_body(line: str) -> None:
    result = extract_article(page(story_html(extra_inside=f"<p>{line}</p>")), URL)
    assert result["extraction"] == "generic"
    assert line not in result["body"]
    assert all(text in result["body"] for text in STORY)


@pytest.mark.parametrize(
    "line",
    [
        (
            "Related: the harbour master said the repairs took longer than planned because the "
            "storm had washed away two of the old piers, and the divers who inspected the "
            "foundations found cracks that had to be filled before any ship could dock again."
        ),
        "Also on Friday, the ferry company said it would restore its timetable.",
        "The newsletter, which the club sends to 400 members, first reported the closure.",
    ],
)
def test_story_lines_that_look_like_furniture_are_kept(line: str) -> None:
    assert not is_furniture(line)


def test_a_late_tags_label_ends_the_body() -> None:
    paragraphs = [*STORY, "Tags", "harbour, repairs, ferries, port authority"]
    assert strip_furniture(paragraphs) == STORY


def test_timestamp_lines_go_only_from_the_edges_and_sentences_stay() -> None:
    assert is_timestamp("sexta-feira, 22 de outubro de 2010 às 20:13")
    assert is_timestamp("5:45 AM PST 11/19/2019 by Pat Lee")
    assert not is_timestamp("The ship docked at 10:30 on 2 May 2024.")
    middle = [*STORY[:3], "Thursday 2 May 2024 10:30", *STORY[3:]]
    assert strip_furniture(middle) == middle
    assert strip_furniture(["Thursday 2 May 2024 10:30", *STORY]) == STORY


def test_a_first_line_repeating_the_visible_headline_is_dropped() -> None:
    # og:title (the title field) is shorter than the <h1>; the body repeats the <h1>.
    head = '<meta property="og:title" content="Harbour reopens">'
    headline = "Harbour reopens after storm repairs finish early"
    html = page(f"<h1>{headline}</h1>" + story_html(first=f"<p>{headline}</p>"), head)
    result = extract_article(html, URL)
    assert result["title"] == "Harbour reopens"
    assert result["body"].split("\n\n")[0] == STORY[0]


def test_double_escaped_entities_in_jsonld_articlebody_are_decoded() -> None:
    body = " ".join(STORY).replace("said", "&amp;quot;said&amp;quot;")
    paragraphs = body_paragraphs(body, None)
    assert paragraphs is not None
    assert "&quot;" not in paragraphs[0]
    assert '"said"' in paragraphs[0]


def test_jsonld_articlebody_is_cleared_of_furniture_too() -> None:
    text = "\n".join([*STORY, "Related: Ten more harbours worth a visit"])
    ld = {"@type": "NewsArticle", "headline": "Harbour reopens", "articleBody": text}
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    result = extract_article(page("<article><p>Teaser only.</p></article>", head), URL)
    assert result["extraction"] == "jsonld"
    assert result["body"] == "\n\n".join(STORY)


# --- choosing the body candidate ---------------------------------------------------------


def test_recall_body_replaces_a_short_precision_body_that_it_contains() -> None:
    assert generic.agrees(["Short lead only."], ["Short lead only.", *STORY])
    assert generic.agrees([], STORY)


def test_recall_body_that_disagrees_or_is_not_longer_is_not_taken() -> None:
    unrelated = [f"Menu item {i} links to another section of the site" for i in range(20)]
    assert not generic.agrees(["The harbour reopened on Thursday."], unrelated)
    assert not generic.agrees(STORY, STORY[:2])


@pytest.fixture
def candidates(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake trafilatura bodies: precision mode gives a fragment, recall mode the story."""
    modes: list[str] = []

    def fake(tree: Any, url: str, **options: Any) -> list[str]:
        mode = "precision" if options.get("favor_precision") else "recall"
        modes.append(mode)
        return [STORY[0][:60]] if mode == "precision" else list(STORY)

    monkeypatch.setattr(generic, "_extract", fake)
    return modes


def test_short_precision_body_asks_recall_mode_and_takes_the_agreeing_body(
    candidates: list[str],
) -> None:
    result = extract_article(page(story_html()), URL)
    assert candidates == ["precision", "recall"]
    assert result["body"] == "\n\n".join(STORY)


def test_a_full_precision_body_is_taken_without_asking_recall_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    modes: list[str] = []

    def fake(tree: Any, url: str, **options: Any) -> list[str]:
        modes.append("precision" if options.get("favor_precision") else "recall")
        return list(STORY)

    monkeypatch.setattr(generic, "_extract", fake)
    assert extract_article(page(story_html()), URL)["body"] == "\n\n".join(STORY)
    assert modes == ["precision"]


# --- metadata ----------------------------------------------------------------------------


@pytest.fixture
def metadata_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = generic._metadata

    def spy(page: Any, url: str, tz: Any) -> dict[str, Any]:
        calls.append(url)
        return real(page, url, tz)

    monkeypatch.setattr(generic, "_metadata", spy)
    return calls


def test_metadata_pass_is_skipped_when_structured_data_has_every_field(
    metadata_calls: list[str],
) -> None:
    ld = {
        "@type": "NewsArticle",
        "headline": "Harbour reopens",
        "datePublished": "2024-05-02T09:00:00+01:00",
        "author": {"@type": "Person", "name": "Ana Lopes"},
        "keywords": ["harbour", "ferries"],
        "image": "https://news.example.com/harbour.jpg",
    }
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    result = extract_article(page(story_html(), head), URL)
    assert result["extraction"] == "generic"
    assert result["published_at"] == "2024-05-02T09:00:00+01:00"
    assert metadata_calls == []


def test_metadata_pass_is_not_run_for_tags_or_an_image_alone(metadata_calls: list[str]) -> None:
    ld = {
        "@type": "NewsArticle",
        "headline": "Harbour reopens",
        "datePublished": "2024-05-02T09:00:00+01:00",
        "author": {"@type": "Person", "name": "Ana Lopes"},
    }  # no keywords, no image
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    result = extract_article(page(story_html(), head), URL)
    assert result["extraction"] == "generic"
    assert result["authors"] == ["Ana Lopes"]
    assert metadata_calls == []


def test_metadata_pass_finds_a_date_the_structured_data_lacks(metadata_calls: list[str]) -> None:
    html = page(story_html(extra_after="<p class='date'>Published 2 May 2024</p>"))
    result = extract_article(html, URL)
    assert metadata_calls == [URL]
    assert result["published_at"] is not None
    assert result["published_at"].startswith("2024-05-02")
    assert result["field_sources"]["published_at"] == "generic"
