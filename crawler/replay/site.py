"""The replay site in one phase: lookups for the renderers, ground truth, and answers (no I/O)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from typing import NamedTuple

from crawler.replay import routes
from crawler.replay.model import (
    CANDIDATE_HOSTS,
    HOSTS,
    LIVE_HOSTS,
    NEWS_HOST,
    PHASE_NOW,
    PRIMARY,
    SCHEME,
    SECTIONS,
    ReplayConfig,
    StoryTruth,
    section_trail,
)
from crawler.replay.timeline import SEIZURES, PlannedRemoval, Timeline, host_states
from crawler.replay.truth import PhaseTruth, phase_truth


class Shown(NamedTuple):
    """The text of one story as one host serves it."""

    title: str
    lead: str
    paragraphs: tuple[str, ...]
    modified: dt.datetime

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


class ReplaySite:
    """A built site in one phase: ground truth in `stories` and `truth`, `respond()` for any
    host and path. `at_phase(n)` gives the same site in another phase."""

    def __init__(self, timeline: Timeline, phase: int) -> None:
        self.timeline = timeline
        self.phase = phase
        self.config = dataclasses.replace(timeline.config, phase=phase)
        self.now = PHASE_NOW[phase]
        self.hosts: dict[str, str] = dict(HOSTS)  # the profile's hosts and their roles
        self.candidate_hosts = CANDIDATE_HOSTS if phase >= 2 else ()
        self.states = host_states(self.config, phase)
        # Every story published by this phase, removed or not, in id order.
        self.stories = [s for s in timeline.stories if s.phase <= phase]
        self._by_id = {story.id: story for story in self.stories}
        self.story_ids = frozenset(self._by_id)
        self._live = tuple(h for h in LIVE_HOSTS if self.states[h] == "live")
        self._edits = {i: e for i, e in timeline.edits.items() if e.phase <= phase}
        self._removed = {i: r for i, r in timeline.removals.items() if r.phase <= phase}
        self._newest_first: dict[str, list[StoryTruth]] = {
            host: [s for s in reversed(self.stories) if s.listed and self.serves(s, host)]
            for host in self._live
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

    # --- phases ----------------------------------------------------------------------------

    def at_phase(self, phase: int) -> ReplaySite:
        """The same site in another phase (built once per phase, then shared)."""
        return view_of(self.timeline, phase)

    @property
    def previous(self) -> ReplaySite | None:
        return view_of(self.timeline, self.phase - 1) if self.phase > 1 else None

    @functools.cached_property
    def truth(self) -> PhaseTruth:
        return phase_truth(self)

    def state_of(self, host: str) -> str | None:
        """live | seized | redirecting | proxy, or None for a host this phase does not know."""
        return self.states.get(host)

    def seizure(self, host: str) -> tuple[dt.datetime, str]:
        """When a seized host went, and whether the profile's markers know its wording."""
        _, when, wording = SEIZURES[host]
        return when, wording

    # --- lookups used by the renderers ---------------------------------------------------

    def story(self, story_id: int) -> StoryTruth | None:
        return self._by_id.get(story_id)

    def serves(self, story: StoryTruth, host: str) -> bool:
        """Whether a live profile host answers 200 with the story in this phase."""
        if host not in self._live or story.id not in self._by_id:
            return False
        if host == PRIMARY and story.id in self._removed:
            return False
        return host in story.served_on

    def removal(self, story: StoryTruth, host: str) -> PlannedRemoval | None:
        return self._removed.get(story.id) if host == PRIMARY else None

    def newest(self, host: str) -> list[StoryTruth]:
        """Stories a live host serves and lists, newest first."""
        return self._newest_first.get(host, [])

    def in_section(self, host: str, section_id: int) -> list[StoryTruth]:
        """Stories of a section and its sub-sections that a host lists, newest first."""
        return self._in_section.get((host, section_id), [])

    def other_hosts(self, story: StoryTruth, host: str) -> list[str]:
        """Other live profile hosts serving the story, for cross-host links."""
        return [h for h in self._live if h != host and self.serves(story, h)]

    def alt_hosts(self) -> tuple[str, ...]:
        """The hosts an article's alternate-addresses block names when written in this phase."""
        return (*LIVE_HOSTS, NEWS_HOST) if self.phase >= 2 else LIVE_HOSTS

    def link_path(self, story: StoryTruth, host: str) -> str:
        """The path under which a host's own pages link the story."""
        return story.alt_slug_on.get(host, story.path)

    def link_url(self, story: StoryTruth, host: str) -> str:
        return f"{SCHEME}://{host}{self.link_path(story, host)}"

    def _edited_on(self, story: StoryTruth, host: str) -> bool:
        edit = self._edits.get(story.id)
        return edit is not None and (host == PRIMARY or host in edit.followed_by)

    def shown(self, story: StoryTruth, host: str) -> Shown:
        if self._edited_on(story, host):
            revised = self.timeline.revision(story.id)
            modified = dt.datetime.fromisoformat(revised.modified_at)
            return Shown(revised.title, revised.lead, revised.paragraphs, modified)
        if host in story.modified_on:
            edited = story.edited_on[host]
            modified = dt.datetime.fromisoformat(edited.modified_at)
            return Shown(edited.title, edited.lead, edited.paragraphs, modified)
        return Shown(story.title, story.lead, story.paragraphs, story.published)

    def modified(self, story: StoryTruth, host: str) -> dt.datetime:
        """When the host's version last changed; cheap, it does not write the text."""
        if self._edited_on(story, host):
            return dt.datetime.fromisoformat(self._edits[story.id].modified_at)
        if host in story.modified_on:
            return dt.datetime.fromisoformat(story.modified_on[host])
        return story.published

    def view_for(self, story: StoryTruth, host: str) -> ReplaySite:
        """The phase that last changed the story's page on a host renders it.

        A page is written when it is published or edited and kept as it is after that, as a
        CMS's cache keeps it: its related links, titles and alternate addresses stay those of
        that phase, so an unchanged page has the same bytes, ETag and Last-Modified in every
        later phase.
        """
        phase = story.phase
        edit = self._edits.get(story.id)
        if edit is not None and self._edited_on(story, host):
            phase = max(phase, edit.phase)
        return self if phase == self.phase else view_of(self.timeline, phase)

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
        state = self.state_of(resolved)
        if state == "proxy":  # a candidate host serves the primary's answers, byte for byte
            resolved, state = PRIMARY, self.state_of(PRIMARY)
        if state == "redirecting":
            route = routes.Route("redirect")
        elif state == "seized":
            route = routes.Route("seized")
        else:
            route = routes.parse_route(path_and_query)
        return routes.answer(self.render(resolved, route), method, headers or {})

    def render(self, host: str, route: routes.Route) -> routes.Page:
        """The page for a route on a resolved host (cached)."""
        return self._render(host, route)

    def missing(self, host: str) -> routes.Page:
        """What a live host answers for a path or story it does not have."""
        if host == self.config.home_for_any_path_host:
            return self.render(host, routes.Route("home"))
        page = routes.not_found()
        if host == self.config.soft_404_host:
            return dataclasses.replace(page, status=200)
        return page

    def _render_uncached(self, host: str, route: routes.Route) -> routes.Page:
        page = routes.render(self, host, route)
        before = self.previous
        if before is None or before.state_of(host) != self.state_of(host):
            return page
        # Validators follow the bytes: an unchanged page keeps the earlier phase's
        # Last-Modified; a changed one gets a later one, at worst this phase's instant.
        earlier = before.render(host, route)
        if routes.same_answer(page, earlier):
            return earlier
        if page.modified <= earlier.modified:
            return dataclasses.replace(page, modified=self.now)
        return page


def view_of(timeline: Timeline, phase: int) -> ReplaySite:
    """The timeline's site in a phase, built on first use."""
    with timeline.lock:
        site = timeline.views.get(phase)
        if site is None:
            site = timeline.views[phase] = ReplaySite(timeline, phase)
        return site


def resolve_host(host: str) -> str | None:
    """A known host from any spelling: case, port, trailing dot, with or without www."""
    bare = host.strip().lower().rstrip(".").split(":", 1)[0].removeprefix("www.")
    for known in (*HOSTS, *CANDIDATE_HOSTS):
        if known.removeprefix("www.") == bare:
            return known
    return None


def build_site(config: ReplayConfig | None = None) -> ReplaySite:
    """Generate the configured site in its phase; the same config always gives the same bytes."""
    config = config or ReplayConfig()
    return view_of(Timeline(config), config.phase)
