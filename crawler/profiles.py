"""Site profiles: load a TOML profile, validate it, and expose it as a frozen dataclass."""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from lxml import etree
from parsel.csstranslator import HTMLTranslator

SITES_PACKAGE = "crawler.sites"
_HOST_RE = re.compile(
    r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
_OFFSET_RE = re.compile(r"([+-])(\d{2}):(\d{2})")
_NAME_RE = re.compile(r"[a-z][a-z0-9_-]*")
_LANGUAGE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_TEMPLATE_FIELD_RE = re.compile(r"{(\w+)}")
# Any datetime will do: a format that cannot read back what it wrote is broken.
_SAMPLE_TIME = dt.datetime(2025, 3, 8, 10, 21, 5, tzinfo=dt.UTC)
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

# Every key the loader accepts, so that validation, docs/profiles.md and its test share one list.
TOP_LEVEL_KEYS: tuple[str, ...] = ("name", "title", "language", "timezone")
TABLE_KEYS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "hosts": ("scheme", "primary", "alternates", "retired"),
        "article": ("pattern", "canonical", "id_path"),
        "discovery": (
            "home",
            "feeds",
            "sitemaps",
            "robots_sitemaps",
            "sections",
            "listing_patterns",
            "feed_patterns",
            "max_listing_pages",
        ),
        "selectors": (*SELECTOR_FIELDS, "date_formats"),
        "boilerplate": ("selectors", "cut_at", "drop", "home_crumbs"),
        "markers": ("seizure", "parking", "soft_404"),
    }
)


def accepted_keys() -> list[str]:
    """Every key a profile may set, top-level keys bare and table keys dotted (`hosts.primary`)."""
    return [*TOP_LEVEL_KEYS] + [f"{t}.{k}" for t, keys in TABLE_KEYS.items() for k in keys]


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
    id_path: str | None = None  # a story's address from its id alone, for --backfill-ids


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
    """One outlet: its hosts, which URLs are its stories, where to find them, how to read them."""

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
        return self._hosts_by_bare_name.get(_bare_host(host))

    @functools.cached_property
    def _hosts_by_bare_name(self) -> dict[str, str]:
        # Asked for every link of every page: a lookup, not a scan.
        return {_bare_host(candidate): candidate for candidate in reversed(self.hosts)}

    @functools.cached_property
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
    """`+03:30` style fixed offsets or IANA names such as `Asia/Tehran`; ValueError otherwise."""
    match = _OFFSET_RE.fullmatch(value)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(sign * delta)  # ValueError beyond ±24h
    try:
        return zoneinfo.ZoneInfo(value)
    # A key can name a directory of the zone database, be too long for a file name, or
    # not exist: callers need one exception type for "not a time zone".
    except (zoneinfo.ZoneInfoNotFoundError, OSError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc


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
    text, source = profile_text(name_or_path)
    return parse_profile(text, source=source)


def profile_text(name_or_path: str | Path) -> tuple[str, str]:
    """The TOML text of a built-in profile or a profile file, and how to name its source
    (a fleet hands the text itself to workers on other machines). Raises ProfileError."""
    text_value = str(name_or_path)
    # A built-in name wins over a same-named file in the working directory: `./presstv`
    # still reaches the file.
    if isinstance(name_or_path, str) and text_value in builtin_profiles():
        text = resources.files(SITES_PACKAGE).joinpath(f"{text_value}.toml").read_text("utf-8")
        return text, text_value
    path = Path(text_value)
    looks_like_path = (
        isinstance(name_or_path, Path)
        or text_value.endswith(".toml")
        or "/" in text_value
        or path.is_file()
    )
    if not looks_like_path:
        known = ", ".join(builtin_profiles()) or "none"
        raise ProfileError(
            text_value or "''",
            [f"unknown profile (built-in profiles: {known}; or give the path of a .toml file)"],
        )
    if not path.is_file():
        raise ProfileError(text_value, ["no such profile file"])
    try:
        return path.read_text(encoding="utf-8"), text_value
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(text_value, [f"cannot read: {exc}"]) from None


def parse_profile(text: str, source: str = "<string>") -> SiteProfile:
    """Parse and validate TOML text; every problem found is reported at once, as ProfileError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, [f"not valid TOML: {exc}"]) from None
    return profile_from_mapping(data, source=source)


def profile_from_mapping(data: Mapping[str, Any], source: str = "<mapping>") -> SiteProfile:
    """Validate an already parsed profile (the TOML tree as dicts and lists). Raises ProfileError."""
    reader = _Reader()
    profile = _build(reader, data, source)
    if reader.problems or profile is None:
        raise ProfileError(source, reader.problems or ["invalid profile"])
    return profile


def _kind(value: object) -> str:
    """How TOML would name a value's type, for error messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "an empty string" if not value.strip() else "a string"
    kinds = ((int, "an integer"), (float, "a float"), (list, "an array"), (dict, "a table"))
    for kind, label in kinds:
        if isinstance(value, kind):
            return label
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    return type(value).__name__


def _dotted(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


class _Reader:
    """Reads typed values out of the TOML tree, collecting one problem per bad key."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def unknown_keys(self, where: str, table: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        for key in sorted(set(table) - set(allowed)):
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            place = f"[{where}] has" if where else "the top level has"
            self.problem(f"{place} unknown key {key!r}{hint}")

    def table(
        self, data: Mapping[str, Any], name: str, *, required: bool = False
    ) -> Mapping[str, Any] | None:
        """The table, {} when absent and optional, None when absent and required or not a table."""
        if name not in data:
            if required:
                self.problem(f"[{name}] is required")
                return None
            return {}
        value = data[name]
        if not isinstance(value, dict):
            self.problem(f"[{name}] must be a table, not {_kind(value)}")
            return None
        self.unknown_keys(name, value, TABLE_KEYS[name])
        return value

    def string(
        self, where: str, table: Mapping[str, Any], key: str, *, required: bool = False
    ) -> str | None:
        if key not in table:
            if required:
                self.problem(f"{_dotted(where, key)} is required")
            return None
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{_dotted(where, key)} must be a non-empty string, not {_kind(value)}")
            return None
        return value

    def strings(self, where: str, table: Mapping[str, Any], key: str) -> tuple[str, ...]:
        """A list of non-empty strings; a single string counts as a list of one."""
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(f"{_dotted(where, key)} must be a list of strings, not {_kind(value)}")
            return ()
        good = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                good.append(item)
            else:
                self.problem(
                    f"{_dotted(where, key)}[{index}] must be a non-empty string, not {_kind(item)}"
                )
        return tuple(good)

    def patterns(
        self, where: str, table: Mapping[str, Any], key: str
    ) -> tuple[re.Pattern[str], ...]:
        compiled = []
        for raw in self.strings(where, table, key):
            pattern = self.regex(_dotted(where, key), raw)
            if pattern is not None:
                compiled.append(pattern)
        return tuple(compiled)

    def regex(self, where: str, raw: str) -> re.Pattern[str] | None:
        try:
            return re.compile(raw, re.IGNORECASE)
        # re raises OverflowError for huge repeat counts and RecursionError for deep nesting.
        except (re.error, OverflowError, RecursionError) as exc:
            self.problem(f"{where}: bad regular expression {raw!r}: {exc}")
            return None

    def integer(self, where: str, table: Mapping[str, Any], key: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            self.problem(f"{_dotted(where, key)} must be a positive integer, not {value!r}")
            return default
        return value

    def boolean(self, where: str, table: Mapping[str, Any], key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.problem(f"{_dotted(where, key)} must be true or false, not {_kind(value)}")
            return default
        return value


def _build(r: _Reader, data: Mapping[str, Any], source: str) -> SiteProfile | None:
    r.unknown_keys("", data, (*TOP_LEVEL_KEYS, *TABLE_KEYS))
    name = r.string("", data, "name", required=True)
    if name is not None and not _NAME_RE.fullmatch(name):
        r.problem(f"name {name!r} must be lower-case letters, digits, '-' or '_'")
    title = r.string("", data, "title")
    language = r.string("", data, "language")
    if language is not None and not _LANGUAGE_RE.fullmatch(language):
        r.problem(f"language {language!r} must be a language tag such as 'en' or 'pt-BR'")
    timezone = r.string("", data, "timezone") or "+00:00"
    try:
        parse_timezone(timezone)
    except ValueError:
        r.problem(f"timezone {timezone!r} is neither +HH:MM nor a known zone name")

    hosts = _read_hosts(r, data)
    article = _read_article(r, data)
    discovery = _read_discovery(r, data)
    selectors = _read_selectors(r, data)
    boilerplate = _read_boilerplate(r, data)
    markers = _read_markers(r, data)
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


def _read_hosts(
    r: _Reader, data: Mapping[str, Any]
) -> tuple[str, str, tuple[str, ...], tuple[str, ...]] | None:
    t = r.table(data, "hosts", required=True)
    if t is None:
        return None
    scheme = r.string("hosts", t, "scheme") or "https"
    if scheme not in ("http", "https"):
        r.problem(f"hosts.scheme must be 'http' or 'https', not {scheme!r}")
    primary = r.string("hosts", t, "primary", required=True)
    alternates = r.strings("hosts", t, "alternates")
    retired = r.strings("hosts", t, "retired")
    listed = [("hosts.primary", primary)] if primary else []
    listed += [("hosts.alternates", h) for h in alternates]
    listed += [("hosts.retired", h) for h in retired]
    seen: dict[str, str] = {}
    for where, host in listed:
        if not _HOST_RE.fullmatch(host):
            r.problem(
                f"{where}: {host!r} is not a host name "
                "(write it bare and lower-case, like www.example.com: no scheme, port or path)"
            )
            continue
        bare = _bare_host(host)
        if bare in seen:
            r.problem(f"{where}: {host!r} is the same host as {seen[bare]!r}, listed already")
        seen.setdefault(bare, host)
    if primary is None:
        return None
    return scheme, primary, alternates, retired


def _read_article(r: _Reader, data: Mapping[str, Any]) -> ArticleRule | None:
    t = r.table(data, "article", required=True)
    if t is None:
        return None
    problems_before = len(r.problems)
    raw = r.string("article", t, "pattern", required=True)
    canonical = r.string("article", t, "canonical", required=True)
    pattern = r.regex("article.pattern", raw) if raw else None
    if pattern is not None and "id" not in pattern.groupindex:
        r.problem("article.pattern needs a named group (?P<id>...) that holds the story's id")
    if canonical is not None:
        _check_canonical(r, canonical, pattern)
    id_path = r.string("article", t, "id_path")
    if id_path is not None and (not id_path.startswith("/") or "{id}" not in id_path):
        r.problem("article.id_path must be a path starting with '/' that uses {id}")
    if pattern is None or canonical is None or len(r.problems) > problems_before:
        return None
    return ArticleRule(pattern=pattern, canonical=canonical, id_path=id_path)


def _check_canonical(r: _Reader, canonical: str, pattern: re.Pattern[str] | None) -> None:
    if not _is_site_path(canonical):
        r.problem(f"article.canonical {canonical!r} must be a path starting with one '/'")
    if any(brace in _TEMPLATE_FIELD_RE.sub("", canonical) for brace in "{}"):
        r.problem(f"article.canonical {canonical!r} has a brace outside a {{group}} field")
    fields = dict.fromkeys(_TEMPLATE_FIELD_RE.findall(canonical))
    if "id" not in fields:
        # Without the id two stories could share one canonical URL.
        r.problem("article.canonical must use {id}")
    if pattern is None:
        return
    for name in fields:
        # A pattern without an id group is reported once, above, not again for {id}.
        if name not in pattern.groupindex and name != "id":
            r.problem(f"article.canonical uses {{{name}}}, which article.pattern does not capture")


def _is_site_path(value: str) -> bool:
    # `//host/x` is a URL on another host, not a path: urljoin would leave the site.
    return (
        value.startswith("/") and not value.startswith("//") and not any(c.isspace() for c in value)
    )


def _read_discovery(r: _Reader, data: Mapping[str, Any]) -> Discovery:
    t = r.table(data, "discovery")
    if t is None:
        return Discovery()
    paths = {}
    for key in ("home", "feeds", "sitemaps", "sections"):
        values = r.strings("discovery", t, key)
        for value in values:
            if not _is_site_path(value):
                r.problem(f"discovery.{key}: {value!r} must be a path starting with one '/'")
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


def _read_selectors(r: _Reader, data: Mapping[str, Any]) -> Selectors:
    t = r.table(data, "selectors")
    if t is None:
        return Selectors()
    values: dict[str, tuple[str, ...]] = {}
    for key in SELECTOR_FIELDS:
        values[key] = r.strings("selectors", t, key)
        for selector in values[key]:
            _check_selector(r, f"selectors.{key}", selector)
    formats = r.strings("selectors", t, "date_formats")
    for fmt in formats:
        _check_date_format(r, fmt)
    return Selectors(date_formats=formats, **values)


def _read_boilerplate(r: _Reader, data: Mapping[str, Any]) -> Boilerplate:
    t = r.table(data, "boilerplate")
    if t is None:
        return Boilerplate()
    selectors = r.strings("boilerplate", t, "selectors")
    for selector in selectors:
        _check_selector(r, "boilerplate.selectors", selector)
    return Boilerplate(
        selectors=selectors,
        cut_at=r.strings("boilerplate", t, "cut_at"),
        drop=r.patterns("boilerplate", t, "drop"),
        home_crumbs=r.strings("boilerplate", t, "home_crumbs") if "home_crumbs" in t else ("Home",),
    )


def _read_markers(r: _Reader, data: Mapping[str, Any]) -> Markers:
    t = r.table(data, "markers")
    if t is None:
        return Markers()
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
        r.problem(f"{where}: bad selector {selector!r}: {exc}")


def _check_date_format(r: _Reader, fmt: str) -> None:
    if "%" not in fmt:
        r.problem(f"selectors.date_formats: {fmt!r} has no strptime directive such as %d")
        return
    try:
        dt.datetime.strptime(_SAMPLE_TIME.strftime(fmt), fmt)
    except ValueError as exc:
        r.problem(f"selectors.date_formats: {fmt!r} is not a strptime format: {exc}")
