"""Site profiles: load a TOML profile, validate it, and expose it as a frozen dataclass."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from lxml import etree
from parsel.csstranslator import HTMLTranslator

SITES_PACKAGE = "crawler.sites"
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)
_OFFSET_RE = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_TEMPLATE_FIELD_RE = re.compile(r"{(\w+)}")
_css = HTMLTranslator()

# The fields a profile may name selectors for; each maps to a list tried in order.
SELECTOR_FIELDS = (
    "title",
    "lead",
    "body",
    "published_at",
    "modified_at",
    "section",
    "authors",
    "tags",
    "image_url",
    "image_caption",
)


class ProfileError(ValueError):
    """A profile could not be found or is invalid; `problems` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("; ".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class ArticleRule:
    """Which URLs are stories, and how a story's canonical path is written."""

    pattern: re.Pattern[str]
    canonical: str


@dataclass(frozen=True)
class Discovery:
    """Entry points and the shapes of listing and feed URLs."""

    home: tuple[str, ...] = ("/",)
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    robots_sitemaps: bool = True
    sections: tuple[str, ...] = ()
    listing_patterns: tuple[re.Pattern[str], ...] = ()
    feed_patterns: tuple[re.Pattern[str], ...] = ()
    max_listing_pages: int = 50


@dataclass(frozen=True)
class Selectors:
    """Per-field selectors (CSS, optionally with ::text / ::attr(x), or `xpath:` prefixed)."""

    title: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    published_at: tuple[str, ...] = ()
    modified_at: tuple[str, ...] = ()
    section: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    image_url: tuple[str, ...] = ()
    image_caption: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()

    def for_field(self, name: str) -> tuple[str, ...]:
        value: tuple[str, ...] = getattr(self, name)
        return value


@dataclass(frozen=True)
class Boilerplate:
    """What never belongs in a story's body."""

    selectors: tuple[str, ...] = ()
    cut_at: tuple[str, ...] = ()
    drop: tuple[re.Pattern[str], ...] = ()
    home_crumbs: tuple[str, ...] = ("Home",)


@dataclass(frozen=True)
class Markers:
    """Texts that identify pages which are not the site: seizure notices, parking pages, error templates."""

    seizure: tuple[str, ...] = ()
    parking: tuple[str, ...] = ()
    soft_404: tuple[str, ...] = ()


@dataclass(frozen=True)
class SiteProfile:
    name: str
    title: str
    primary: str
    alternates: tuple[str, ...]
    retired: tuple[str, ...]
    article: ArticleRule
    scheme: str = "https"
    language: str | None = None
    timezone: str = "+00:00"
    discovery: Discovery = field(default_factory=Discovery)
    selectors: Selectors = field(default_factory=Selectors)
    boilerplate: Boilerplate = field(default_factory=Boilerplate)
    markers: Markers = field(default_factory=Markers)
    source: str = "<memory>"

    @property
    def hosts(self) -> tuple[str, ...]:
        """Every host of the site, primary first, retired last."""
        return (self.primary, *self.alternates, *self.retired)

    @property
    def live_hosts(self) -> tuple[str, ...]:
        """Hosts trusted for content: the primary and the alternates."""
        return (self.primary, *self.alternates)

    def role_of(self, host: str) -> str | None:
        """`primary`, `alternate` or `retired` for a profile host (with or without www.), else None."""
        resolved = self.resolve_host(host)
        if resolved is None:
            return None
        if resolved == self.primary:
            return "primary"
        return "alternate" if resolved in self.alternates else "retired"

    def resolve_host(self, host: str) -> str | None:
        """Map any spelling of a site host (case, www., port, trailing dot) to the profile's host."""
        bare = _bare_host(host)
        for candidate in self.hosts:
            if _bare_host(candidate) == bare:
                return candidate
        return None

    @property
    def tzinfo(self) -> dt.tzinfo:
        """The zone of dates printed without an offset on this site's pages."""
        return parse_timezone(self.timezone)


def _bare_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") or host.count(":") > 1:
        return host
    host = host.split(":", 1)[0]
    return host.removeprefix("www.")


def parse_timezone(value: str) -> dt.tzinfo:
    """`+03:30` style fixed offsets or IANA names such as `Asia/Tehran`."""
    match = _OFFSET_RE.match(value)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(sign * delta)
    return zoneinfo.ZoneInfo(value)


# --- loading -----------------------------------------------------------------------------


def builtin_profiles() -> list[str]:
    """Names of the profiles shipped inside the package."""
    names = [
        entry.name.removesuffix(".toml")
        for entry in resources.files(SITES_PACKAGE).iterdir()
        if entry.name.endswith(".toml")
    ]
    return sorted(names)


def load_profile(name_or_path: str | Path) -> SiteProfile:
    """Load a built-in profile by name, or a profile file by path. Raises ProfileError."""
    text_value = str(name_or_path)
    path = Path(text_value)
    looks_like_path = path.suffix == ".toml" or "/" in text_value or path.exists()
    if looks_like_path:
        if not path.is_file():
            raise ProfileError(text_value, ["no such profile file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(text_value, [f"cannot read: {exc}"]) from None
        return parse_profile(text, source=text_value)
    if text_value not in builtin_profiles():
        known = ", ".join(builtin_profiles()) or "none"
        raise ProfileError(text_value, [f"unknown profile (built-in profiles: {known})"])
    text = resources.files(SITES_PACKAGE).joinpath(f"{text_value}.toml").read_text("utf-8")
    return parse_profile(text, source=text_value)


def parse_profile(text: str, source: str = "<string>") -> SiteProfile:
    """Parse and validate TOML text; every problem found is reported at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, [f"not valid TOML: {exc}"]) from None
    reader = _Reader(data)
    profile = _build(reader, source)
    if reader.problems or profile is None:
        raise ProfileError(source, reader.problems)
    return profile


class _Reader:
    """Reads typed values out of the TOML tree, collecting one problem per bad key."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.problems: list[str] = []

    def table(self, name: str, allowed: set[str]) -> Mapping[str, Any]:
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] must be a table")
            return {}
        for key in sorted(set(value) - allowed):
            self.problems.append(f"[{name}] has unknown key '{key}'")
        return value

    def string(
        self, where: str, table: Mapping[str, Any], key: str, default: str | None = None
    ) -> str | None:
        value = table.get(key, default)
        if value is None:
            if default is None:
                self.problems.append(f"{where}.{key} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}.{key} must be a non-empty string")
            return None
        return value

    def strings(self, where: str, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{where}.{key} must be a list of non-empty strings")
            return ()
        return tuple(value)

    def patterns(
        self, where: str, table: Mapping[str, Any], key: str
    ) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for raw in self.strings(where, table, key):
            pattern = self.regex(f"{where}.{key}", raw)
            if pattern is not None:
                compiled.append(pattern)
        return tuple(compiled)

    def regex(self, where: str, raw: str) -> re.Pattern[str] | None:
        try:
            return re.compile(raw, re.IGNORECASE)
        except re.error as exc:
            self.problems.append(f"{where}: bad regular expression {raw!r}: {exc}")
            return None

    def integer(self, where: str, table: Mapping[str, Any], key: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problems.append(f"{where}.{key} must be a positive integer")
            return default
        return value

    def boolean(self, where: str, table: Mapping[str, Any], key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{where}.{key} must be true or false")
            return default
        return value


_TOP_KEYS = {
    "name",
    "title",
    "language",
    "timezone",
    "hosts",
    "article",
    "discovery",
    "selectors",
    "boilerplate",
    "markers",
}


def _build(r: _Reader, source: str) -> SiteProfile | None:
    for key in sorted(set(r.data) - _TOP_KEYS):
        r.problems.append(f"unknown top-level key '{key}'")
    top = r.data
    name = r.string("profile", top, "name")
    if name is not None and not re.fullmatch(r"[a-z][a-z0-9_-]*", name):
        r.problems.append("profile.name must be lower-case letters, digits, '-' or '_'")
    title = r.string("profile", top, "title", default=name or "")
    language = top.get("language")
    if language is not None and not (isinstance(language, str) and language):
        r.problems.append("profile.language must be a string such as 'en'")
        language = None
    timezone = r.string("profile", top, "timezone", default="+00:00") or "+00:00"
    try:
        parse_timezone(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        r.problems.append(f"profile.timezone {timezone!r} is neither +HH:MM nor a known zone name")

    hosts = _read_hosts(r)
    article = _read_article(r)
    discovery = _read_discovery(r)
    selectors = _read_selectors(r)
    boilerplate = _read_boilerplate(r)
    markers = _read_markers(r)
    if r.problems or name is None or hosts is None or article is None:
        return None
    scheme, primary, alternates, retired = hosts
    return SiteProfile(
        name=name,
        title=title or name,
        language=language,
        timezone=timezone,
        scheme=scheme,
        primary=primary,
        alternates=alternates,
        retired=retired,
        article=article,
        discovery=discovery,
        selectors=selectors,
        boilerplate=boilerplate,
        markers=markers,
        source=source,
    )


def _read_hosts(r: _Reader) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    t = r.table("hosts", {"scheme", "primary", "alternates", "retired"})
    scheme = r.string("hosts", t, "scheme", default="https") or "https"
    if scheme not in ("http", "https"):
        r.problems.append("hosts.scheme must be 'http' or 'https'")
    primary = r.string("hosts", t, "primary")
    alternates = r.strings("hosts", t, "alternates")
    retired = r.strings("hosts", t, "retired")
    every = ([primary] if primary else []) + list(alternates) + list(retired)
    for host in every:
        if not _HOST_RE.match(host):
            r.problems.append(f"hosts: {host!r} is not a lower-case host name")
    seen: set[str] = set()
    for host in every:
        bare = _bare_host(host)
        if bare in seen:
            r.problems.append(f"hosts: {host!r} is listed twice")
        seen.add(bare)
    if primary is None:
        return None
    return scheme, primary, alternates, retired


def _read_article(r: _Reader) -> ArticleRule | None:
    t = r.table("article", {"pattern", "canonical"})
    raw = r.string("article", t, "pattern")
    canonical = r.string("article", t, "canonical")
    pattern = r.regex("article.pattern", raw) if raw else None
    if pattern is None or canonical is None:
        return None
    if "id" not in pattern.groupindex:
        r.problems.append("article.pattern needs a named group (?P<id>...)")
        return None
    if not canonical.startswith("/"):
        r.problems.append("article.canonical must be a path starting with '/'")
    for name in _TEMPLATE_FIELD_RE.findall(canonical):
        if name not in pattern.groupindex:
            r.problems.append(
                f"article.canonical uses {{{name}}}, which article.pattern does not capture"
            )
    return ArticleRule(pattern=pattern, canonical=canonical)


def _read_discovery(r: _Reader) -> Discovery:
    t = r.table(
        "discovery",
        {
            "home",
            "feeds",
            "sitemaps",
            "robots_sitemaps",
            "sections",
            "listing_patterns",
            "feed_patterns",
            "max_listing_pages",
        },
    )
    paths = {}
    for key in ("home", "feeds", "sitemaps", "sections"):
        values = r.strings("discovery", t, key)
        for value in values:
            if not value.startswith("/"):
                r.problems.append(f"discovery.{key}: {value!r} must be a path starting with '/'")
        paths[key] = values
    return Discovery(
        home=paths["home"] if "home" in t else ("/",),
        feeds=paths["feeds"],
        sitemaps=paths["sitemaps"],
        robots_sitemaps=r.boolean("discovery", t, "robots_sitemaps", True),
        sections=paths["sections"],
        listing_patterns=r.patterns("discovery", t, "listing_patterns"),
        feed_patterns=r.patterns("discovery", t, "feed_patterns"),
        max_listing_pages=r.integer("discovery", t, "max_listing_pages", 50),
    )


def _read_selectors(r: _Reader) -> Selectors:
    t = r.table("selectors", {*SELECTOR_FIELDS, "date_formats"})
    values: dict[str, tuple[str, ...]] = {}
    for key in SELECTOR_FIELDS:
        values[key] = r.strings("selectors", t, key)
        for selector in values[key]:
            _check_selector(r, f"selectors.{key}", selector)
    formats = r.strings("selectors", t, "date_formats")
    for fmt in formats:
        if "%" not in fmt:
            r.problems.append(f"selectors.date_formats: {fmt!r} is not a strptime format")
    return Selectors(date_formats=formats, **values)


def _read_boilerplate(r: _Reader) -> Boilerplate:
    t = r.table("boilerplate", {"selectors", "cut_at", "drop", "home_crumbs"})
    selectors = r.strings("boilerplate", t, "selectors")
    for selector in selectors:
        _check_selector(r, "boilerplate.selectors", selector)
    return Boilerplate(
        selectors=selectors,
        cut_at=r.strings("boilerplate", t, "cut_at"),
        drop=r.patterns("boilerplate", t, "drop"),
        home_crumbs=r.strings("boilerplate", t, "home_crumbs") if "home_crumbs" in t else ("Home",),
    )


def _read_markers(r: _Reader) -> Markers:
    t = r.table("markers", {"seizure", "parking", "soft_404"})
    return Markers(
        seizure=r.strings("markers", t, "seizure"),
        parking=r.strings("markers", t, "parking"),
        soft_404=r.strings("markers", t, "soft_404"),
    )


def _check_selector(r: _Reader, where: str, selector: str) -> None:
    check: Callable[[str], object]
    if selector.startswith("xpath:"):
        check = etree.XPath
        expression = selector.removeprefix("xpath:")
    else:
        check = _css.css_to_xpath
        expression = selector
    try:
        check(expression)
    except Exception as exc:  # noqa: BLE001 - cssselect and lxml raise several unrelated types
        r.problems.append(f"{where}: bad selector {selector!r}: {exc}")
