"""What a running crawl knows about each host: which may be asked, which are seized or broken."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from crawler import urls
from crawler.profiles import SiteProfile

# When this many different story URLs of one host all give the same page (the same bytes,
# or a redirect to the same URL), the host no longer serves the site, whatever the page says.
SAME_PAGE_PATHS = 3
_FIELD_RE = re.compile(r"{(\w+)}")
# Values for a story URL that names no story: the year 2000 predates every id in use.
_PROBE_VALUES = {"year": "2000", "month": "01", "day": "01", "id": "0", "slug": "newsmirror-probe"}

# A Scrapy signal the spider sends when a host's probe has answered (or failed) in this
# process, with `host`, `fingerprint` (what the host gave, or None) and `verdict` ((state,
# detail) when the answer made the crawl give the host up, else None). A fleet worker
# passes it on to the other workers, whose story requests for the host wait for it too.
PROBE_ANSWERED = object()


def probe_path(profile: SiteProfile) -> str | None:
    """A path of the site's story shape that names no story: what a host answers for it is
    what it answers for any path it does not have. None if the profile's template cannot
    make one that its own pattern accepts."""
    path = _FIELD_RE.sub(lambda m: _PROBE_VALUES.get(m.group(1), "0"), profile.article.canonical)
    url = f"{profile.scheme}://{profile.primary}{path}"
    return path if urls.article_ref(url, profile) is not None else None


@dataclass(frozen=True)
class Verdict:
    """A host given up on during a run, and why."""

    state: str  # seized | redirecting
    detail: str


class HostBook:
    """Runtime host states for one crawl; the spider's `host_policy` for HostGuardMiddleware.

    Seizure and parking notices are found two ways: by the profile's markers, and by
    structure, when many different story URLs of a host give one and the same page (so a
    notice in new wording is caught too). A host that sends every path to one URL is
    `redirecting`.
    """

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.verdicts: dict[str, Verdict] = {}
        self.probes: dict[str, str] = {}  # host -> what it gave for a story it cannot have
        self._served: set[str] = set()  # hosts that gave at least one story this run
        # host -> (same page fingerprint) -> story paths that gave it
        self._same: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def may_request(self, host: str) -> bool:
        """Only profile hosts, spelled as in the profile, and never one given up on."""
        return host in self.profile.hosts and host not in self.verdicts

    def give_up(self, host: str, state: str, detail: str) -> bool:
        """Stop asking a host; True the first time, so the caller can report it once."""
        if host in self.verdicts:
            return False
        self.verdicts[host] = Verdict(state, detail)
        return True

    def same_page(self, host: str, path: str, fingerprint: str) -> int:
        """Note that a story path of `host` gave the page `fingerprint` (a body hash, or
        `redirect:<url>`); returns how many different paths gave that page so far."""
        paths = self._same[host][fingerprint]
        paths.add(path)
        return len(paths)

    def served_story(self, host: str) -> None:
        self._served.add(host)

    def has_served_story(self, host: str) -> bool:
        return host in self._served

    def gives_probe_page(self, host: str, fingerprint: str) -> bool:
        """Whether a story URL of `host` gave exactly what the host gives for a story that
        does not exist: then it is no story, whatever extraction makes of the page."""
        return self.probes.get(host) == fingerprint

    def content_hosts(self) -> list[str]:
        """Live hosts (primary first) that may still give stories."""
        return [h for h in self.profile.live_hosts if h not in self.verdicts]
