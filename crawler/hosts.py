"""What a running crawl knows about each host: which may be asked, which turned out seized."""

from __future__ import annotations

from crawler.profiles import SiteProfile


class HostBook:
    """Runtime host states for one crawl; the spider's `host_policy` for HostGuardMiddleware."""

    def __init__(self, profile: SiteProfile) -> None:
        self.profile = profile
        self.seized: dict[str, str] = {}  # host -> marker or reason

    def may_request(self, host: str) -> bool:
        """Only profile hosts, spelled as in the profile, and never one found seized."""
        return host in self.profile.hosts and host not in self.seized

    def mark_seized(self, host: str, reason: str) -> bool:
        """Record a seizure notice; True the first time, so the caller can log it once."""
        if host in self.seized:
            return False
        self.seized[host] = reason
        return True

    def content_hosts(self) -> list[str]:
        """Live hosts (primary first) that may still give stories."""
        return [h for h in self.profile.live_hosts if h not in self.seized]
