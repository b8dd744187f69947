"""The replay site over time: every phase's stories, what each phase changes, what each host is."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.replay.model import (
    CANDIDATE_HOSTS,
    END,
    LAGGING,
    LIVE_HOSTS,
    MIRROR,
    PHASE_NOW,
    PHASES,
    RECENT,
    RETIRED,
    TEHRAN,
    EditedText,
    ReplayConfig,
    StoryTruth,
)
from crawler.replay.stories import StoryMaker, revise_text

if TYPE_CHECKING:
    from crawler.replay.site import ReplaySite

# When each host stopped serving the site, and whether the profile's markers know the wording
# of what it serves instead ("known": the June 2021 seizure notice; "unknown": a parking page).
SEIZURES: dict[str, tuple[int, dt.datetime, str]] = {
    RETIRED: (1, dt.datetime(2021, 6, 22, tzinfo=dt.UTC), "known"),
    LAGGING: (2, END + dt.timedelta(hours=20), "known"),
    MIRROR: (3, PHASE_NOW[2] + dt.timedelta(hours=20), "unknown"),
}
# (status, page) of the phase-2 removals, in the order they are picked: two recent stories,
# then one older than RECENT.
REMOVAL_KINDS = ((404, "plain"), (410, "gone"), (404, "error page"))


@dataclass(frozen=True)
class PlannedEdit:
    """The primary edits a story after publishing it; `followed_by` mirrors serve the edit too."""

    id: int
    phase: int
    ordinal: int  # which kind of edit (see stories.edit_text)
    modified_at: str
    followed_by: tuple[str, ...]


@dataclass(frozen=True)
class PlannedRemoval:
    """The primary takes a story down; mirrors that had it keep serving it."""

    id: int
    phase: int
    status: int  # 404 | 410
    page: str  # "plain" (text/plain), "gone" (a short HTML page), "error page" (Page not found)
    removed_at: dt.datetime


class Timeline:
    """Every phase of one config: built once, viewed per phase (`site.at_phase(n)`)."""

    def __init__(self, config: ReplayConfig) -> None:
        self.config = dataclasses.replace(config, phase=1)  # the phase is the view's business
        maker = StoryMaker(self.config)
        maker.make_all()
        self.stories = tuple(maker.stories)
        self.by_id = {story.id: story for story in self.stories}
        self.gaps = tuple(maker.gaps)
        self.republished = dict(maker.republished)  # original id -> copy id
        self.bulletins = tuple(maker.bulletins)
        self.edits, self.removals = _plan_phase_two(self.config, self.stories, self.republished)
        self.views: dict[int, ReplaySite] = {}  # filled by site.view_of
        self.lock = threading.RLock()
        self._revisions: dict[int, EditedText] = {}

    def phase_of_id(self, story_id: int) -> int:
        """The phase whose ids include this one (4: beyond every phase)."""
        config = self.config
        n = story_id - config.first_id + 1
        ends = itertools.accumulate((config.stories, config.new_stories, config.later_stories))
        return next((phase for phase, last in zip(PHASES, ends, strict=True) if n <= last), 4)

    def revision(self, story_id: int) -> EditedText:
        """The primary's edited text of a story (written on first use)."""
        text = self._revisions.get(story_id)
        if text is None:
            edit = self.edits[story_id]
            text = revise_text(self.config, self.by_id[story_id], edit.ordinal, edit.modified_at)
            self._revisions[story_id] = text  # two threads may both write it: the same text
        return text


def host_states(config: ReplayConfig, phase: int) -> dict[str, str]:
    """What every host is in a phase: live, seized, redirecting, or proxy (of the primary)."""
    states = dict.fromkeys(LIVE_HOSTS, "live")
    for host, (since, _, _) in SEIZURES.items():
        if phase >= since:
            states[host] = "seized"
    if phase >= 2:
        states.update(dict.fromkeys(CANDIDATE_HOSTS, "proxy"))
    redirecting = config.redirecting_host
    if redirecting is not None and states.get(redirecting) == "live":
        states[redirecting] = "redirecting"
    return states


def _plan_phase_two(
    config: ReplayConfig, stories: tuple[StoryTruth, ...], republished: dict[int, int]
) -> tuple[dict[int, PlannedEdit], dict[int, PlannedRemoval]]:
    """Which phase-1 stories the primary edits and removes in phase 2.

    Only plain cases are picked: ordinary listed stories in the standard layout with a
    machine-readable date, served by the primary and co.uk, not edited there already and not
    copied later, so each test sees one change at a time.
    """
    now = PHASE_NOW[2]

    def eligible(story: StoryTruth) -> bool:
        return (
            story.phase == 1
            and story.kind == "story"
            and story.listed
            and story.layout == "standard"
            and story.dated_by_meta
            and not story.modified_on
            and MIRROR in story.served_on
            and story.id not in republished
        )

    candidates = [s for s in reversed(stories) if eligible(s)]
    recent = [s for s in candidates if s.published >= now - RECENT]
    older = [s for s in candidates if s.published < now - RECENT]
    edited: list[StoryTruth] = []
    removed: list[tuple[StoryTruth, int]] = []  # (story, index into REMOVAL_KINDS)
    recent_removals = min(2, config.removals)
    for i, story in enumerate(recent):  # alternate, so edits and removals are both recent
        if len(edited) < config.primary_edits and (i % 2 == 0 or len(removed) == recent_removals):
            edited.append(story)
        elif len(removed) < recent_removals:
            removed.append((story, len(removed)))
    if config.removals == 3 and older:
        removed.append((older[0], 2))
    span = now - END
    edits = {
        story.id: PlannedEdit(
            id=story.id,
            phase=2,
            ordinal=i % 2 + 1,  # a changed paragraph; a changed title and paragraph; ...
            modified_at=_minute(END + span * (i + 1) / (len(edited) + 1)).isoformat(),
            followed_by=(MIRROR,) if i == 0 else (),
        )
        for i, story in enumerate(edited)
    }
    removals = {
        story.id: PlannedRemoval(
            id=story.id,
            phase=2,
            status=REMOVAL_KINDS[kind][0],
            page=REMOVAL_KINDS[kind][1],
            removed_at=END + dt.timedelta(hours=9 + 2 * kind),
        )
        for story, kind in removed
    }
    return edits, removals


def _minute(when: dt.datetime) -> dt.datetime:
    return when.astimezone(TEHRAN).replace(second=0, microsecond=0)
