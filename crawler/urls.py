"""URL identity: clean URLs, story keys, canonical URLs on the primary, and page types."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, unquote_plus, unquote_to_bytes, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

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
_TEMPLATE_FIELD_RE = re.compile(r"{(\w+)}")
# A '%' that starts no escape; written as %25 it means the same to a server and is valid.
_STRAY_PERCENT_RE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What browsers strip from the ends of a URL (C0 controls and space); str.strip() would also
# take Unicode spaces, which belong to a slug.
_URL_STRIP = "".join(map(chr, range(0x21)))
# Characters a canonical path keeps raw inside a pattern group: w3lib's path-safe set without
# '/', ';', '?' and '%', which are always escaped there so that `;` and `%3B` fold together.
_GROUP_SAFE = "!$&'()*+,:=@[]|-._~"


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def clean_url(url: str) -> str:
    """A stable spelling of a URL: no fragment, no tracking parameters, no default port, and
    w3lib's canonicalize_url for the rest (sorted query, upper-case percent-escapes, non-ASCII
    percent-encoded as UTF-8, dot segments resolved, lower-case scheme and host).

    w3lib parses the way browsers and Scrapy do (`\\` is `/`, for one), so the result names the
    resource Scrapy would fetch. Idempotent. Raises ValueError for a URL that cannot be parsed
    (a broken IPv6 literal, a port out of range, an http(s) URL without a host).
    """
    if _PLAIN_URL_RE.fullmatch(url) and "xn--" not in url:
        return url
    return _plain_prefix(url) or _clean(url)


def _plain_prefix(url: str) -> str | None:
    """For a plain URL (see _PLAIN_URL_RE) followed only by a fragment and by tracking
    parameters spelled plainly, what cleaning leaves: the plain URL ("/" when its path is
    empty). None for anything else. Related-story links carry these (`#comments`,
    `?utm_source=...`), and w3lib's parse costs ~50 µs a spelling."""
    match = _PLAIN_PREFIX_RE.match(url)
    if match is None or "xn--" in url:
        return None
    query = url[match.end() :].partition("#")[0]
    if query and not all(
        _PLAIN_KEY_RE.fullmatch(key) and is_tracking_param(key)
        for key in (pair.partition("=")[0] for pair in query[1:].split("&"))
    ):
        return None
    return match.group(0) if match.group(1) else match.group(0) + "/"


# The shape most links have: http(s), a lower-case ASCII host (no port, no IDNA label), a
# path of plain segments, no query or fragment. Such a URL is already clean (checked against
# _clean on 800,000 generated and real links), and the match costs a fraction of w3lib's
# parse, which is most of the cost of the first sight of each link in a crawl.
_PLAIN_ORIGIN = (
    r"https?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
_PLAIN_PATH = r"(?:/|(?:/[A-Za-z0-9_~-]+(?:\.[A-Za-z0-9_~-]+)*)+/?)"
_PLAIN_URL_RE = re.compile(_PLAIN_ORIGIN + _PLAIN_PATH)
# The same, followed by "?" or "#" or nothing; group 1 is the path (empty: no path at all).
_PLAIN_PREFIX_RE = re.compile(f"{_PLAIN_ORIGIN}({_PLAIN_PATH}?)(?=[?#]|$)")
# A query key with nothing to unescape: compared as it is written.
_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9_.-]+")


# Menus and related links repeat the same URLs on every page of a crawl.
@functools.lru_cache(maxsize=16384)
def _clean(url: str) -> str:
    fixed = _STRAY_PERCENT_RE.sub("%25", url.strip(_URL_STRIP))
    raw_query = fixed.partition("#")[0].partition("?")[2]
    tracking = [
        key
        for key in (pair.partition("=")[0] for pair in raw_query.split("&"))
        if key and is_tracking_param(unquote_plus(key))
    ]
    if tracking:
        fixed = url_query_cleaner(fixed, tracking, remove=True, unique=False)
    canonical = canonicalize_url(fixed)
    parts = urlsplit(canonical)
    if not parts.hostname and (
        canonical.startswith("//") or (parts.scheme and canonical.startswith(f"{parts.scheme}:/"))
    ):
        raise ValueError(f"no host in {url!r}")  # http:/// is nothing a client could fetch
    if parts.port is not None and parts.port == _DEFAULT_PORTS.get(parts.scheme):
        parts = parts._replace(netloc=parts.netloc.removesuffix(f":{parts.port}"))
    if not parts.path.endswith(";") and urlsplit(fixed).path.endswith(";"):
        # w3lib 2.6 drops a path's last ";" (empty parameters): it belongs to the path, and
        # a slug ending in ";" must stay the slug that "%3B" spells.
        parts = parts._replace(path=parts.path + ";")
    return urlunsplit(parts)


def _parse(url: str) -> SplitResult | None:
    """The cleaned URL's parts, or None when it cannot be parsed."""
    try:
        return urlsplit(clean_url(url))
    except ValueError:  # UnicodeError (lone surrogates) is a ValueError too
        return None


def _site_parts(url: str, profile: SiteProfile) -> SplitResult | None:
    """The cleaned URL's parts if it is on a profile host (or relative), else None."""
    parts = _parse(url)
    if parts is None or parts.scheme not in ("http", "https", ""):
        return None
    # A relative URL (no scheme, no host) is taken to be on the site.
    if (parts.netloc or parts.scheme) and profile.resolve_host(parts.hostname or "") is None:
        return None
    return parts


def url_host(url: str) -> str:
    """The lower-case host of a URL, without port, as Scrapy would connect to it ("" if none)."""
    parts = _parse(url)
    return (parts.hostname or "") if parts else ""


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
    """The story a URL names, if it is an article URL on one of the profile's hosts.

    The article pattern is matched against the cleaned path (see clean_url), so group values
    are percent-encoded ASCII and `\\d` only ever meets the digits 0-9.
    """
    parts = _site_parts(url, profile)
    return _ref_of_path(parts.path, profile) if parts else None


def _ref_of_path(path: str, profile: SiteProfile) -> ArticleRef | None:
    match = profile.article.pattern.match(path)
    if match is None:
        return None
    groups = {name: value for name, value in match.groupdict().items() if value is not None}
    source_id = _normal_value(groups["id"])
    if source_id.isdigit():  # /0745312/ and /745312/ name one story
        source_id = source_id.lstrip("0") or "0"
    return ArticleRef(key=f"{profile.name}:{source_id}", source_id=source_id, groups=groups)


def _normal_value(value: str) -> str:
    """A group's value escaped one way (every encoding of a slug is one slug)."""
    if _UNRESERVED_RE.fullmatch(value):  # most: nothing to unescape or escape
        return value
    return quote(unquote_to_bytes(value), safe=_GROUP_SAFE)


# Characters quote() never escapes and unquote never changes.
_UNRESERVED_RE = re.compile(r"[A-Za-z0-9_.~-]*")


def story_key(url: str, profile: SiteProfile) -> str | None:
    """`<site>:<source id>` for an article URL on a profile host, else None."""
    ref = article_ref(url, profile)
    return ref.key if ref else None


def canonical_url(url: str, profile: SiteProfile) -> str | None:
    """The article's URL on the primary host, written with the profile's canonical template.

    Spellings that differ only in host, scheme, `www.`, case of the host or of the pattern's
    literal text, padding of numbers, tracking parameters, fragment, trailing slash or
    percent-encoding give one canonical URL; it is itself clean and maps to itself.
    """
    ref = article_ref(url, profile)
    return None if ref is None else canonical_of_ref(ref, profile)


def canonical_of_ref(ref: ArticleRef, profile: SiteProfile) -> str:
    """canonical_url() for a URL whose ArticleRef is already at hand."""
    values = {name: _normal_value(value) for name, value in ref.groups.items()}
    for name in ("month", "day"):
        if values.get(name, "").isdigit():
            values[name] = values[name].lstrip("0").zfill(2)
    values["id"] = ref.source_id
    template = profile.article.canonical

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), "")

    # An empty optional group (no slug) must not leave `//` or a trailing `/` behind.
    path = re.sub(r"/{2,}", "/", _TEMPLATE_FIELD_RE.sub(fill, template))
    if not template.endswith("/"):
        path = path.rstrip("/") or "/"
    return clean_url(f"{profile.scheme}://{profile.primary}{path}")


def on_host(url: str, host: str, scheme: str = "https") -> str:
    """The same path and query on another host (used to ask every mirror for one story)."""
    parts = urlsplit(url)
    return urlunsplit((scheme, host, parts.path or "/", parts.query, ""))


# An absolute http(s) URL whose host is spelled plainly (ASCII letters, digits, dots,
# hyphens, an optional port) and ends its authority with "/", "?", "#" or the URL's end:
# cleaning it cannot change which host it names.
_PLAIN_HOST_RE = re.compile(r"https?://([A-Za-z0-9.-]+)(?::[0-9]*)?(?=[/?#]|$)")


def to_profile_url(url: str, profile: SiteProfile) -> str | None:
    """A cleaned URL on the profile's spelling of its host, or None when the host is foreign
    (or the URL is relative or cannot be parsed)."""
    parts = _profile_parts(url, profile)
    return urlunsplit(parts) if parts is not None else None


def _profile_parts(url: str, profile: SiteProfile) -> SplitResult | None:
    """to_profile_url()'s answer, not yet joined: the cleaned URL's parts on the profile's
    scheme and spelling of its host, with a path ("/" at least) and no fragment."""
    plain = _PLAIN_HOST_RE.match(url)
    if plain is not None and profile.resolve_host(plain.group(1)) is None:
        return None  # a foreign link (a share button, say): not worth cleaning
    parts = _parse(url)
    if parts is None or parts.scheme not in ("http", "https"):
        return None
    host = profile.resolve_host(parts.hostname or "")
    if host is None:
        return None
    return SplitResult(profile.scheme, host, parts.path or "/", parts.query, "")


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _is_entry(path: str, entries: Iterable[str]) -> bool:
    # Entry points are compared like the patterns are matched: without regard to case.
    folded = path.casefold()
    return any(folded == entry.casefold() for entry in entries)


def is_listing_url(url: str, profile: SiteProfile) -> bool:
    """A section listing or one of its pages (matched on the cleaned path and query)."""
    parts = _parse(url)
    return parts is not None and _is_listing(parts, profile)


def _is_listing(parts: SplitResult, profile: SiteProfile) -> bool:
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return any(p.match(target) for p in profile.discovery.listing_patterns) or _is_entry(
        parts.path, profile.discovery.sections
    )


def is_feed_url(url: str, profile: SiteProfile) -> bool:
    """One of the profile's feeds, or a path its feed patterns match."""
    parts = _parse(url)
    return parts is not None and _is_feed(parts, profile)


def _is_feed(parts: SplitResult, profile: SiteProfile) -> bool:
    return _is_entry(parts.path, profile.discovery.feeds) or any(
        p.match(parts.path) for p in profile.discovery.feed_patterns
    )


def page_type(url: str, profile: SiteProfile) -> str:
    """article | home | listing | feed | sitemap | robots | other — from the URL alone.

    A URL on a host outside the profile is `other`, whatever its path.
    """
    parts = _site_parts(url, profile)
    return "other" if parts is None else _page_type_of(parts, profile)[0]


def _page_type_of(parts: SplitResult, profile: SiteProfile) -> tuple[str, ArticleRef | None]:
    """page_type() of a cleaned URL's parts on the site, and the article's ref if it is one."""
    path = parts.path or "/"
    ref = _ref_of_path(path, profile)
    if ref is not None:
        return "article", ref
    if path.lower() == "/robots.txt":
        return "robots", None
    if _is_entry(path, profile.discovery.home):
        return "home", None
    if _is_feed(parts, profile):
        return "feed", None
    if _is_entry(path, profile.discovery.sitemaps) or re.search(
        r"sitemap[^/]*\.xml(\.gz)?$", path, re.IGNORECASE
    ):
        return "sitemap", None
    if _is_listing(parts, profile):
        return "listing", None
    return "other", None


def read_link(raw: str, profile: SiteProfile) -> tuple[str, str | None, ArticleRef | None]:
    """What a link points to, the URL parsed once: (page_type, the URL on the profile's
    spelling of its host or None when foreign, the story's ref when it is an article).
    The same answers as to_profile_url(), page_type() and article_ref() of that URL."""
    parts = _profile_parts(raw, profile)
    if parts is None:
        return "other", None, None
    kind, ref = _page_type_of(parts, profile)
    return kind, urlunsplit(parts), ref
