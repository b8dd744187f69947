"""Judge a run and its hosts from what was captured: finished or failed, up, down or seized."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from crawler.items import ARTICLE, ERROR, GONE, SEIZED, Capture, HostVerdict

REQUIRED_FIELDS = ("title", "body", "published_at")
# A run fails when a required field is missing on more than this share of its stories:
# the sign that the site changed its layout under the profile.
DEFAULT_MAX_MISSING_SHARE = 0.5
# Reasons Scrapy closes a spider with that mean the run did all it was asked to.
COMPLETE_REASONS = {"finished", "closespider_pagecount", "closespider_itemcount"}


@dataclass
class HostTally:
    """What one host gave during a run."""

    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # error text -> count
    notice_url: str | None = None
    verdict: HostVerdict | None = None  # the crawl gave up on the host
    article_pages: int = 0  # 200 responses to its article URLs that were not a notice

    @property
    def pages(self) -> int:
        return sum(self.outcomes.values())


@dataclass
class RunTally:
    """Counters the storage pipeline keeps while captures stream through it."""

    hosts: dict[str, HostTally] = field(default_factory=dict)
    stories: int = 0  # captures that gave a story
    new_stories: int = 0  # ... of a story no host had answered for before this run
    missing: Counter[str] = field(default_factory=Counter)  # required field -> new stories without

    def give_up(self, verdict: HostVerdict) -> None:
        self.hosts.setdefault(verdict.host, HostTally()).verdict = verdict

    @property
    def article_pages(self) -> int:
        """Article pages answered by hosts still serving the site: a host found seized or
        redirecting says nothing about the site's layout."""
        return sum(
            t.article_pages
            for t in self.hosts.values()
            if host_state(t)[0] not in ("seized", "redirecting")
        )

    def add(self, capture: Capture) -> None:
        tally = self.hosts.setdefault(capture.host, HostTally())
        tally.outcomes[capture.outcome] += 1
        if capture.outcome == ERROR:
            tally.errors[_error_kind(capture)] += 1
        if capture.outcome == SEIZED and tally.notice_url is None:
            tally.notice_url = capture.url
        if capture.page_type == "article" and capture.status == 200 and capture.outcome != SEIZED:
            tally.article_pages += 1
        if capture.outcome == ARTICLE and capture.article is not None:
            self.stories += 1
            if not capture.story_known:
                # Completeness is judged on new stories: a layout change shows there first,
                # and stories rechecked from an older layout must not hide or fake it.
                self.new_stories += 1
                for name in REQUIRED_FIELDS:
                    if not capture.article.get(name):
                        self.missing[name] += 1


def _error_kind(capture: Capture) -> str:
    if capture.status is not None:
        return f"HTTP {capture.status}"
    return (capture.error or "error").split(":", 1)[0]


def host_state(tally: HostTally) -> tuple[str, str]:
    """(state, detail) of a host from this run's captures, as recorded in `mirrors`."""
    if tally.verdict is not None:
        return tally.verdict.state, tally.verdict.detail
    if tally.outcomes[SEIZED]:
        return "seized", f"seizure or parking notice at {tally.notice_url}"
    served = tally.pages - tally.outcomes[ERROR] - tally.outcomes[SEIZED]
    errors = ", ".join(f"{kind} ×{n}" for kind, n in tally.errors.most_common(3))
    if served:
        detail = f"{served} pages answered"
        return "up", f"{detail}; errors: {errors}" if errors else detail
    if tally.errors:
        only_404 = all(kind in ("HTTP 404", "HTTP 410") for kind in tally.errors)
        if only_404:
            return "up", f"answered, but only 404/410 ({tally.outcomes[ERROR]} pages)"
        return "down", f"no page answered: {errors}"
    if tally.outcomes[GONE]:
        return "up", "answered 404/410 for stories it had"
    return "unknown", "nothing fetched"


def run_verdict(
    tally: RunTally, finish_reason: str, max_missing_share: float = DEFAULT_MAX_MISSING_SHARE
) -> tuple[str, str | None]:
    """(`finished` | `failed` | `interrupted`, reason) for a run that closed with finish_reason."""
    if finish_reason not in COMPLETE_REASONS:
        if finish_reason == "storage_error":
            return "failed", "the database could not be written"
        return "interrupted", f"stopped early ({finish_reason})"
    if tally.article_pages and not tally.stories:
        return "failed", (
            f"fetched {tally.article_pages} article pages but extracted no story: "
            "has the site's layout changed?"
        )
    if tally.new_stories:
        for name in REQUIRED_FIELDS:
            share = tally.missing[name] / tally.new_stories
            if share > max_missing_share:
                return "failed", (
                    f"{name} missing on {tally.missing[name]} of {tally.new_stories} new "
                    f"stories ({share:.0%}): has the site's layout changed?"
                )
    return "finished", None
