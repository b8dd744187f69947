"""`make audit`: known vulnerabilities in the pins of requirements.lock, from the index's JSON API.

PyPI's JSON API carries the advisories (OSV, from the PyPA advisory database) that affect a
release. pip-audit asks `/pypi/NAME/VERSION/json` for each pin; where only a package index is
reachable that answers 404, and only `/pypi/NAME/json` (the latest release) answers. So each
pin is asked for its own release first and, failing that, for the project: the project's
advisories are the pin's own only when the pin is the latest release. Anything else is
*unverified*, with the reason, never assumed clean.

    python -m tools.audit --strict --requirement requirements.lock --report docs/audit.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import re
import shlex
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org"
USER_AGENT = "newsmirror-audit (+https://pypi.org/project/newsmirror/)"
# The largest project documents (numpy, cryptography: every release's files) are a few MB.
MAX_ANSWER_BYTES = 64 * 1024 * 1024

Status = Literal["clean", "vulnerable", "unverified"]


class LockError(ValueError):
    """The requirements file cannot be audited as a whole (a line pip could not read)."""


@dataclass(frozen=True, order=True)
class Pin:
    """One `name==version` of the lock; `problem` says why a line cannot be looked up."""

    name: str  # PEP 503 normalised
    version: str  # as written in the lock
    problem: str = ""


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()

    def names(self) -> set[str]:
        """Its id and aliases, case-folded, as --ignore-vuln matches them."""
        return {self.id.casefold(), *(alias.casefold() for alias in self.aliases)}

    def describe(self) -> str:
        text = self.id + (f" ({', '.join(self.aliases)})" if self.aliases else "")
        fixed = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release"
        return f"{text}, {fixed}"


@dataclass(frozen=True)
class Verdict:
    pin: Pin
    status: Status
    source: str = ""  # "release" (its own JSON) or "latest" (the project's, the pin is latest)
    advisories: tuple[Advisory, ...] = ()
    ignored: tuple[Advisory, ...] = ()  # found, but named by --ignore-vuln
    reason: str = ""  # why an unverified pin could not be verified

    @property
    def looked_up(self) -> str:
        """Whose advisories the verdict rests on."""
        return {"release": "its release", "latest": "latest release"}.get(self.source, "-")

    @property
    def detail(self) -> str:
        if self.status == "unverified":
            return self.reason
        parts = [advisory.describe() for advisory in self.advisories]
        if self.ignored:
            parts.append("ignored: " + ", ".join(advisory.id for advisory in self.ignored))
        return "; ".join(parts)


@dataclass
class AuditResult:
    verdicts: list[Verdict]
    strict: bool
    unused_ignores: list[str] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(1 for verdict in self.verdicts if verdict.status == status)

    @property
    def exit_code(self) -> int:
        failing = self.count("vulnerable") or (self.strict and self.count("unverified"))
        return 1 if failing else 0

    def summary(self) -> str:
        figures = (
            f"{len(self.verdicts)} pins: {self.count('clean')} verified clean, "
            f"{self.count('vulnerable')} vulnerable, {self.count('unverified')} unverified"
        )
        if self.count("vulnerable"):
            return f"audit failed: {figures} (vulnerable: {self._names('vulnerable')})"
        if self.count("unverified") and self.strict:
            return (
                f"audit failed: {figures} (--strict: a pin that cannot be verified fails; "
                f"unverified: {self._names('unverified')})"
            )
        if self.count("unverified"):
            return f"audit passed without --strict: {figures}"
        return f"audit passed: {figures}"

    def _names(self, status: Status, most: int = 6) -> str:
        names = [
            f"{v.pin.name} {v.pin.version}".strip() for v in self.verdicts if v.status == status
        ]
        more = f" and {len(names) - most} more" if len(names) > most else ""
        return ", ".join(names[:most]) + more


# --- the lock file ---------------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
# Per-requirement options (`--hash=...`) after the requirement itself.
_OPTIONS = re.compile(r"\s+--?[A-Za-z].*$")
_NESTED = ("-r", "--requirement", "-c", "--constraint")
_EDITABLE = ("-e", "--editable")


def read_pins(text: str) -> list[Pin]:
    """Every requirement of a pip requirements file, deduplicated and sorted by name.

    Markers are parsed but not evaluated: a pin is audited wherever it would be installed.
    """
    pins: set[Pin] = set()
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            option = line.split(maxsplit=1)[0].split("=", 1)[0]
            if option in _NESTED:
                raise LockError(f"line {number}: nested requirement files are not followed")
            if option in _EDITABLE:
                target = line.split(maxsplit=1)[-1]
                pins.add(Pin(target, "", "an editable requirement, not an index release"))
            continue  # --index-url, --find-links...: nothing to audit
        try:
            requirement = Requirement(_OPTIONS.sub("", line))
        except InvalidRequirement as error:
            raise LockError(f"line {number}: {error}") from None
        pins.add(_pin_of(requirement))
    return sorted(pins)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """Lines without comments, backslash continuations joined, numbered as they start."""
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def _pin_of(requirement: Requirement) -> Pin:
    name = canonicalize_name(requirement.name)
    if requirement.url:
        return Pin(name, "", "a direct URL requirement, not an index release")
    specifiers = list(requirement.specifier)
    if len(specifiers) == 1:
        (spec,) = specifiers
        if spec.operator in {"==", "==="} and not spec.version.endswith(".*"):
            return Pin(name, spec.version)
    return Pin(name, "", f"not pinned to one release ({requirement.specifier or 'any version'})")


# --- the index -------------------------------------------------------------------------------


def fetch_json(
    opener: urllib.request.OpenerDirector, url: str, timeout: float
) -> dict[str, Any] | str:
    """The JSON object at `url`, or a string saying why there is none (`HTTP 404`, ...)."""
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as error:
        error.close()
        return f"HTTP {error.code}"
    except urllib.error.URLError as error:
        return _describe(error.reason)
    except (OSError, http.client.HTTPException) as error:  # timeouts, resets, hang-ups
        return _describe(error)
    if len(body) > MAX_ANSWER_BYTES:
        return "answer too large"
    try:
        document = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    if not isinstance(document, dict):
        return "answer is not a JSON object"
    return document


def _describe(error: object) -> str:
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, http.client.RemoteDisconnected):
        return "connection closed without an answer"
    return str(error) or type(error).__name__


def _info_version(document: dict[str, Any]) -> str | None:
    info = document.get("info")
    version = info.get("version") if isinstance(info, dict) else None
    return version if isinstance(version, str) and version else None


def _advisories(document: dict[str, Any]) -> list[Advisory] | str:
    """The document's advisories that are not withdrawn, or why it has none to give."""
    entries = document.get("vulnerabilities")
    if entries is None:
        return "gives no advisory data"
    if not isinstance(entries, list):
        return "gives unreadable advisory data"
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            return "gives unreadable advisory data"
        if entry.get("withdrawn"):
            continue
        found.append(
            Advisory(entry["id"], _strings(entry.get("aliases")), _strings(entry.get("fixed_in")))
        )
    return found


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _is_older(a: str, b: str) -> bool:
    try:
        return Version(a) < Version(b)
    except InvalidVersion:
        return False


def audit_pin(
    pin: Pin,
    index_url: str,
    *,
    opener: urllib.request.OpenerDirector,
    timeout: float,
    ignore: frozenset[str] = frozenset(),
) -> Verdict:
    """One pin's verdict: its own release's advisories, else the latest's if it is the latest."""
    if pin.problem:
        return Verdict(pin, "unverified", reason=pin.problem)
    name = urllib.parse.quote(pin.name, safe="")
    version = urllib.parse.quote(pin.version, safe="")
    release = fetch_json(opener, f"{index_url}/pypi/{name}/{version}/json", timeout)
    if isinstance(release, str):
        first = f"release data unreachable ({release})"
    elif not _same_version(_info_version(release) or "", pin.version):
        first = "release data is about another release"
    else:
        advisories = _advisories(release)
        if not isinstance(advisories, str):
            return _judge(pin, "release", advisories, ignore)
        first = f"release data {advisories}"

    project = fetch_json(opener, f"{index_url}/pypi/{name}/json", timeout)
    if isinstance(project, str):
        return Verdict(pin, "unverified", reason=f"{first}; project data unreachable ({project})")
    latest = _info_version(project)
    if latest is None:
        return Verdict(pin, "unverified", reason=f"{first}; project data names no latest release")
    advisories = _advisories(project)
    if _same_version(latest, pin.version):
        if isinstance(advisories, str):
            return Verdict(pin, "unverified", reason=f"{first}; project data {advisories}")
        return _judge(pin, "latest", advisories, ignore)
    why = _not_latest(pin, latest, project.get("releases"), advisories)
    return Verdict(pin, "unverified", reason=f"{first}; {why}")


def _not_latest(
    pin: Pin, latest: str, releases: object, latest_advisories: list[Advisory] | str
) -> str:
    """Why the latest release's advisories say nothing about the pin."""
    if (
        isinstance(releases, dict)
        and releases
        and not any(_same_version(known, pin.version) for known in releases)
    ):
        return f"{pin.version} is not a release of {pin.name} on the index (latest {latest})"
    if _is_older(pin.version, latest):
        why = f"pin {pin.version} is behind the latest {latest}, whose advisories do not cover it"
    else:
        why = f"pin {pin.version} is not the latest {latest}, whose advisories do not cover it"
    if isinstance(latest_advisories, list) and latest_advisories:
        why += f" (the latest itself has {', '.join(a.id for a in latest_advisories)})"
    return why


def _judge(pin: Pin, source: str, advisories: list[Advisory], ignore: frozenset[str]) -> Verdict:
    kept: list[Advisory] = []
    ignored: list[Advisory] = []
    for advisory in advisories:
        if advisory.names() & ignore:
            ignored.append(advisory)
        else:
            kept.append(advisory)
    status: Status = "vulnerable" if kept else "clean"
    return Verdict(pin, status, source, tuple(kept), tuple(ignored))


def audit(
    pins: Sequence[Pin],
    index_url: str = DEFAULT_INDEX,
    *,
    ignore: Iterable[str] = (),
    strict: bool = False,
    timeout: float = 20.0,
    jobs: int = 8,
) -> AuditResult:
    """Every pin's verdict, asked in parallel; a failure costs its own pin only."""
    index_url = index_url.rstrip("/")
    ignore_ids = list(dict.fromkeys(ignore))
    folded = frozenset(item.casefold() for item in ignore_ids)
    # Built here, not urllib's module-level opener: proxies are read from the environment now.
    opener = urllib.request.build_opener()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [
            pool.submit(audit_pin, pin, index_url, opener=opener, timeout=timeout, ignore=folded)
            for pin in pins
        ]
        verdicts = []
        for pin, future in zip(pins, futures, strict=True):
            try:
                verdicts.append(future.result())
            except Exception as error:  # noqa: BLE001 - a bug costs one pin, never the audit
                verdicts.append(Verdict(pin, "unverified", reason=f"internal error: {error!r}"))
    unused = [
        item
        for item in ignore_ids
        if not any(
            item.casefold() in advisory.names()
            for verdict in verdicts
            for advisory in verdict.ignored
        )
    ]
    return AuditResult(verdicts, strict, unused)


# --- output ----------------------------------------------------------------------------------


def format_lines(result: AuditResult) -> list[str]:
    """One aligned line per pin: name, version, status, whose advisories, what or why not."""
    if not result.verdicts:
        return []
    rows = [
        (
            verdict.pin.name,
            verdict.pin.version or "-",
            verdict.status,
            verdict.looked_up,
            verdict.detail,
        )
        for verdict in result.verdicts
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def render_report(
    result: AuditResult, *, command: str, index_url: str, lock_name: str, lock_sha256: str
) -> str:
    """docs/audit.md: the last audit's date, command, lock file, counts and every pin."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    verdict = "passed" if result.exit_code == 0 else "failed"
    ignored = ", ".join(f"`{item}`" for item in _ignore_ids(result)) or "none"
    lines = [
        "# Dependency audit",
        "",
        "Written by `make audit` (tools/audit.py); do not edit by hand. Every pin of the lock",
        "file is looked up in the package index's advisory data (PyPI's JSON API, which carries",
        "the OSV records of the PyPA advisory database): first the pinned release's own",
        "document (`/pypi/NAME/VERSION/json`, what pip-audit asks), else the project's",
        "(`/pypi/NAME/json`), whose advisories are the pin's own only when the pin is the",
        "latest release. A pin neither can speak for is *unverified*, never assumed clean; with",
        "`--strict` it fails the audit. Withdrawn advisories are skipped. The result changes",
        "as advisories and releases are published, so `make test` does not run it.",
        "",
        f"- Date: {today} (UTC)",
        f"- Command: `{command}`",
        f"- Index: {index_url.rstrip('/')}",
        f"- Lock file: `{lock_name}`, sha256 `{lock_sha256}`",
        f"- Ignored advisories: {ignored}",
        f"- Result: **{verdict}** (exit {result.exit_code}): {_counts(result)}",
        "",
        "| package | version | status | looked up in | detail |",
        "|---|---|---|---|---|",
    ]
    lines += [
        "| {} | {} | {} | {} | {} |".format(
            verdict.pin.name,
            verdict.pin.version or "-",
            verdict.status,
            verdict.looked_up,
            verdict.detail.replace("|", "\\|"),
        )
        for verdict in result.verdicts
    ]
    return "\n".join(lines) + "\n"


def _counts(result: AuditResult) -> str:
    return (
        f"{len(result.verdicts)} pins; {result.count('clean')} verified clean, "
        f"{result.count('vulnerable')} vulnerable, {result.count('unverified')} unverified"
    )


def _ignore_ids(result: AuditResult) -> list[str]:
    found = {advisory.id for verdict in result.verdicts for advisory in verdict.ignored}
    return sorted(found) + [item for item in result.unused_ignores if item not in found]


# --- command line ----------------------------------------------------------------------------


def _index_url(value: str) -> str:
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise argparse.ArgumentTypeError(f"not an http(s) URL: {value!r}")
    return value.rstrip("/")


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {value!r}")
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.audit",
        description="Known vulnerabilities in the pins of a requirements file, from the "
        "package index's advisory data. Exit 0: nothing vulnerable (and, with --strict, "
        "every pin verified); 1: otherwise; 2: bad usage or an unreadable file.",
    )
    parser.add_argument(
        "-r",
        "--requirement",
        type=Path,
        default=Path("requirements.lock"),
        help="the pinned requirements file (default: requirements.lock)",
    )
    parser.add_argument(
        "--index-url",
        type=_index_url,
        default=DEFAULT_INDEX,
        help=f"the index whose /pypi/NAME[/VERSION]/json to ask (default: {DEFAULT_INDEX})",
    )
    parser.add_argument(
        "--ignore-vuln",
        action="append",
        default=[],
        metavar="ID",
        help="an advisory id (or alias) not to count; repeatable",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail when a pin cannot be verified, instead of only reporting it",
    )
    parser.add_argument(
        "--report",
        type=Path,
        metavar="PATH",
        help="also write the result as Markdown to PATH (docs/audit.md)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=20.0,
        metavar="SECONDS",
        help="per request (default: 20)",
    )
    parser.add_argument(
        "--jobs",
        type=_count,
        default=8,
        metavar="N",
        help="requests in flight at once (default: 8)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_given = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(args_given)
    lock: Path = args.requirement
    try:
        data = lock.read_bytes()
        pins = read_pins(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, LockError) as error:
        print(f"audit: cannot read {lock}: {error}", file=sys.stderr)
        return 2
    if not pins:
        print(f"audit: no requirements in {lock}", file=sys.stderr)
        return 2

    result = audit(
        pins,
        args.index_url,
        ignore=args.ignore_vuln,
        strict=args.strict,
        timeout=args.timeout,
        jobs=args.jobs,
    )
    for line in format_lines(result):
        print(line)
    for item in result.unused_ignores:
        print(f"note: --ignore-vuln {item} matched no advisory", file=sys.stderr)
    if args.report is not None:
        report = render_report(
            result,
            command=shlex.join(["python", "-m", "tools.audit", *args_given]),
            index_url=args.index_url,
            lock_name=str(lock),
            lock_sha256=hashlib.sha256(data).hexdigest(),
        )
        try:
            _write_atomically(args.report, report)
        except OSError as error:
            print(f"audit: cannot write {args.report}: {error}", file=sys.stderr)
            return 2
    print(result.summary(), file=sys.stderr if result.exit_code else sys.stdout)
    return result.exit_code


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


if __name__ == "__main__":
    sys.exit(main())
