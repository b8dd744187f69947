"""URL identity: clean URLs, story keys, canonical URLs on the primary, and page types."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

from crawler.profiles import SiteProfile

# Query parameters that only say where a reader came from; they never change the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "at_medium",
        "at_campaign",
        "s_cid",
        "spm",
        "__twitter_impression",
        "mkt_tok",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_SLUG_SAFE = "-_.~!$&'()*+,;=:@"
_TEMPLATE_FIELD_RE = re.compile(r"{(\w+)}")


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def clean_url(url: str) -> str:
    """A stable spelling of a URL: no fragment, no tracking parameters, sorted query,
    normalised percent-encoding, lower-case scheme and host (w3lib's canonicalize_url)."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    ]
    rebuilt = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), ""))
    return canonicalize_url(rebuilt, keep_fragments=False)


def url_host(url: str) -> str:
    """The lower-case host of a URL, without port."""
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class ArticleRef:
    """What an article URL says about its story."""

    key: str
    source_id: str
    groups: dict[str, str]

    @property
    def date(self) -> dt.date | None:
        try:
            return dt.date(
                int(self.groups["year"]), int(self.groups["month"]), int(self.groups["day"])
            )
        except (KeyError, ValueError, TypeError):
            return None


def article_ref(url: str, profile: SiteProfile) -> ArticleRef | None:
    """The story a URL names, if it is an article URL on one of the profile's hosts."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https", ""):
        return None
    if parts.netloc and profile.resolve_host(parts.hostname or "") is None:
        return None
    match = profile.article.pattern.match(parts.path)
    if match is None:
        match = profile.article.pattern.match(unquote(parts.path))
    if match is None:
        return None
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    source_id = groups["id"]
    if source_id.isdigit():  # /0745312/ and /745312/ name one story
        source_id = source_id.lstrip("0") or "0"
    return ArticleRef(key=f"{profile.name}:{source_id}", source_id=source_id, groups=groups)


def story_key(url: str, profile: SiteProfile) -> str | None:
    """`<site>:<source id>` for an article URL on a profile host, else None."""
    ref = article_ref(url, profile)
    return ref.key if ref else None


def canonical_url(url: str, profile: SiteProfile) -> str | None:
    """The article's URL on the primary host, written with the profile's canonical template."""
    ref = article_ref(url, profile)
    if ref is None:
        return None
    values = dict(ref.groups)
    for name in ("month", "day"):
        if values.get(name, "").isdigit():
            values[name] = values[name].zfill(2)
    values["id"] = ref.source_id
    values["slug"] = quote(unquote(values.get("slug", "")), safe=_SLUG_SAFE)

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), "")

    path = _TEMPLATE_FIELD_RE.sub(fill, profile.article.canonical)
    path = re.sub(r"/+$", "", path) or "/"
    return f"{profile.scheme}://{profile.primary}{path}"


def on_host(url: str, host: str, scheme: str = "https") -> str:
    """The same path and query on another host (used to ask every mirror for one story)."""
    parts = urlsplit(url)
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


def to_profile_url(url: str, profile: SiteProfile) -> str | None:
    """A cleaned URL on the profile's spelling of its host, or None when the host is foreign."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = profile.resolve_host(parts.hostname or "")
    if host is None:
        return None
    return clean_url(on_host(safe_url_string(url), host, profile.scheme))


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def is_listing_url(url: str, profile: SiteProfile) -> bool:
    target = path_and_query(url)
    return (
        any(p.match(target) for p in profile.discovery.listing_patterns)
        or urlsplit(url).path in profile.discovery.sections
    )


def is_feed_url(url: str, profile: SiteProfile) -> bool:
    path = urlsplit(url).path
    return path in profile.discovery.feeds or any(
        p.match(path) for p in profile.discovery.feed_patterns
    )


def page_type(url: str, profile: SiteProfile) -> str:
    """article | home | listing | feed | sitemap | robots | other — from the URL alone."""
    path = urlsplit(url).path or "/"
    if article_ref(url, profile) is not None:
        return "article"
    if path.lower() == "/robots.txt":
        return "robots"
    if path in profile.discovery.home:
        return "home"
    if is_feed_url(url, profile):
        return "feed"
    if path in profile.discovery.sitemaps or re.search(
        r"sitemap[^/]*\.xml(\.gz)?$", path, re.IGNORECASE
    ):
        return "sitemap"
    if is_listing_url(url, profile):
        return "listing"
    return "other"
