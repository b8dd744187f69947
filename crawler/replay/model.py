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
MIRROR = "www.presstv.co.uk"  # serves edited texts and other slugs; parked in phase 3
LAGGING = "www.presstv.tv"  # lacks the newest stories; seized in phase 2
RETIRED = "www.presstv.com"  # seized in June 2021: a notice on every path
HOSTS = {PRIMARY: "primary", MIRROR: "alternate", LAGGING: "alternate", RETIRED: "retired"}
LIVE_HOSTS = (PRIMARY, MIRROR, LAGGING)
# Hosts outside the profile that serve the primary's pages, byte for byte, from phase 2 on: a
# new mirror named in the articles' alternate-addresses block, and a CDN alias that the
# co.uk mirror's related links point at. A crawler has to discover them.
NEWS_HOST = "www.presstv.news"
CDN_HOST = "presstv.ir.cdn.example"
CANDIDATE_HOSTS = (NEWS_HOST, CDN_HOST)
SCHEME = "https"  # links are written as the real site writes them; --connect-to does the rest

# The site's timeline: phase n shows the site as a crawl at PHASE_NOW[n] finds it, a day apart.
PHASES = (1, 2, 3)
PHASE_NOW = {phase: END + dt.timedelta(days=phase - 1) for phase in PHASES}
RECENT = dt.timedelta(days=7)  # phase 2 edits and removes stories this recent (and one older)


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
    """How big the site is, which stories get which treatment, and which phase is served.

    Story number n counts from 1 (id = first_id + n - 1); the `*_every` rules apply to n, and
    phase 2 and 3 stories continue the count. Every treatment is off at 0 (or None, False), and
    the defaults give the site the tests and the demo were written against.

    The site as first built (phase 1):
      stories         stories published over the `days` days before END
      seed            seeds every random stream; the same config always gives the same bytes
      lag             the lagging www.presstv.tv lacks the newest `lag` stories (404 there)
      edit_every      www.presstv.co.uk serves an edited text of every n-th story
      alt_slug_every  www.presstv.co.uk links every n-th story under another spelling of its URL
      drift_every     every n-th story drifts from the template (plain markup every 2n-th)
      undated_every   every n-th story has no machine-readable date, only the visible one
      days, first_id  the span of publication days, and the first story id

    Over time (see PHASE_NOW; phase 1 is the site above):
      phase           which phase to serve: 1, 2 (a day later) or 3 (two days later)
      new_stories     phase 2 publishes this many stories (next ids) on the primary and co.uk
      later_stories   phase 3 publishes this many more, on the primary only
      primary_edits   phase 2 edits this many stories of the last 7 days on the primary;
                      co.uk follows the first edit and keeps the old text of the others
      removals        phase 2 removes 0-3 stories from the primary, still served by co.uk: a
                      recent one (404, plain text), a recent one (410), one older than 7 days
                      (404, the site's error page)
    Phase 2 also seizes www.presstv.tv (the June 2021 wording, known to the profile's markers)
    and brings the candidate hosts; phase 3 parks www.presstv.co.uk behind a page whose
    wording no marker knows, the same page on every path.

    Troublesome hosts and ids (in every phase; a seized host stays seized):
      soft_404_host           answers 200 with the "Page not found" page where it would 404
                              (the removals of phase 2 keep their 404 or 410)
      home_for_any_path_host  answers its home page (200) for every path it lacks
      redirecting_host        answers every path with `redirect_status` to `redirect_target`
      redirect_target         an absolute URL: the primary's home or a host outside the site
      redirect_status         301 or 302 (or 303, 307, 308)
      unlisted_every          every n-th story exists on every live host, linked nowhere
      gap_every               every n-th id is never published: 404 on every host
      id_redirects            /Detail/<id> answers 301 to the story's full URL on that host

    Near-duplicates (their ids are in the truth):
      republish_every  every n-th story is a copy of a story published 1-2 days before it,
                       alternately under a new title or with one word changed
      bulletins        the first story of each day is "Press TV’s news headlines", a fixed
                       template with a few lines that change from day to day
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
    phase: int = 1
    new_stories: int = 10
    later_stories: int = 5
    primary_edits: int = 3
    removals: int = 3
    soft_404_host: str | None = None
    home_for_any_path_host: str | None = None
    redirecting_host: str | None = None
    redirect_target: str | None = None
    redirect_status: int = 301
    unlisted_every: int = 0
    gap_every: int = 0
    id_redirects: bool = False
    republish_every: int = 0
    bulletins: bool = False

    def __post_init__(self) -> None:
        if self.stories < 1:
            raise ValueError("stories must be at least 1")
        if not 0 <= self.lag < self.stories:
            raise ValueError("lag must be at least 0 and less than stories")
        every = (
            self.edit_every,
            self.alt_slug_every,
            self.drift_every,
            self.undated_every,
            self.unlisted_every,
            self.gap_every,
            self.republish_every,
        )
        if min(every) < 0:
            raise ValueError("the *_every settings must be 0 (off) or positive")
        if self.days < 1 or self.first_id < 1:
            raise ValueError("days and first_id must be positive")
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(map(str, PHASES))}")
        if min(self.new_stories, self.later_stories, self.primary_edits) < 0:
            raise ValueError("new_stories, later_stories and primary_edits must be 0 or more")
        if not 0 <= self.removals <= 3:
            raise ValueError("removals must be between 0 and 3")
        self._check_hosts()

    def _check_hosts(self) -> None:
        named = [
            h
            for h in (self.soft_404_host, self.home_for_any_path_host, self.redirecting_host)
            if h is not None
        ]
        if any(h not in LIVE_HOSTS for h in named):
            raise ValueError(f"troublesome hosts must be live hosts: {', '.join(LIVE_HOSTS)}")
        if len(set(named)) < len(named):
            raise ValueError("the troublesome-host settings must name different hosts")
        if (self.redirecting_host is None) != (self.redirect_target is None):
            raise ValueError("redirecting_host and redirect_target must be set together")
        if self.redirect_target is not None and not self.redirect_target.startswith(
            ("http://", "https://")
        ):
            raise ValueError("redirect_target must be an absolute http(s) URL")
        if self.redirect_status not in (301, 302, 303, 307, 308):
            raise ValueError("redirect_status must be a redirect status (301, 302, ...)")

    def is_every(self, n: int, every: int) -> bool:
        return every > 0 and n % every == 0

    def is_gap(self, n: int) -> bool:
        return self.is_every(n, self.gap_every)

    def is_listed(self, n: int) -> bool:
        return not self.is_every(n, self.unlisted_every)


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
    """Everything true about one story as first published, as an extractor should report it
    from the primary.

    The text fields (lead, body, image_caption, authors, tags, edited_on, inline_link) are
    written on first access from the story's own random stream, so a 5,000-story site builds
    at once and each story's text is the same whenever and in whatever order it is read.
    `served_on`, `modified_on` and `edited_on` hold for the phase that published the story;
    what later phases change (edits on the primary, removals, seized hosts) is in
    `ReplaySite.truth`.
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
    phase: int = 1  # the phase that first published it
    kind: str = "story"  # "story" | "bulletin" | "republished" (a copy of `original_id`)
    original_id: int | None = None
    listed: bool = True  # False: no listing, feed, sitemap or other page links it
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
