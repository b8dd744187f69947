"""What the replay site is made of: its configuration, hosts, sections and per-story ground truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

# Tehran time; Iran dropped daylight saving in 2022, so one fixed offset is right all year.
TEHRAN = dt.timezone(dt.timedelta(hours=3, minutes=30))
# The newest story is published just before this instant; nothing reads the clock.
END = dt.datetime(2026, 11, 20, 0, 0, tzinfo=TEHRAN)

PRIMARY = "www.presstv.ir"
MIRROR = "www.presstv.co.uk"  # serves edited texts and other slugs
LAGGING = "www.presstv.tv"  # lacks the newest stories
RETIRED = "www.presstv.com"  # seized in June 2021: a notice on every path
HOSTS = {PRIMARY: "primary", MIRROR: "alternate", LAGGING: "alternate", RETIRED: "retired"}
LIVE_HOSTS = (PRIMARY, MIRROR, LAGGING)
SCHEME = "https"  # links are written as the real site writes them; --connect-to does the rest


@dataclass(frozen=True)
class Section:
    id: int
    name: str
    parent: int | None = None


# The main menu of presstv.toml, with invented sub-sections (seven-digit ids under their parent)
# so that breadcrumbs go two levels below the home crumb: News / Palestine / Foreign Policy.
SECTIONS = (
    Section(10101, "Iran"),
    Section(1010101, "Politics", 10101),
    Section(1010102, "Economy", 10101),
    Section(1010103, "Defense", 10101),
    Section(10102, "Middle East"),
    Section(1010201, "Lebanon", 10102),
    Section(1010202, "Syria", 10102),
    Section(1010203, "Yemen", 10102),
    Section(1010204, "Iraq", 10102),
    Section(10103, "UK"),
    Section(1010301, "Politics", 10103),
    Section(10104, "US"),
    Section(1010401, "Politics", 10104),
    Section(1010402, "Economy", 10104),
    Section(10105, "Palestine"),
    Section(1010501, "Foreign Policy", 10105),
    Section(1010502, "Gaza", 10105),
    Section(1010503, "West Bank", 10105),
    Section(10107, "Society"),
    Section(1010701, "Health", 10107),
    Section(1010702, "Culture", 10107),
    Section(10110, "Opinion"),
    Section(1011001, "Analysis", 10110),
)
SECTION_BY_ID = {s.id: s for s in SECTIONS}
TOP_SECTIONS = tuple(s for s in SECTIONS if s.parent is None)


def section_trail(section_id: int) -> tuple[Section, ...]:
    """The section and its parents, outermost first."""
    trail = [SECTION_BY_ID[section_id]]
    while trail[0].parent is not None:
        trail.insert(0, SECTION_BY_ID[trail[0].parent])
    return tuple(trail)


@dataclass(frozen=True)
class ReplayConfig:
    """How big the site is and which stories get which treatment.

    Story number n counts from 1 (id = first_id + n - 1). A story is edited on the mirror when
    n is a multiple of edit_every, linked there under another slug when a multiple of
    alt_slug_every, drifts from the template when a multiple of drift_every (plain markup
    when a multiple of 2 * drift_every), and has no machine-readable date when a multiple of
    undated_every; 0 switches a treatment off. The lagging host lacks the newest `lag` stories.
    """

    stories: int = 60
    seed: int = 2026
    lag: int = 5
    edit_every: int = 7
    alt_slug_every: int = 5
    drift_every: int = 13
    undated_every: int = 11
    days: int = 21  # stories spread over the days before END, so sitemaps span two months
    first_id: int = 780001

    def __post_init__(self) -> None:
        if self.stories < 1:
            raise ValueError("stories must be at least 1")
        if not 0 <= self.lag < self.stories:
            raise ValueError("lag must be at least 0 and less than stories")
        every = (self.edit_every, self.alt_slug_every, self.drift_every, self.undated_every)
        if min(every) < 0:
            raise ValueError("the *_every settings must be 0 (off) or positive")
        if self.days < 1 or self.first_id < 1:
            raise ValueError("days and first_id must be positive")

    def is_every(self, n: int, every: int) -> bool:
        return every > 0 and n % every == 0


@dataclass(frozen=True)
class EditedText:
    """The text a host serves instead of the primary's."""

    title: str
    lead: str
    body: str
    modified_at: str  # ISO 8601 with +03:30
    change: str  # "added paragraph" | "changed paragraph" | "changed title and paragraph"

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return tuple(self.body.split("\n\n"))


@dataclass(frozen=True)
class StoryText:
    """The written part of a story: produced on first use, because most pages never need it."""

    paragraphs: tuple[str, ...]
    image_caption: str
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    edited_on: dict[str, EditedText]
    inline_link: tuple[int, int, str] | None  # (paragraph index, target id, linked words)


@dataclass(frozen=True)
class StoryTruth:
    """Everything true about one story, as an extractor should report it from the primary.

    The text fields (lead, body, image_caption, authors, tags, edited_on, inline_link) are
    written on first access from the story's own random stream, so a 5,000-story site builds
    at once and each story's text is the same whenever and in whatever order it is read.
    """

    id: int
    n: int  # 1-based position: which treatments apply
    key: str  # "presstv:<id>"
    slug: str
    path: str  # /Detail/YYYY/MM/DD/<id>/<slug>
    canonical_url: str
    published_at: str  # ISO 8601 with +03:30 (seconds are 0 when the page shows minutes only)
    section: str  # breadcrumb below the home crumb: "Palestine / Foreign Policy"
    section_id: int  # the innermost section
    title: str
    image_url: str
    layout: str  # "standard" | "drifted" (JSON-LD articleBody only) | "plain" (generic only)
    dated_by_meta: bool  # False: no article:published_time nor JSON-LD date, only the visible one
    served_on: tuple[str, ...]
    modified_on: dict[str, str]  # host -> ISO time of the edited version it serves
    alt_slug_on: dict[str, str]  # host -> the other path its pages link the story under
    related: tuple[int, ...]  # ids linked from the page's aside
    _write: Callable[[], StoryText] = field(repr=False, compare=False)
    _memo: list[StoryText] = field(default_factory=list, repr=False, compare=False)

    def text(self) -> StoryText:
        if not self._memo:  # two threads may both write it: same stream, same text
            self._memo.append(self._write())
        return self._memo[0]

    @property
    def paragraphs(self) -> tuple[str, ...]:
        return self.text().paragraphs

    @property
    def lead(self) -> str:
        """The first paragraph, which is also the meta description."""
        return self.paragraphs[0]

    @property
    def body(self) -> str:
        """Paragraphs joined by a blank line, boilerplate excluded."""
        return "\n\n".join(self.paragraphs)

    @property
    def image_caption(self) -> str:
        return self.text().image_caption

    @property
    def authors(self) -> tuple[str, ...]:
        return self.text().authors

    @property
    def tags(self) -> tuple[str, ...]:
        return self.text().tags

    @property
    def edited_on(self) -> dict[str, EditedText]:
        """Hosts serving a different text, with that text."""
        return self.text().edited_on

    @property
    def inline_link(self) -> tuple[int, int, str] | None:
        return self.text().inline_link

    @property
    def drifted(self) -> bool:
        return self.layout != "standard"

    @property
    def published(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.published_at)
