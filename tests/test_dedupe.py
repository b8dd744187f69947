"""Near-duplicate detection: republished text under another key is linked, deterministically."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bench.neardup_speed import measure
from crawler import minhash
from crawler.dedupe import (
    LSH_WEIGHTS,
    NUM_PERM,
    THRESHOLD,
    NearDuplicateConfig,
    NearDuplicateConfigError,
    NearDuplicateIndex,
    content_hash,
    jaccard,
    published_seconds,
    shingle_fingerprints,
)
from crawler.items import Capture
from crawler.storage import Store

PRIMARY, UK = "www.presstv.ir", "www.presstv.co.uk"
ROLES = {PRIMARY: "primary", UK: "alternate"}
DAY0 = dt.datetime(2025, 3, 8, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=3, minutes=30)))
_SYLLABLES = ("ka", "ro", "mi", "ten", "sa", "vol", "du", "rin", "pe", "zo", "la", "nik", "ta")
VOCABULARY = sorted({"".join(p) for p in itertools.product(_SYLLABLES, repeat=3)})


def text(seed: int, words: int = 300) -> str:
    """Invented prose: words drawn from ~2,000, so two texts share next to no 5-word run."""
    rng = random.Random(seed)
    picked = rng.choices(VOCABULARY, k=words)
    sentences = [" ".join(picked[i : i + 15]).capitalize() + "." for i in range(0, words, 15)]
    return "\n\n".join(" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4))


def edit(body: str, positions: Sequence[int], tag: str = "x") -> str:
    """The same text with the words at `positions` replaced by words it does not contain."""
    words = body.split(" ")
    for n, position in enumerate(positions):
        words[position] = f"edited{tag}{n}"
    return " ".join(words)


def rewrite(body: str, fraction: float, seed: int) -> str:
    words = body.split(" ")
    positions = random.Random(seed).sample(range(len(words)), round(len(words) * fraction))
    return edit(body, positions, tag=f"r{seed}")


def similarity(a: str, b: str) -> float:
    return jaccard(shingle_fingerprints(a), shingle_fingerprints(b))


def published(days: float) -> str:
    return (DAY0 + dt.timedelta(days=days)).isoformat()


def capture(
    story: int,
    body: str,
    when: str | None,
    *,
    host: str = PRIMARY,
    minute: int = 0,
    title: str | None = None,
) -> Capture:
    """One article capture of a Press TV story, as the crawl hands it to the store."""
    key = f"presstv:{story}"
    url = f"https://{host}/Detail/2025/03/08/{story}/Story-{story}"
    return Capture(
        site="presstv",
        url=url,
        host=host,
        fetched_at=f"2026-11-25T12:{minute:02d}:00.000+00:00",
        outcome="article",
        page_type="article",
        status=200,
        headers={"Content-Type": ["text/html; charset=utf-8"]},
        content_type="text/html",
        body=f"<html><p>{body}</p></html>".encode(),
        article_key=key,
        article={
            "key": key,
            "site": "presstv",
            "source_id": str(story),
            "canonical_url": f"https://{PRIMARY}/Detail/2025/03/08/{story}/Story-{story}",
            "title": title or f"Story {story}",
            "body": body,
            "published_at": when,
            "authors": [],
            "tags": [],
            "language": "en",
            "extraction": "profile",
        },
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "news.db") as opened:
        opened.sync_hosts("presstv", ROLES)
        yield opened


def write(store: Store, *captures: Capture) -> None:
    run_id = store.begin_run("presstv", {})
    store.write_captures(run_id, list(captures))


def links(store: Store) -> dict[int, int | None]:
    """Story id -> the story id its row names as duplicate_of."""
    rows = store.db.execute("SELECT key, duplicate_of FROM articles ORDER BY key").fetchall()
    return {int(key.split(":")[1]): int(dup.split(":")[1]) if dup else None for key, dup in rows}


ROOT_QUERY = """
WITH RECURSIVE chain (key, original, depth) AS (
  SELECT key, duplicate_of, 1 FROM articles WHERE duplicate_of IS NOT NULL
  UNION ALL
  SELECT chain.key, a.duplicate_of, chain.depth + 1
  FROM chain JOIN articles AS a ON a.key = chain.original
  WHERE a.duplicate_of IS NOT NULL
)
SELECT key, original AS root, max(depth) AS links FROM chain GROUP BY key ORDER BY key
"""


# --- the rule -----------------------------------------------------------------------------------


def test_republished_text_under_a_new_key_is_linked_to_the_original(store: Store) -> None:
    body = text(1)
    write(store, capture(1, body, published(0)), capture(2, text(2), published(0)))
    write(store, capture(3, body, published(1), title="A new headline on the same text"))
    assert links(store) == {1: None, 2: None, 3: 1}


def test_one_changed_word_is_still_a_duplicate(store: Store) -> None:
    body = text(1)
    changed = edit(body, [150])
    assert 0.9 <= similarity(body, changed) < 1
    write(store, capture(1, body, published(0)), capture(2, changed, published(0.5)))
    assert links(store)[2] == 1


def test_a_text_with_thirty_percent_of_its_words_changed_is_not(store: Store) -> None:
    body = text(1)
    changed = rewrite(body, 0.3, seed=7)
    assert similarity(body, changed) < 0.9
    write(store, capture(1, body, published(0)), capture(2, changed, published(0.5)))
    assert links(store) == {1: None, 2: None}


BULLETIN = text(50)


@pytest.mark.parametrize(
    ("days_apart", "window_days", "linked"),
    [
        (4, 3, False),  # the default window: a template four days later is another bulletin
        (1, 3, True),  # within the window, the same text is a republication
        (3, 3, True),  # the window is inclusive
        (1, 0.5, False),  # a narrower window separates bulletins a day apart
        (0.25, 0.5, True),
    ],
)
def test_stories_further_apart_than_the_window_are_not_duplicates(
    store: Store, days_apart: float, window_days: float, linked: bool
) -> None:
    NearDuplicateIndex(store.db, window_days=window_days).rebuild()  # the database's setting
    title = "Press TV’s news headlines"
    later = edit(BULLETIN, [10])
    assert similarity(BULLETIN, later) >= 0.9
    write(
        store,
        capture(1, BULLETIN, published(0), title=title),
        capture(2, later, published(days_apart), title=title),
    )
    assert links(store)[2] == (1 if linked else None)


def test_undated_and_short_stories_are_never_linked(store: Store) -> None:
    body, short = text(1), text(2, words=20)  # 16 shingles, below MIN_SHINGLES
    write(
        store,
        capture(1, body, published(0)),
        capture(2, body, None),
        capture(3, body, "not a date"),
        capture(4, short, published(0)),
        capture(5, short, published(0.1)),
    )
    assert links(store) == {1: None, 2: None, 3: None, 4: None, 5: None}


def test_a_story_is_never_a_duplicate_of_its_own_versions(store: Store) -> None:
    body = text(1)
    write(store, capture(1, body, published(0)), capture(1, edit(body, [5]), published(0), host=UK))
    write(store, capture(1, edit(body, [9]), published(0), minute=5))  # the primary's edit
    row = store.db.execute("SELECT version_count, duplicate_of FROM articles").fetchone()
    assert row == (3, None)


def test_same_instant_is_decided_by_key(store: Store) -> None:
    body = text(1)
    utc = (DAY0 + dt.timedelta(days=1)).astimezone(dt.UTC).isoformat()
    write(store, capture(20, body, utc), capture(10, body, published(1)))  # the same instant
    assert links(store) == {10: None, 20: 10}


def test_chains_link_to_the_earliest_similar_story_not_the_root(store: Store) -> None:
    first = text(3, words=600)
    second = edit(first, [100, 200, 300, 400], tag="a")
    third = edit(second, [150, 250, 350, 450], tag="b")
    assert similarity(first, second) >= 0.9
    assert similarity(second, third) >= 0.9
    assert similarity(first, third) < 0.9  # the third no longer resembles the first
    write(store, capture(3, third, published(2)), capture(2, second, published(1)))
    write(store, capture(1, first, published(0)))
    assert links(store) == {1: None, 2: 1, 3: 2}
    root = store.db.execute(ROOT_QUERY).fetchall()  # as in docs/schema.md
    assert root == [("presstv:2", "presstv:1", 1), ("presstv:3", "presstv:1", 2)]


# --- determinism and fix-ups -----------------------------------------------------------------


def corpus() -> tuple[list[Capture], dict[int, int | None]]:
    """Stories covering every case, and the duplicate_of each must end with."""
    copy = text(10)
    chain = text(11, words=600)
    chain2 = edit(chain, [100, 200, 300, 400], tag="a")
    bulletin = text(12)
    stories: list[tuple[int, str, str | None, int | None]] = [
        (101, copy, published(0), None),  # the original
        (102, edit(copy, [40]), published(1), 101),
        (103, copy, published(2.5), 101),
        (104, copy, published(3.5), 102),  # 101 is 3.5 days away: out of the window
        (105, copy, None, None),  # undated
        (201, chain, published(0), None),
        (202, chain2, published(1), 201),
        (203, edit(chain2, [150, 250, 350, 450], tag="b"), published(2), 202),
        (301, bulletin, published(0), None),
        (302, edit(bulletin, [7]), published(5), None),  # the template, five days later
        (402, copy.upper(), published(10), 401),  # case does not matter; same instant: by key
        (401, copy, (DAY0 + dt.timedelta(days=10)).astimezone(dt.UTC).isoformat(), None),
        (501, text(13), published(0), None),  # unrelated
    ]
    captures = [capture(story, body, when) for story, body, when, _ in stories]
    return captures, {story: original for story, *_, original in stories}


@pytest.mark.parametrize("seed", range(6))
def test_result_does_not_depend_on_batch_order(tmp_path: Path, seed: int) -> None:
    captures, expected = corpus()
    rng = random.Random(seed)
    rng.shuffle(captures)
    with Store(tmp_path / "news.db") as store:
        store.sync_hosts("presstv", ROLES)
        start = 0
        while start < len(captures):
            size = rng.randint(1, 4)
            write(store, *captures[start : start + size])
            start += size
        assert links(store) == expected


def reference_links(store: Store) -> dict[int, int | None]:
    """The rule applied from scratch to every pair of stories as their rows are now."""
    index = NearDuplicateIndex(store.db)
    config = index.config
    placed = []
    for key, body, when in store.db.execute("SELECT key, body, published_at FROM articles"):
        fingerprints = shingle_fingerprints(body)
        ts = published_seconds(when)
        usable = ts is not None and fingerprints.size >= config.min_shingles
        bands = set(index._bands(fingerprints)) if usable else set()
        placed.append((int(key.split(":")[1]), ts or 0, fingerprints, bands))  # no bands: unlinked
    result: dict[int, int | None] = {}
    for story, ts, fingerprints, bands in placed:
        earlier = [
            (other_ts, f"presstv:{other}", other)
            for other, other_ts, other_fp, other_bands in placed
            if bands & other_bands
            and (other_ts, f"presstv:{other}") < (ts, f"presstv:{story}")
            and abs(other_ts - ts) <= config.window_seconds
            and jaccard(fingerprints, other_fp) >= config.threshold
        ]
        result[story] = min(earlier)[2] if earlier else None
    return result


@pytest.mark.parametrize("seed", range(8))
def test_links_after_random_edits_match_the_rule_applied_from_scratch(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    bases = [text(1000 + n) for n in range(3)]
    events = []
    for minute in range(40):
        story = rng.randint(1, 12)
        base = rng.choice(bases)
        body = edit(base, rng.sample(range(250), rng.randint(0, 2)), tag=str(minute))
        if rng.random() < 0.2:
            body = text(rng.randint(2000, 3000))  # rewritten beyond recognition
        when = published(rng.choice([0, 0.5, 1, 2, 3, 4, 6])) if rng.random() < 0.9 else None
        events.append(capture(story, body, when, minute=minute))
    with Store(tmp_path / "news.db") as store:
        store.sync_hosts("presstv", ROLES)
        for start in range(0, len(events), 5):
            write(store, *events[start : start + 5])
        expected = reference_links(store)
        assert any(expected.values())
        assert links(store) == expected


def test_an_earlier_story_arriving_later_takes_over_the_links(store: Store) -> None:
    body = text(1)
    write(store, capture(2, body, published(1)), capture(3, body, published(2)))
    assert links(store) == {2: None, 3: 2}
    write(store, capture(1, body, published(0)))
    assert links(store) == {1: None, 2: 1, 3: 1}


def test_a_link_the_index_did_not_make_is_replaced(store: Store) -> None:
    body = text(1)
    write(store, capture(2, body, published(1)))
    store.db.execute("UPDATE articles SET duplicate_of = 'presstv:999' WHERE key = 'presstv:2'")
    write(store, capture(1, body, published(0)))
    assert links(store) == {1: None, 2: 1}


def test_copies_are_relinked_when_the_original_text_changes(store: Store) -> None:
    body = text(1)
    write(store, *(capture(n, body, published(n)) for n in (1, 2, 3)))
    assert links(store) == {1: None, 2: 1, 3: 1}
    write(store, capture(1, text(99), published(0), minute=5))  # the primary rewrote story 1
    assert links(store) == {1: None, 2: None, 3: 2}
    write(store, capture(1, body, published(1), minute=9))  # and put the first text back
    assert links(store) == {1: None, 2: 1, 3: 1}


# --- persistence and configuration -------------------------------------------------------------


def index_state(store: Store) -> tuple[Any, ...]:
    """Links, bands by story key and entries: what a rebuild must reproduce (ids aside)."""
    conn = store.db.conn
    return (
        links(store),
        conn.execute(
            "SELECT s.article_key, b.band_hash FROM near_duplicate_bands AS b "
            "JOIN near_duplicate_stories AS s ON s.id = b.story_id ORDER BY 1, 2"
        ).fetchall(),
        conn.execute(
            "SELECT article_key, content_hash, published_ts, bands FROM near_duplicate_stories "
            "ORDER BY article_key"
        ).fetchall(),
    )


def test_index_survives_reopening_and_rebuild_gives_the_same_answers(tmp_path: Path) -> None:
    captures, expected = corpus()
    path = tmp_path / "news.db"
    with Store(path) as store:
        write(store, *captures[:6])
    with Store(path) as store:  # the index is in the file: the later stories find the earlier
        write(store, *captures[6:])
        assert links(store) == expected
        before = index_state(store)
        config = NearDuplicateIndex(store.db).config
        assert len(before[1]) == config.bands * 12  # every dated story with a body, once
        assert NearDuplicateIndex(store.db).rebuild() == 13
        assert index_state(store) == before


def test_rebuild_indexes_a_database_from_before_the_index(store: Store) -> None:
    captures, expected = corpus()
    write(store, *captures)
    for table in ("near_duplicate_bands", "near_duplicate_stories", "near_duplicate_config"):
        store.db.execute(f"DELETE FROM {table}")  # noqa: S608 - as migration 0003 leaves it
    store.db.execute("UPDATE articles SET duplicate_of = NULL")
    write(store, capture(900, text(900), published(0)))  # any write indexes every story
    assert links(store) == {**expected, 900: None}


def test_a_changed_configuration_needs_a_rebuild(store: Store) -> None:
    body = text(1)
    write(store, capture(1, body, published(0)), capture(2, body, published(4)))
    assert links(store)[2] is None  # four days apart, window three
    wider = NearDuplicateIndex(store.db, window_days=5)
    with pytest.raises(NearDuplicateConfigError, match="rebuild"):
        wider.update(["presstv:1"])
    assert wider.rebuild() == 2
    assert links(store)[2] == 1
    write(store, capture(3, body, published(8.5)))  # the store follows the stored setting
    assert links(store)[3] == 2
    assert NearDuplicateIndex(store.db).config.window_days == 5


def test_assign_places_one_story_and_returns_its_original(store: Store) -> None:
    body = text(1)
    write(store, capture(1, body, published(0)), capture(2, text(2), published(1)))
    store.db.execute("UPDATE articles SET body = ? WHERE key = 'presstv:2'", [body])
    assert NearDuplicateIndex(store.db).assign("presstv:2", body, published(1)) == "presstv:1"
    assert links(store)[2] == 1


def test_unchanged_stories_are_not_indexed_again(store: Store) -> None:
    write(store, capture(1, text(1), published(0)))
    assert NearDuplicateIndex(store.db).update(["presstv:1", "presstv:404"]) == 0


# --- the parts --------------------------------------------------------------------------------


def test_shingles_ignore_case_punctuation_and_spacing() -> None:
    a = shingle_fingerprints("The  talks, in Doha,\n\nresumed on Friday. Officials said")
    b = shingle_fingerprints("the talks in doha resumed on friday officials said")
    assert a.size == 5
    assert list(a) == list(b)
    assert shingle_fingerprints("too short").size == 0


@pytest.mark.parametrize("seed", range(5))
def test_fingerprint_jaccard_equals_exact_jaccard_of_word_shingles(seed: int) -> None:
    a = text(seed, words=200)
    b = rewrite(a, 0.02 * (seed + 1), seed)

    def shingles(body: str) -> set[tuple[str, ...]]:
        words = body.lower().replace(".", "").split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    exact = len(shingles(a) & shingles(b)) / len(shingles(a) | shingles(b))
    assert similarity(a, b) == pytest.approx(exact)


def test_bands_and_rows_come_from_datasketch_and_favour_recall() -> None:
    config = NearDuplicateConfig.choose()
    assert (config.threshold, config.shingle_words, config.num_perm) == (0.9, 5, 128)
    assert config.bands * config.band_rows <= config.num_perm
    found_at_threshold = 1 - (1 - 0.9**config.band_rows) ** config.bands
    assert found_at_threshold >= 0.85


def test_default_bands_and_rows_are_datasketchs_choice() -> None:
    from datasketch import MinHashLSH  # noqa: PLC0415 - only this test needs the optimiser

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=LSH_WEIGHTS)
    config = NearDuplicateConfig.choose()
    assert (config.bands, config.band_rows) == (lsh.b, lsh.r)


@pytest.mark.parametrize("seed", range(3))
def test_signatures_equal_datasketch_affine32_minhash(seed: int) -> None:
    import numpy as np  # noqa: PLC0415
    from datasketch import MinHash  # noqa: PLC0415

    sets = [shingle_fingerprints(text(seed * 10 + n, words=50 + 200 * n)) for n in range(3)]
    for fingerprints, signature in zip(sets, minhash.signatures(sets, 128), strict=True):
        expected = MinHash(num_perm=128, seed=minhash.SEED, hashfunc=int, scheme="affine32")
        expected.update_batch((fingerprints >> np.uint64(32)).tolist())
        assert signature.tolist() == np.asarray(expected.hashvalues).tolist()


def test_sketches_give_the_bands_computed_one_text_at_a_time(tmp_path: Path) -> None:
    with Store(tmp_path / "archive.db") as store:
        index = NearDuplicateIndex(store.db)
        bodies = [text(1), text(2), "too short", None]
        sketches = index.sketch(bodies)
        assert set(sketches) == {text(1), text(2), "too short"}
        assert sketches[text(1)].bands == index._bands(shingle_fingerprints(text(1)))
        assert sketches["too short"].bands is None


@pytest.mark.parametrize(
    "bad",
    [{"threshold": 0}, {"threshold": 1.5}, {"shingle_words": 0}, {"window_days": -1}],
)
def test_nonsense_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        NearDuplicateConfig.choose(**bad)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2025-03-08T10:21:47+03:30", 1741416707),
        ("2025-03-08T06:51:47Z", 1741416707),
        ("2025-03-08T06:51:47", 1741416707),
        ("2025-03-08", 1741392000),
        ("yesterday", None),
        (None, None),
    ],
)
def test_published_at_is_read_as_an_instant(value: str | None, seconds: int | None) -> None:
    assert published_seconds(value) == seconds


def test_benchmark_runs() -> None:
    figures = measure(sizes=(300, 600), sample=100)
    assert [row["stories"] for row in figures["sizes"]] == [300, 600]
    assert all(row["ms_per_story"] > 0 and row["peak_rss_mb"] > 0 for row in figures["sizes"])
    assert figures["planted_found"] == figures["planted"] > 0
    assert figures["false_links"] == 0


@pytest.mark.parametrize("order", [(1, 2, 3), (3, 2, 1), (2, 3, 1)])
def test_issues_of_a_recurring_series_are_not_duplicates(
    store: Store, order: tuple[int, ...]
) -> None:
    """Daily bulletins repeat their template inside the window: a title published on three
    different days is a series, and its issues are not copies of each other."""
    title = "Press TV’s news headlines"
    bodies = {1: BULLETIN, 2: edit(BULLETIN, [10]), 3: edit(BULLETIN, [20])}
    assert similarity(bodies[1], bodies[2]) >= 0.9
    for story in order:
        write(store, capture(story, bodies[story], published(story - 1), title=title))
    assert links(store) == {1: None, 2: None, 3: None}


def test_a_copy_under_its_original_title_is_still_a_duplicate(store: Store) -> None:
    title = "A story republished a day later"
    write(
        store,
        capture(1, BULLETIN, published(0), title=title),
        capture(2, edit(BULLETIN, [10]), published(1), title=title),
    )
    assert links(store) == {1: None, 2: 1}


# --- a batch is placed as its stories would be one at a time -------------------------------------


def test_a_story_and_its_copy_in_one_batch_are_linked_as_in_two(tmp_path: Path) -> None:
    body = text(1)
    copy = capture(2, edit(body, [7]), published(1), title="Republished")
    with Store(tmp_path / "one.db") as together, Store(tmp_path / "two.db") as apart:
        write(together, capture(1, body, published(0)), copy)
        write(apart, capture(1, body, published(0)))
        write(apart, copy)
        assert links(together) == links(apart) == {1: None, 2: 1}
        assert index_state(together) == index_state(apart)


def test_a_corpus_in_one_batch_is_indexed_as_one_story_per_batch(tmp_path: Path) -> None:
    captures, expected = corpus()
    with Store(tmp_path / "one.db") as together, Store(tmp_path / "many.db") as apart:
        write(together, *captures)
        for one in captures:
            write(apart, one)
        assert links(together) == expected
        assert index_state(together) == index_state(apart)


SERIES_TITLE = "Press TV’s news headlines"


def _unindexed_batch(store: Store, monkeypatch: pytest.MonkeyPatch, *captures: Capture) -> None:
    """Write the captures' stories without indexing them, as a batch leaves them for update()."""
    with monkeypatch.context() as patched:
        patched.setattr(NearDuplicateIndex, "update", lambda *args, **kwargs: 0)
        write(store, *captures)


def _copy(store: Store, path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    store.db.conn.backup(conn)
    return conn


def _one_at_a_time(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    """What update() did before batches: _place() for each changed story, in key order."""
    index = NearDuplicateIndex(conn)
    marks = ", ".join("?" for _ in keys)
    rows = conn.execute(
        "SELECT a.key, a.body, a.published_at, a.content_hash FROM articles AS a "  # noqa: S608
        "LEFT JOIN near_duplicate_stories AS s ON s.article_key = a.key "
        f"WHERE a.key IN ({marks}) AND (s.id IS NULL OR s.content_hash IS NOT a.content_hash "
        "OR s.published_at IS NOT a.published_at) ORDER BY a.key",
        sorted(keys),
    ).fetchall()
    with index.db.atomic():
        for key, body, when, chash in rows:
            index._place(key, body, when, chash)


def _whole_index(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """Every row the index wrote, ids included."""
    return tuple(
        conn.execute(sql).fetchall()
        for sql in (
            "SELECT key, duplicate_of FROM articles ORDER BY key",
            "SELECT * FROM near_duplicate_stories ORDER BY id",
            "SELECT * FROM near_duplicate_bands ORDER BY bucket, band_hash, story_id",
        )
    )


def _random_story(rng: random.Random, bases: Sequence[str], story: int, minute: int) -> Capture:
    roll = rng.random()
    if roll < 0.15:
        body = text(rng.randint(5000, 6000))  # unrelated
    elif roll < 0.2:
        body = text(rng.randint(5000, 6000), words=15)  # too short to link
    else:
        body = edit(rng.choice(bases), rng.sample(range(250), rng.randint(0, 3)), str(minute))
    when = published(rng.choice([0, 0.5, 1, 1, 2, 3.5, 5])) if rng.random() < 0.9 else None
    title = SERIES_TITLE if rng.random() < 0.15 else None
    return capture(story, body, when, minute=minute, title=title)


@pytest.mark.parametrize("seed", range(16))
def test_placing_a_batch_writes_what_placing_each_story_in_turn_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """New stories, edited ones (re-indexed), series issues and links the index did not make,
    mixed in one update(): links, entries (ids too) and bands as _place() gives them."""
    rng = random.Random(seed)
    bases = [text(4000 + n) for n in range(3)]
    with Store(tmp_path / "news.db") as store:
        store.sync_hosts("presstv", ROLES)
        for minute in range(0, 12, 3):  # an archive indexed already
            write(
                store,
                *(_random_story(rng, bases, rng.randint(1, 30), minute + n) for n in range(3)),
            )
        batch: dict[str, Capture] = {}
        for n in range(rng.randint(5, 25)):
            one = _random_story(rng, bases, rng.randint(1, 40), 20 + n)
            batch[str(one.article_key)] = one
        _unindexed_batch(store, monkeypatch, *batch.values())
        keys = list(batch)
        stored = [key for (key,) in store.db.execute("SELECT key FROM articles ORDER BY key")]
        for key in rng.sample(stored, min(6, len(stored))):  # links made elsewhere
            target = rng.choice([*keys, "presstv:999", "presstv:1"])
            store.db.execute("UPDATE articles SET duplicate_of = ? WHERE key = ?", [target, key])
        batched, single = _copy(store, tmp_path / "batched.db"), _copy(store, tmp_path / "one.db")
    with batched:  # some texts sketched ahead, as Store.write_captures does, others read
        index = NearDuplicateIndex(batched)
        bodies = dict(batched.execute("SELECT key, body FROM articles"))
        ahead = rng.sample(keys, len(keys) // 2)
        by_text = index.sketch(bodies[key] for key in ahead)
        sketches = {key: by_text[bodies[key]] for key in ahead if bodies[key] in by_text}
        assert index.update(keys, sketches) > 0
    with single:
        _one_at_a_time(single, keys)
    assert _whole_index(batched) == _whole_index(single)
    batched.close()
    single.close()


def test_a_rebuild_places_pages_as_one_story_at_a_time_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    captures, expected = corpus()
    with Store(tmp_path / "news.db") as store:
        _unindexed_batch(store, monkeypatch, *captures)
        rebuilt, single = _copy(store, tmp_path / "rebuilt.db"), _copy(store, tmp_path / "one.db")
    with rebuilt:
        assert NearDuplicateIndex(rebuilt).rebuild() == len(captures)
    with single:
        NearDuplicateIndex(single).rebuild()  # stores the configuration
        single.execute("DELETE FROM near_duplicate_bands")
        single.execute("DELETE FROM near_duplicate_stories")
        single.execute("UPDATE articles SET duplicate_of = NULL")
        _one_at_a_time(single, [str(c.article_key) for c in captures])
    assert _whole_index(rebuilt) == _whole_index(single)
    assert dict(rebuilt.execute("SELECT key, duplicate_of FROM articles")) == {
        f"presstv:{story}": None if original is None else f"presstv:{original}"
        for story, original in expected.items()
    }
    rebuilt.close()
    single.close()


# --- the fast paths give what the plain code gives ----------------------------------------------

_WORD = re.compile(r"[\w\u200c]+")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
@example("Iran’s “talks” — resumed\u00a0today… naïve, می\u200cخواهم ١٢٣ x_y")
@example("Zero\u200bwidth, word\u2060joiner and \ufeffBOM; tabs\tand\x1cseparators\x85")
@example("STRASSE Straße ﬁnal Ǆ")
def test_shingles_come_from_the_words_the_regex_finds(value: str) -> None:
    """Words are cut in bytes for speed; they must be the regex's words exactly."""
    words = _WORD.findall(value.casefold())
    fingerprints = shingle_fingerprints(value, size=1)
    assert fingerprints.size == len(set(words))
    if len(words) >= 5:
        expected = shingle_fingerprints(" ".join(words))
        assert shingle_fingerprints(value).tolist() == expected.tolist()


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_words_are_the_regex_matches_encoded(value: str) -> None:
    from crawler.dedupe import _utf8_words  # noqa: PLC0415 - the private helper under test

    assert _utf8_words(value) == [word.encode() for word in _WORD.findall(value)]


def test_signatures_of_long_texts_equal_datasketch_affine32_minhash() -> None:
    from datasketch import MinHash  # noqa: PLC0415

    fingerprints = shingle_fingerprints(text(77, words=2500))  # several blocks of shingles
    assert fingerprints.size > 2 * minhash.BLOCK
    [signature] = minhash.signatures([fingerprints], 128)
    expected = MinHash(num_perm=128, seed=minhash.SEED, hashfunc=int, scheme="affine32")
    expected.update_batch((fingerprints >> np.uint64(32)).tolist())
    assert signature.tolist() == np.asarray(expected.hashvalues).tolist()


@given(
    st.lists(
        st.sampled_from(
            ["word", "é", "e\u0301", " ", "  ", "\n", "\n\n", "\t", "\xa0", "\u200b", "’"]
        ),
        max_size=30,
    ).map("".join)
)
@example("Plain  text,\n\nin two paragraphs.")
@example("Curly “quotes” and Iran’s\u00a0spaces")
@example("De\u0301composed and zero\u200bwidth")
@example("")
def test_content_hash_and_word_count_agree_with_their_definitions(body: str) -> None:
    from crawler.dedupe import content_hash_and_word_count  # noqa: PLC0415

    assert content_hash_and_word_count("A title", body) == (
        content_hash("A title", body),
        len(body.split()),
    )


def test_the_other_spaces_are_every_space_str_split_cuts_at() -> None:
    from crawler.dedupe import _OTHER_SPACES  # noqa: PLC0415 - the private table under test

    spaces = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert set(_OTHER_SPACES) == spaces - {" ", "\n"}


@given(
    st.lists(
        st.sampled_from(["a", "b", " ", "  ", "\n", "\n\n", "\t", "\xa0", "é", "\u2028"]),
        max_size=30,
    ).map("".join)
)
@example("one two\n\nthree")
@example("\n\nleading and trailing\n\n")
@example("a\n\n\nb")
def test_whitespace_is_collapsed_as_split_and_join_would(value: str) -> None:
    from crawler.dedupe import _collapse  # noqa: PLC0415 - the private fast path under test

    assert _collapse(value) == " ".join(value.split())
