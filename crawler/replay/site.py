"""The replay site as data: build every story deterministically and answer requests (no I/O)."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import quote

from crawler.replay import routes
from crawler.replay.model import (
    END,
    HOSTS,
    LIVE_HOSTS,
    MIRROR,
    PRIMARY,
    SCHEME,
    SECTIONS,
    TOP_SECTIONS,
    EditedText,
    ReplayConfig,
    Section,
    StoryText,
    StoryTruth,
    section_trail,
)
from crawler.replay.prose import StoryWriter, distinct, slugify

# Where stories of a section happen: (countries, cities), looked up by section then parent.
REGIONS: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {
    10101: (
        ("Iran",),
        ("Tehran", "Isfahan", "Shiraz", "Tabriz", "Mashhad", "Bandar Abbas", "Ahvaz", "Kerman",
         "Rasht", "Yazd", "Qom", "Zahedan"),
    ),
    10102: (
        ("Iraq", "Jordan", "Qatar", "Oman", "Kuwait"),
        ("Baghdad", "Amman", "Doha", "Muscat", "Basra", "Erbil", "Salalah", "Zarqa"),
    ),
    1010201: (("Lebanon",), ("Beirut", "Tyre", "Sidon", "Baalbek", "Nabatieh", "Tripoli")),
    1010202: (("Syria",), ("Damascus", "Aleppo", "Homs", "Latakia", "Tartus", "Daraa")),
    1010203: (("Yemen",), ("Sanaa", "Hudaydah", "Aden", "Saada", "Taiz", "Marib")),
    1010204: (("Iraq",), ("Baghdad", "Basra", "Mosul", "Najaf", "Karbala", "Kirkuk")),
    10103: (
        ("Britain",),
        ("London", "Manchester", "Birmingham", "Glasgow", "Leeds", "Cardiff", "Bristol",
         "Liverpool", "Belfast", "Sheffield"),
    ),
    10104: (
        ("the United States",),
        ("Washington", "New York", "Chicago", "Los Angeles", "Houston", "Detroit", "Atlanta",
         "Phoenix", "Seattle", "Philadelphia"),
    ),
    10105: (
        ("Palestine",),
        ("Gaza City", "Ramallah", "Khan Younis", "Rafah", "Jenin", "Nablus", "Hebron",
         "Bethlehem", "Tulkarm", "Deir al-Balah"),
    ),
    10107: (
        ("Kenya", "Indonesia", "Venezuela", "Pakistan", "Turkey", "Nigeria", "Brazil"),
        ("Nairobi", "Jakarta", "Caracas", "Karachi", "Istanbul", "Lagos", "Recife", "Mombasa",
         "Lahore", "Izmir"),
    ),
    10110: (
        ("Iran", "Lebanon", "Britain", "the United States", "China", "Russia"),
        ("Tehran", "Beirut", "London", "Washington", "Beijing", "Moscow", "Geneva", "Vienna"),
    ),
}  # fmt: skip
OPINION = 10110
# Iran, the region and Palestine carry most of the output, as on the live site; it also gives
# the busiest sections of even a small site a second listing page.
TOP_WEIGHTS = {10101: 25, 10102: 20, 10103: 7, 10104: 10, 10105: 22, 10107: 8, 10110: 8}
_WEIGHT_UPTO = tuple(itertools.accumulate(TOP_WEIGHTS[s.id] for s in TOP_SECTIONS))
_WEIGHT_TOTAL = _WEIGHT_UPTO[-1]
RELATED = 4  # links in each page's aside


class Shown(NamedTuple):
    """The text of one story as one host serves it."""

    title: str
    lead: str
    paragraphs: tuple[str, ...]
    modified: dt.datetime


class ReplaySite:
    """A built site: ground truth in `stories`, and `respond()` for any host and path."""

    def __init__(self, config: ReplayConfig, stories: list[StoryTruth]) -> None:
        self.config = config
        self.hosts: dict[str, str] = dict(HOSTS)
        self.stories = stories
        self._by_id = {story.id: story for story in stories}
        self._newest_first: dict[str, list[StoryTruth]] = {
            host: [s for s in reversed(stories) if host in s.served_on] for host in LIVE_HOSTS
        }
        self._in_section: dict[tuple[str, int], list[StoryTruth]] = {}
        for host, listed in self._newest_first.items():
            for section in SECTIONS:
                self._in_section[host, section.id] = []
            for story in listed:
                for section in section_trail(story.section_id):
                    self._in_section[host, section.id].append(story)
        # Pages are rendered on first request; a bounded cache keeps big sites cheap to hold.
        self._render = functools.lru_cache(maxsize=2048)(self._render_uncached)

    # --- lookups used by the renderers ---------------------------------------------------

    def story(self, story_id: int) -> StoryTruth | None:
        return self._by_id.get(story_id)

    def newest(self, host: str) -> list[StoryTruth]:
        """Stories a live host serves, newest first."""
        return self._newest_first.get(host, [])

    def in_section(self, host: str, section_id: int) -> list[StoryTruth]:
        """Stories of a section and its sub-sections that a host serves, newest first."""
        return self._in_section.get((host, section_id), [])

    def link_path(self, story: StoryTruth, host: str) -> str:
        """The path under which a host's own pages link the story."""
        return story.alt_slug_on.get(host, story.path)

    def link_url(self, story: StoryTruth, host: str) -> str:
        return f"{SCHEME}://{host}{self.link_path(story, host)}"

    def shown(self, story: StoryTruth, host: str) -> Shown:
        if host in story.modified_on:
            edited = story.edited_on[host]
            modified = dt.datetime.fromisoformat(edited.modified_at)
            return Shown(edited.title, edited.lead, edited.paragraphs, modified)
        return Shown(story.title, story.lead, story.paragraphs, story.published)

    def modified(self, story: StoryTruth, host: str) -> dt.datetime:
        """When the host's version last changed; cheap, it does not write the text."""
        if host in story.modified_on:
            return dt.datetime.fromisoformat(story.modified_on[host])
        return story.published

    # --- HTTP ------------------------------------------------------------------------------

    def respond(
        self,
        host: str,
        path_and_query: str,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, headers and body for a request; `headers` may carry conditional fields."""
        resolved = resolve_host(host) or host
        route = routes.parse_route(path_and_query, self.hosts.get(resolved) == "retired")
        page = self._render(resolved, route)
        return routes.answer(page, method, headers or {})

    def _render_uncached(self, host: str, route: routes.Route) -> routes.Page:
        return routes.render(self, host, route)


def resolve_host(host: str) -> str | None:
    """A known host from any spelling: case, port, trailing dot, with or without www."""
    bare = host.strip().lower().rstrip(".").split(":", 1)[0].removeprefix("www.")
    for known in HOSTS:
        if known.removeprefix("www.") == bare:
            return known
    return None


def build_site(config: ReplayConfig | None = None) -> ReplaySite:
    """Generate the configured site; the same config always gives the same site, byte for byte."""
    config = config or ReplayConfig()
    # The schedule stream decides times and links in story order; each story's own stream
    # (see _start_writer) decides its section and words.
    schedule = random.Random(config.seed)
    span = config.days * 86400
    step = span / config.stories
    start = END - dt.timedelta(seconds=span)
    titles: set[str] = set()
    stories = []
    for n in range(1, config.stories + 1):
        offset = (n - 0.5 + schedule.uniform(-0.4, 0.4)) * step
        published = start + dt.timedelta(seconds=round(offset))
        stories.append(_make_story(config, n, published, schedule, titles))
    return ReplaySite(config, stories)


def _start_writer(config: ReplayConfig, story_id: int) -> tuple[StoryWriter, Section, bool]:
    """The story's own random stream, its section and a writer, in a fixed order of draws."""
    rng = random.Random(config.seed * 1_000_003 + story_id)
    draw = rng.random() * _WEIGHT_TOTAL
    top = next(s for s, upto in zip(TOP_SECTIONS, _WEIGHT_UPTO, strict=True) if draw < upto)
    subs = [s for s in SECTIONS if s.parent == top.id]
    leaf = subs[int(rng.random() * len(subs))] if subs and rng.random() < 0.65 else top
    countries, cities = REGIONS.get(leaf.id) or REGIONS[top.id]
    return StoryWriter(rng, countries, cities), leaf, top.id == OPINION


def _make_story(
    config: ReplayConfig,
    n: int,
    published: dt.datetime,
    schedule: random.Random,
    titles: set[str],
) -> StoryTruth:
    story_id = config.first_id + n - 1
    writer, leaf, opinion = _start_writer(config, story_id)
    attempts = 1
    title = writer.title(opinion)
    while title in titles:  # titles are unique; the text writer replays the same attempts
        title = writer.title(opinion)
        attempts += 1
    titles.add(title)

    dated = not config.is_every(n, config.undated_every)
    if not dated:  # the page shows minutes only, so that is all there is to know
        published = published.replace(second=0)
    slug = slugify(title)
    y, m, d = published.year, published.month, published.day
    path = f"/Detail/{y:04d}/{m:02d}/{d:02d}/{story_id}/{slug}"
    image = f"/uploads/{y:04d}/{m:02d}/{d:02d}/{story_id}-{slug.split('-')[0].lower()}.jpg"
    layout = "standard"
    if config.is_every(n, config.drift_every):
        layout = "plain" if config.is_every(n, 2 * config.drift_every) else "drifted"
    older = range(max(config.first_id, story_id - 30), story_id)
    pool = list(older) if len(older) >= RELATED else _first_ids(config, RELATED + 1, story_id)
    related = tuple(sorted(distinct(schedule, pool, RELATED), reverse=True))
    modified_on = {}
    if config.is_every(n, config.edit_every):
        edited_at = published + dt.timedelta(minutes=schedule.randint(20, 900))
        modified_on[MIRROR] = edited_at.isoformat()
    alt = {}
    if config.is_every(n, config.alt_slug_every):
        alt[MIRROR] = _alt_path(n // config.alt_slug_every, story_id, published, slug, title)
    lagging = n > config.stories - config.lag
    write = functools.partial(_write_text, config, n, attempts, related, modified_on)
    return StoryTruth(
        id=story_id,
        n=n,
        key=f"presstv:{story_id}",
        slug=slug,
        path=path,
        canonical_url=f"{SCHEME}://{PRIMARY}{path}",
        published_at=published.isoformat(),
        section=" / ".join(s.name for s in section_trail(leaf.id)),
        section_id=leaf.id,
        title=title,
        image_url=f"{SCHEME}://{PRIMARY}{image}",
        layout=layout,
        dated_by_meta=dated,
        served_on=LIVE_HOSTS[:2] if lagging else LIVE_HOSTS,
        modified_on=modified_on,
        alt_slug_on=alt,
        related=related,
        _write=write,
    )


def _write_text(
    config: ReplayConfig,
    n: int,
    attempts: int,
    related: tuple[int, ...],
    modified_on: dict[str, str],
) -> StoryText:
    story_id = config.first_id + n - 1
    writer, _, opinion = _start_writer(config, story_id)
    title = writer.title(opinion)
    for _ in range(attempts - 1):  # the same draws as _make_story, so the same title
        title = writer.title(opinion)
    paragraphs = writer.paragraphs(writer.rng.randint(6, 13))
    caption = writer.caption()
    authors = (writer.author(),) if opinion else ()
    tags = tuple(writer.tags())
    inline = None
    if related and len(paragraphs) > 2 and writer.rng.random() < 0.4:
        k = writer.rng.randrange(1, len(paragraphs))
        inline = (k, related[0], " ".join(paragraphs[k].split()[:4]))
    edited = {
        host: _edit(writer, n // config.edit_every, title, paragraphs, modified)
        for host, modified in modified_on.items()
    }
    return StoryText(tuple(paragraphs), caption, authors, tags, edited, inline)


def _first_ids(config: ReplayConfig, count: int, exclude: int) -> list[int]:
    last = config.first_id + config.stories
    return [i for i in range(config.first_id, min(last, config.first_id + count)) if i != exclude]


def _edit(
    writer: StoryWriter, ordinal: int, title: str, paragraphs: list[str], modified_at: str
) -> EditedText:
    """The mirror's version: a paragraph added, a paragraph rewritten, or a new headline too."""
    changed = list(paragraphs)
    kind = ordinal % 3
    if kind == 0:
        changed.append(writer.update())
        change = "added paragraph"
    else:
        k = writer.rng.randrange(1, len(changed))
        changed[k] = writer.paragraph()
        change = "changed paragraph"
    if kind == 2:
        title = f"{title}: Report" if ":" not in title else f"Update — {title}"
        change = "changed title and paragraph"
    return EditedText(
        title=title,
        lead=changed[0],
        body="\n\n".join(changed),
        modified_at=modified_at,
        change=change,
    )


def _alt_path(ordinal: int, story_id: int, published: dt.datetime, slug: str, title: str) -> str:
    """Another spelling of the story's URL, of the kinds seen on the live mirrors."""
    y, m, d = published.year, published.month, published.day
    base = f"/Detail/{y:04d}/{m:02d}/{d:02d}/{story_id}"
    kind = ordinal % 6
    if kind == 0:  # truncated mid-word
        return f"{base}/{slug[: max(8, len(slug) // 2)].rstrip('-')}"
    if kind == 1:  # cut at a word, ending in '-'
        words = slug.split("-")
        return f"{base}/{'-'.join(words[: max(2, len(words) * 2 // 3)])}-"
    if kind == 2:  # punctuation kept, percent-encoded
        encoded = quote(re.sub(r"\s+", "-", title), safe="-")
        if "%" not in encoded:
            encoded = f"%E2%80%98{encoded}%E2%80%99"
        return f"{base}/{encoded}"
    if kind == 3:  # lower-case path, unpadded date
        return f"/detail/{y}/{m}/{d}/{story_id}/{slug.lower()}"
    if kind == 4:
        return f"{base}/{slug}/"
    return base  # no slug at all
