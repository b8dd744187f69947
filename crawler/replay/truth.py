"""What holds in one phase of the replay site: hosts, per-host texts, edits, removals, special ids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crawler.replay.model import LIVE_HOSTS, PRIMARY, EditedText
from crawler.replay.timeline import SEIZURES

if TYPE_CHECKING:
    from crawler.replay.site import ReplaySite, Shown


@dataclass(frozen=True)
class Revision:
    """A story the primary edited after publishing it, as things stand in the phase asked about."""

    id: int
    phase: int  # the phase that brought the edit
    text: EditedText  # the primary's new text, with modified_at and the kind of change
    edited_on: tuple[str, ...]  # hosts serving the new text (the primary, its proxies, followers)
    stale_on: tuple[str, ...]  # hosts still serving the text from before the edit


@dataclass(frozen=True)
class Removal:
    """A story the primary took down, as things stand in the phase asked about."""

    id: int
    phase: int  # the phase that removed it
    removed_from: tuple[str, ...]  # hosts answering `status` for it (the primary, its proxies)
    status: int  # 404 | 410
    page: str  # "plain" (text/plain), "gone" (a short HTML page), "error page" (Page not found)
    still_on: tuple[str, ...]  # hosts still serving it


@dataclass(frozen=True)
class PhaseTruth:
    """Ground truth for one phase; `ReplaySite.truth` builds it on first use.

    Stories and their first-published facts are `site.stories`; this adds what the phase
    changed and per-host answers. Ids in every field are story ids.
    """

    phase: int
    now: dt.datetime  # the instant a crawl of this phase happens at
    states: dict[str, str]  # every host answered: live | seized | redirecting | proxy
    seized: dict[str, str]  # seized host -> "known" (the profile's markers match) | "unknown"
    candidate_hosts: tuple[str, ...]  # hosts outside the profile serving the primary's pages
    new_ids: tuple[int, ...]  # stories this phase published
    edited: dict[int, Revision]  # edits on the primary up to this phase
    removed: dict[int, Removal]  # removals from the primary up to this phase
    unlisted: tuple[int, ...]  # published, served, linked from nowhere
    gaps: tuple[int, ...]  # ids never published: 404 everywhere
    republished: dict[int, int]  # original id -> id of its copy
    bulletins: tuple[int, ...]  # the daily "Press TV’s news headlines" stories
    site: ReplaySite = field(repr=False, compare=False)

    def hosts_of(self, story_id: int) -> tuple[str, ...]:
        """Hosts that answer 200 with the story (candidate hosts proxy the primary)."""
        story = self.site.story(story_id)
        if story is None:
            return ()
        hosts = tuple(h for h in LIVE_HOSTS if self.site.serves(story, h))
        return hosts + (self.candidate_hosts if PRIMARY in hosts else ())

    def ids_on(self, host: str) -> tuple[int, ...]:
        """Stories a host serves, in id order (listed or not)."""
        return tuple(s.id for s in self.site.stories if host in self.hosts_of(s.id))

    def text_on(self, story_id: int, host: str) -> Shown | None:
        """The text a host serves for the story (title, lead, paragraphs, body, modified)."""
        story = self.site.story(story_id)
        if story is None or host not in self.hosts_of(story_id):
            return None
        source = PRIMARY if host in self.candidate_hosts else host
        return self.site.view_for(story, source).shown(story, source)


def phase_truth(site: ReplaySite) -> PhaseTruth:
    timeline = site.timeline
    phase = site.phase
    followers = (PRIMARY, *site.candidate_hosts)
    edited = {}
    for story_id, edit in timeline.edits.items():
        if edit.phase > phase:
            continue
        story = timeline.by_id[story_id]
        serving = [h for h in LIVE_HOSTS if site.serves(story, h)]
        on = [h for h in serving if h in edit.followed_by or h == PRIMARY]
        edited[story_id] = Revision(
            id=story_id,
            phase=edit.phase,
            text=timeline.revision(story_id),
            edited_on=tuple(on) + (site.candidate_hosts if PRIMARY in on else ()),
            stale_on=tuple(h for h in serving if h not in on),
        )
    removed = {
        story_id: Removal(
            id=story_id,
            phase=removal.phase,
            removed_from=followers,
            status=removal.status,
            page=removal.page,
            still_on=tuple(h for h in LIVE_HOSTS if site.serves(timeline.by_id[story_id], h)),
        )
        for story_id, removal in timeline.removals.items()
        if removal.phase <= phase
    }
    return PhaseTruth(
        phase=phase,
        now=site.now,
        states=dict(site.states),
        seized={h: wording for h, (since, _, wording) in SEIZURES.items() if since <= phase},
        candidate_hosts=site.candidate_hosts,
        new_ids=tuple(s.id for s in site.stories if s.phase == phase),
        edited=edited,
        removed=removed,
        unlisted=tuple(s.id for s in site.stories if not s.listed),
        gaps=tuple(i for i in timeline.gaps if timeline.phase_of_id(i) <= phase),
        republished={
            original: copy
            for original, copy in timeline.republished.items()
            if copy in site.story_ids
        },
        bulletins=tuple(i for i in timeline.bulletins if i in site.story_ids),
        site=site,
    )
