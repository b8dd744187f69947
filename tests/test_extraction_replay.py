"""Extraction on every page of the replay site, against the site's own ground truth."""

from __future__ import annotations

from typing import Any

import pytest

from crawler.extraction import extract_article
from crawler.profiles import load_profile
from crawler.replay import ReplaySite, StoryTruth

PROFILE = load_profile("presstv")
FIELDS = ("title", "body", "section", "published_at", "canonical_url", "key")


def _extract(site: ReplaySite, host: str, story: StoryTruth) -> dict[str, Any]:
    status, _, body = site.respond(host, story.path)
    assert status == 200
    return extract_article(body, f"https://{host}{story.path}", PROFILE)


@pytest.mark.parametrize("field", FIELDS)
def test_primary_pages_give_the_truth(replay_site: ReplaySite, field: str) -> None:
    wrong = {}
    for story in replay_site.stories:
        got = _extract(replay_site, "www.presstv.ir", story)[field]
        want = {
            "title": story.title,
            "body": story.body,
            "section": story.section,
            "published_at": story.published_at,
            "canonical_url": story.canonical_url,
            "key": story.key,
        }[field]
        if got != want:
            wrong[story.key] = (got, want)
    assert not wrong


def test_each_layer_is_used_where_the_template_allows(replay_site: ReplaySite) -> None:
    layers = {
        story.layout: _extract(replay_site, "www.presstv.ir", story)["extraction"]
        for story in replay_site.stories
    }
    assert layers == {"standard": "profile", "drifted": "jsonld", "plain": "generic"}


def test_mirror_pages_give_the_mirrors_edited_text(replay_site: ReplaySite) -> None:
    edited = [s for s in replay_site.stories if "www.presstv.co.uk" in s.edited_on]
    assert edited
    for story in edited:
        truth = story.edited_on["www.presstv.co.uk"]
        got = _extract(replay_site, "www.presstv.co.uk", story)
        assert (got["title"], got["body"]) == (truth.title, truth.body), story.key
        assert got["canonical_url"] == story.canonical_url  # identity is the primary's


def test_boilerplate_never_reaches_the_body(replay_site: ReplaySite) -> None:
    for story in replay_site.stories:
        body = _extract(replay_site, "www.presstv.ir", story)["body"]
        assert "alternate addresses" not in body, story.key
        assert "SHARE THIS ARTICLE" not in body.upper(), story.key
        assert story.image_caption not in body, story.key
