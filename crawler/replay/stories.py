"""Writing the replay site's stories: schedule, sections, text, mirror treatments, copies, bulletins."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
import random
import re
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import quote

from crawler.replay.model import (
    END,
    LIVE_HOSTS,
    MIRROR,
    PHASE_NOW,
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
from crawler.replay.prose import MONTHS, WEEKDAYS, StoryWriter, distinct, slugify

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
BULLETIN_SECTION = 10101
BULLETIN_TITLE = "Press TV’s news headlines"
# A bulletin is this many fixed paragraphs and two lines that change daily. Enough fixed text
# that consecutive days share over 90% of their five-word shingles; a copy shares more still.
BULLETIN_PARAGRAPHS = 24
COPY_PREFIX = "In case you missed it: "
# Iran, the region and Palestine carry most of the output, as on the live site; it also gives
# the busiest sections of even a small site a second listing page.
TOP_WEIGHTS = {10101: 25, 10102: 20, 10103: 7, 10104: 10, 10105: 22, 10107: 8, 10110: 8}
_WEIGHT_UPTO = tuple(itertools.accumulate(TOP_WEIGHTS[s.id] for s in TOP_SECTIONS))
_WEIGHT_TOTAL = _WEIGHT_UPTO[-1]
RELATED = 4  # links in each page's aside
_DAY = dt.timedelta(days=1)


class Slot(NamedTuple):
    """One place in the sequence of ids: when it is published, in which phase, on which hosts."""

    n: int
    id: int
    published: dt.datetime
    phase: int
    hosts: tuple[str, ...]
    listed: bool


class StoryMaker:
    """Makes the stories of every phase in id order, keeping what later stories depend on."""

    def __init__(self, config: ReplayConfig) -> None:
        self.config = config
        self.stories: list[StoryTruth] = []
        self.gaps: list[int] = []
        self.republished: dict[int, int] = {}  # original id -> copy id
        self.bulletins: list[int] = []
        self._titles: set[str] = set()
        self._bulletin_days: set[dt.date] = set()
        self._originals: list[StoryTruth] = []  # stories a later copy may copy, in time order
        self._original_times: list[dt.datetime] = []

    def make_all(self) -> None:
        """Phase 1 from the config's own stream (as it always was), then phases 2 and 3."""
        config = self.config
        # The schedule stream decides times and links in story order; each story's own stream
        # (see _start_writer) decides its section and words.
        schedule = random.Random(config.seed)
        span = config.days * 86400
        step = span / config.stories
        start = END - dt.timedelta(seconds=span)
        for n in range(1, config.stories + 1):
            offset = (n - 0.5 + schedule.uniform(-0.4, 0.4)) * step
            published = start + dt.timedelta(seconds=round(offset))
            lagging = n > config.stories - config.lag
            self._make(n, published, schedule, 1, LIVE_HOSTS[:2] if lagging else LIVE_HOSTS)
        first = config.stories + 1
        later = (
            (2, config.new_stories, (PRIMARY, MIRROR)),  # www.presstv.tv is seized by then
            (3, config.later_stories, (PRIMARY,)),  # and www.presstv.co.uk parked
        )
        for phase, count, hosts in later:
            schedule = random.Random(f"replay {config.seed} phase {phase}")
            start = PHASE_NOW[phase - 1]
            step = (PHASE_NOW[phase] - start).total_seconds() / max(count, 1)
            for k in range(count):
                offset = (k + 0.5 + schedule.uniform(-0.4, 0.4)) * step
                published = start + dt.timedelta(seconds=round(offset))
                self._make(first + k, published, schedule, phase, hosts)
            first += count

    def _make(
        self,
        n: int,
        published: dt.datetime,
        schedule: random.Random,
        phase: int,
        hosts: tuple[str, ...],
    ) -> None:
        config = self.config
        story_id = config.first_id + n - 1
        if config.is_gap(n):
            self.gaps.append(story_id)
            return
        if config.is_every(n, config.undated_every):  # the page shows minutes only
            published = published.replace(second=0)
        listed = config.is_listed(n)
        if not listed and phase == 1:  # on every live host, so only a backfill by id finds it
            hosts = LIVE_HOSTS
        slot = Slot(n, story_id, published, phase, hosts, listed)
        if config.bulletins and published.date() not in self._bulletin_days:
            self._bulletin_days.add(published.date())
            story = self._bulletin(slot, schedule)
            self.bulletins.append(story_id)
        elif config.is_every(n, config.republish_every) and (
            original := self._original_for(published)
        ):
            story = self._copy(original, slot, schedule)
            self.republished[original.id] = story_id
        else:
            story = self._story(slot, schedule)
            if listed:
                self._originals.append(story)
                self._original_times.append(story.published)
        self.stories.append(story)

    def _original_for(self, published: dt.datetime) -> StoryTruth | None:
        """The latest story not yet copied that was published one to two days earlier."""
        times = self._original_times
        index = bisect.bisect_right(times, published - _DAY) - 1
        while index >= 0 and times[index] >= published - 2 * _DAY:
            story = self._originals[index]
            if story.id not in self.republished:
                return story
            index -= 1
        return None

    # --- the three kinds of story ----------------------------------------------------------

    def _story(self, slot: Slot, schedule: random.Random) -> StoryTruth:
        config = self.config
        writer, leaf, opinion = _start_writer(config, slot.id)
        attempts = 1
        title = writer.title(opinion)
        while title in self._titles:  # titles are unique; the text writer replays the attempts
            title = writer.title(opinion)
            attempts += 1
        self._titles.add(title)
        related = self._related(slot, schedule)
        modified_on = {}
        if config.is_every(slot.n, config.edit_every) and MIRROR in slot.hosts:
            edited_at = slot.published + dt.timedelta(minutes=schedule.randint(20, 900))
            modified_on[MIRROR] = edited_at.isoformat()
        write = functools.partial(_write_text, config, slot.n, attempts, related, modified_on)
        return self._truth(slot, title, leaf.id, related, write, modified_on=modified_on)

    def _copy(self, original: StoryTruth, slot: Slot, schedule: random.Random) -> StoryTruth:
        """The original's text under a new id: a new title, or the same title and one word changed."""
        retitled = len(self.republished) % 2 == 0
        title = f"{COPY_PREFIX}{original.title}" if retitled else original.title
        related = self._related(slot, schedule)
        write = functools.partial(_copy_text, original, retitled)
        return self._truth(
            slot,
            title,
            original.section_id,
            related,
            write,
            kind="republished",
            original_id=original.id,
            image_url=original.image_url,
        )

    def _bulletin(self, slot: Slot, schedule: random.Random) -> StoryTruth:
        related = self._related(slot, schedule)
        write = functools.partial(_write_bulletin, self.config, slot.id, slot.published.date())
        return self._truth(slot, BULLETIN_TITLE, BULLETIN_SECTION, related, write, kind="bulletin")

    # --- shared parts ----------------------------------------------------------------------

    def _related(self, slot: Slot, schedule: random.Random) -> tuple[int, ...]:
        config = self.config
        older: range | list[int] = range(max(config.first_id, slot.id - 30), slot.id)
        if config.gap_every or config.unlisted_every:  # never link what is not there to find
            older = [i for i in older if _is_linkable(config, i)]
        if len(older) >= RELATED:
            pool = list(older)
        else:
            last = config.first_id + config.stories
            first = range(config.first_id, min(last, config.first_id + RELATED + 1))
            pool = [i for i in first if i != slot.id and _is_linkable(config, i)]
        return tuple(sorted(distinct(schedule, pool, RELATED), reverse=True))

    def _truth(
        self,
        slot: Slot,
        title: str,
        section_id: int,
        related: tuple[int, ...],
        write: Callable[[], StoryText],
        *,
        modified_on: dict[str, str] | None = None,
        kind: str = "story",
        original_id: int | None = None,
        image_url: str | None = None,
    ) -> StoryTruth:
        config = self.config
        n, story_id, published = slot.n, slot.id, slot.published
        slug = slugify(title)
        y, m, d = published.year, published.month, published.day
        path = f"/Detail/{y:04d}/{m:02d}/{d:02d}/{story_id}/{slug}"
        image = f"/uploads/{y:04d}/{m:02d}/{d:02d}/{story_id}-{slug.split('-')[0].lower()}.jpg"
        layout = "standard"
        if config.is_every(n, config.drift_every):
            layout = "plain" if config.is_every(n, 2 * config.drift_every) else "drifted"
        alt = {}
        if config.is_every(n, config.alt_slug_every) and slot.listed and MIRROR in slot.hosts:
            alt[MIRROR] = _alt_path(n // config.alt_slug_every, story_id, published, slug, title)
        return StoryTruth(
            id=story_id,
            n=n,
            key=f"presstv:{story_id}",
            slug=slug,
            path=path,
            canonical_url=f"{SCHEME}://{PRIMARY}{path}",
            published_at=published.isoformat(),
            section=" / ".join(s.name for s in section_trail(section_id)),
            section_id=section_id,
            title=title,
            image_url=image_url or f"{SCHEME}://{PRIMARY}{image}",
            layout=layout,
            dated_by_meta=not config.is_every(n, config.undated_every),
            served_on=slot.hosts,
            modified_on=modified_on or {},
            alt_slug_on=alt,
            related=related,
            _write=write,
            phase=slot.phase,
            kind=kind,
            original_id=original_id,
            listed=slot.listed,
        )


def _is_linkable(config: ReplayConfig, story_id: int) -> bool:
    n = story_id - config.first_id + 1
    return not config.is_gap(n) and config.is_listed(n)


def _start_writer(config: ReplayConfig, story_id: int) -> tuple[StoryWriter, Section, bool]:
    """The story's own random stream, its section and a writer, in a fixed order of draws."""
    rng = random.Random(config.seed * 1_000_003 + story_id)
    draw = rng.random() * _WEIGHT_TOTAL
    top = next(s for s, upto in zip(TOP_SECTIONS, _WEIGHT_UPTO, strict=True) if draw < upto)
    subs = [s for s in SECTIONS if s.parent == top.id]
    leaf = subs[int(rng.random() * len(subs))] if subs and rng.random() < 0.65 else top
    countries, cities = REGIONS.get(leaf.id) or REGIONS[top.id]
    return StoryWriter(rng, countries, cities), leaf, top.id == OPINION


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
    for _ in range(attempts - 1):  # the same draws as StoryMaker._story, so the same title
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
        host: edit_text(writer, n // config.edit_every, title, paragraphs, modified)
        for host, modified in modified_on.items()
    }
    return StoryText(tuple(paragraphs), caption, authors, tags, edited, inline)


def revise_text(
    config: ReplayConfig, story: StoryTruth, ordinal: int, modified_at: str
) -> EditedText:
    """The primary's later edit of a story: the same writer (cast, places), a fresh stream."""
    writer, _, _ = _start_writer(config, story.id)
    writer.rng = random.Random(f"replay {config.seed} revision {story.id}")
    return edit_text(writer, ordinal, story.title, list(story.paragraphs), modified_at)


def edit_text(
    writer: StoryWriter, ordinal: int, title: str, paragraphs: list[str], modified_at: str
) -> EditedText:
    """Another version: a paragraph added, a paragraph rewritten, or a new headline too."""
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


def _copy_text(original: StoryTruth, retitled: bool) -> StoryText:
    paragraphs = list(original.paragraphs)
    if not retitled:  # one word changed, in the first paragraph after the lead that allows it
        for k, paragraph in enumerate(paragraphs[1:], start=1):
            changed = re.sub(r"\bsaid\b", "stated", paragraph, count=1)
            if changed == paragraph:
                changed = re.sub(r"\bthe\b", "this", paragraph, count=1)
            if changed != paragraph:
                paragraphs[k] = changed
                break
    return StoryText(
        tuple(paragraphs), original.image_caption, original.authors, original.tags, {}, None
    )


@functools.cache
def _bulletin_template(seed: int) -> tuple[str, ...]:
    """The fixed part of every bulletin, from a stream of its own."""
    writer = StoryWriter(random.Random(f"replay {seed} bulletin"), ("Iran",), ("Tehran",))
    return tuple(writer.paragraph() for _ in range(BULLETIN_PARAGRAPHS))


def _write_bulletin(config: ReplayConfig, story_id: int, day: dt.date) -> StoryText:
    writer, _, _ = _start_writer(config, story_id)
    date = f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year}"
    headlines = (writer.title(), writer.title())
    paragraphs = (
        f"Here are the headlines of Press TV’s news bulletin for {date}.",
        f"Top stories: {headlines[0]}; {headlines[1]}.",
        *_bulletin_template(config.seed),
    )
    caption = f"Press TV’s newsroom in Tehran, {date}. (Photo by Press TV)"
    return StoryText(paragraphs, caption, (), ("Press TV", "News headlines"), {}, None)


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
