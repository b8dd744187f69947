"""How a story's versions differ, word by word: over time, and between the mirrors now."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

EQUAL, DELETE, INSERT, REPLACE = "equal", "delete", "insert", "replace"
SERVED_OUTCOMES = ("article", "unchanged")
# A host in these states serves no story of the site any more, whatever it served last.
GONE_STATES = ("seized", "redirecting")
_WORD_RE = re.compile(r"\S+\s*")
_SPACE_RE = re.compile(r"\s+")
_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# Text markers (wdiff's) and terminal colours: red struck-through out, green bold in.
MARKERS = {DELETE: ("[-", "-]"), INSERT: ("{+", "+}")}
COLOURS = {DELETE: ("\x1b[31;9m", "\x1b[0m"), INSERT: ("\x1b[1;32m", "\x1b[0m")}
HASH_CHARS = 12


@dataclass(frozen=True)
class Op:
    """One step from the old text to the new: equal, delete, insert or replace. `old` and
    `new` are the texts on each side, whitespace included, so the ops put back together
    give both texts exactly (an equal step may differ in whitespace only)."""

    op: str
    old: str
    new: str

    def as_dict(self) -> dict[str, str]:
        if self.op == EQUAL:
            return {"op": EQUAL, "text": self.new}
        if self.op == DELETE:
            return {"op": DELETE, "text": self.old}
        if self.op == INSERT:
            return {"op": INSERT, "text": self.new}
        return {"op": REPLACE, "old": self.old, "new": self.new}


def _words(text: str) -> list[str]:
    """Words, each with the whitespace after it (leading whitespace is a token of its own)."""
    tokens = _WORD_RE.findall(text)
    lead = len(text) - len(text.lstrip())
    return [text[:lead], *tokens] if lead else tokens


def word_diff(old: str | None, new: str | None) -> list[Op]:
    """Word-level differences between two texts (difflib over words; whitespace is not a
    difference), tidied so that a rewritten passage reads as one replacement rather than
    a scatter of changes around the small words the two happen to share."""
    a, b = _words(old or ""), _words(new or "")
    matcher = SequenceMatcher(None, [w.strip() for w in a], [w.strip() for w in b], autojunk=False)
    ops = [
        Op(tag, "".join(a[i1:i2]), "".join(b[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    return _absorb_small_equalities(ops)


def _size(op: Op) -> int:
    return max(len(op.old.split()), len(op.new.split()))


def _absorb_small_equalities(ops: list[Op]) -> list[Op]:
    """Merge an equal run into the changes around it when it is no longer than either of
    them (diff-match-patch's semantic clean-up), unless it holds a paragraph break."""
    changed = True
    while changed:
        changed = False
        for i in range(1, len(ops) - 1):
            before, middle, after = ops[i - 1], ops[i], ops[i + 1]
            if (
                middle.op == EQUAL
                and EQUAL not in (before.op, after.op)
                and "\n" not in middle.new
                and len(middle.new.split()) <= min(_size(before), _size(after))
            ):
                old = before.old + middle.old + after.old
                new = before.new + middle.new + after.new
                ops[i - 1 : i + 2] = [Op(REPLACE, old, new)]
                changed = True
                break
    return ops


def is_unchanged(ops: Sequence[Op]) -> bool:
    return all(op.op == EQUAL for op in ops)


# --- a story's history ---------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    number: int  # 1-based, oldest first, over every version (superseded ones included)
    content_hash: str
    hosts: tuple[str, ...]
    first_seen_at: str
    last_seen_at: str
    url: str | None
    title: str | None
    body: str | None
    superseded: bool  # every fetch that gave it has been read again differently

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "content_hash": self.content_hash,
            "hosts": list(self.hosts),
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "url": self.url,
            "title": self.title,
            "superseded": self.superseded,
        }


@dataclass(frozen=True)
class Change:
    """From one version to another: `hosts` are those serving each side (for a change over
    time, every host that served the version)."""

    before: Version
    after: Version
    before_hosts: tuple[str, ...]
    after_hosts: tuple[str, ...]
    title: list[Op]
    body: list[Op]
    same_pages: bool = False  # both are readings of one fetch: an extraction change, not an edit

    @classmethod
    def between(
        cls,
        before: Version,
        after: Version,
        before_hosts: Iterable[str] | None = None,
        after_hosts: Iterable[str] | None = None,
        same_pages: bool = False,
    ) -> Change:
        return cls(
            before,
            after,
            tuple(before.hosts if before_hosts is None else before_hosts),
            tuple(after.hosts if after_hosts is None else after_hosts),
            word_diff(before.title, after.title),
            word_diff(before.body, after.body),
            same_pages,
        )

    def as_dict(self) -> dict[str, Any]:
        def side(version: Version, hosts: tuple[str, ...]) -> dict[str, Any]:
            return {
                "version": version.number,
                "content_hash": version.content_hash,
                "hosts": list(hosts),
                "first_seen_at": version.first_seen_at,
                "last_seen_at": version.last_seen_at,
            }

        return {
            "from": side(self.before, self.before_hosts),
            "to": side(self.after, self.after_hosts),
            "same_pages": self.same_pages,
            "title_changed": not is_unchanged(self.title),
            "body_changed": not is_unchanged(self.body),
            "title": [op.as_dict() for op in self.title],
            "body": [op.as_dict() for op in self.body],
        }


@dataclass(frozen=True)
class StoryDiff:
    key: str
    headline: str | None  # the title the story row shows: the primary's, else the latest
    versions: tuple[Version, ...]  # every version, oldest first
    shown: tuple[Version, ...]  # the versions compared: current ones, or all on request
    changes: tuple[Change, ...]  # each shown version against the one before it
    hosts_now: tuple[dict[str, Any], ...]  # every host that served the story, as it stands
    mirrors: tuple[Change, ...]  # each pair of different contents served now

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.headline,
            "versions": [v.as_dict() for v in self.versions],
            "compared": [v.number for v in self.shown],
            "changes": [c.as_dict() for c in self.changes],
            "hosts_now": list(self.hosts_now),
            "mirrors_now": [c.as_dict() for c in self.mirrors],
        }


Fetch = tuple[str, str, str]  # host, URL, time


def readings(captures: Iterable[Mapping[str, Any]]) -> tuple[dict[str, set[Fetch]], set[str]]:
    """The fetches each content hash was read from, and the hashes that are the latest
    reading of at least one fetch. Captures of one host, URL and time are readings of one
    fetch: the crawl's, then each re-extraction's."""
    read_from: dict[str, set[Fetch]] = {}
    latest: dict[Fetch, tuple[int, str]] = {}
    for row in captures:
        fetch = (row["host"], row["url"], row["fetched_at"])
        read_from.setdefault(row["content_hash"], set()).add(fetch)
        if fetch not in latest or row["id"] > latest[fetch][0]:
            latest[fetch] = (row["id"], row["content_hash"])
    return read_from, {content_hash for _, content_hash in latest.values()}


def story_diff(
    key: str,
    versions: Sequence[Mapping[str, Any]],
    hosts: Sequence[Mapping[str, Any]],
    captures: Sequence[Mapping[str, Any]],
    *,
    include_superseded: bool = False,
) -> StoryDiff:
    """The differences of one story, from its `versions` rows (oldest first), its
    `article_hosts` rows with role and state (primary first), and its serving captures."""
    read_from, current = readings(captures)
    numbered = tuple(
        Version(
            number=i,
            content_hash=row["content_hash"],
            hosts=tuple(row["hosts"]),
            first_seen_at=row["first_seen_at"],
            last_seen_at=row["last_seen_at"],
            url=row["url"],
            title=row["title"],
            body=row["body"],
            # A version no capture names (written by other means) has nothing to supersede it.
            superseded=row["content_hash"] in read_from and row["content_hash"] not in current,
        )
        for i, row in enumerate(versions, start=1)
    )
    shown = tuple(v for v in numbered if include_superseded or not v.superseded)
    changes = tuple(
        Change.between(
            a,
            b,
            same_pages=bool(
                read_from.get(a.content_hash, set()) & read_from.get(b.content_hash, set())
            ),
        )
        for a, b in itertools.pairwise(shown)
    )
    by_hash = {v.content_hash: v for v in numbered}
    hosts_now = tuple(_host_now(row, by_hash) for row in hosts)
    # The story row's rule: the primary's latest content when it served the story.
    first = by_hash.get(hosts[0]["content_hash"]) if hosts else None
    headline = (first or numbered[-1]).title if numbered else None
    return StoryDiff(
        key, headline, numbered, shown, changes, hosts_now, _mirror_changes(hosts_now, by_hash)
    )


def _host_now(row: Mapping[str, Any], by_hash: Mapping[str, Version]) -> dict[str, Any]:
    version = by_hash.get(row["content_hash"])
    return {
        "host": row["host"],
        "role": row.get("role"),
        "state": row.get("state"),
        "serving": row["last_outcome"] in SERVED_OUTCOMES and row.get("state") not in GONE_STATES,
        "version": version.number if version else None,
        "content_hash": row["content_hash"],
        "last_seen_at": row["last_seen_at"],
        "last_checked_at": row["last_checked_at"],
        "last_outcome": row["last_outcome"],
        "last_status": row["last_status"],
    }


def _mirror_changes(
    hosts_now: Sequence[Mapping[str, Any]], by_hash: Mapping[str, Version]
) -> tuple[Change, ...]:
    """Each pair of different contents the serving hosts have now; the side with the host
    that comes first (the primary when it serves the story) is the `from` side."""
    groups: dict[str, list[str]] = {}
    for host in hosts_now:
        if host["serving"] and host["content_hash"] in by_hash:
            groups.setdefault(host["content_hash"], []).append(host["host"])
    contents = list(groups.items())
    return tuple(
        Change.between(by_hash[a], by_hash[b], hosts_a, hosts_b)
        for i, (a, hosts_a) in enumerate(contents)
        for b, hosts_b in contents[i + 1 :]
    )


# --- text for people ----------------------------------------------------------------------


def format_story_diff(diff: StoryDiff, colour: bool = False) -> str:
    """The text report: versions, each change, then the mirrors that disagree now. Each
    change is a unified diff whose hunks are paragraphs (`-` the old one, `+` the new one)
    with the words deleted marked [-so-] and those inserted {+so+}, or coloured."""
    lines = [f"{diff.key}  {diff.headline or '(no title)'}"]
    compared = {v.number for v in diff.shown}
    hidden = [v for v in diff.versions if v.number not in compared]
    count = len(diff.versions)
    lines.append(f"{count} version{'s' if count != 1 else ''}")
    if hidden:
        numbers = ", ".join(f"v{v.number}" for v in hidden)
        lines[-1] += f" ({numbers} superseded by re-extraction; --all compares them too)"
    for version in diff.versions:
        mark = "  (superseded)" if version.superseded else ""
        lines.append(
            f"  v{version.number}  {version.content_hash[:HASH_CHARS]}  "
            f"first seen {version.first_seen_at}  last seen {version.last_seen_at}{mark}"
        )
        lines.append(f"       hosts: {', '.join(version.hosts)}")
    if not diff.changes:
        lines.append("\nOnly one version to compare: no change over time.")
    shown_pairs = set()
    for change in diff.changes:
        note = " (the same pages read again: an extraction change)" if change.same_pages else ""
        lines.append(f"\n=== v{change.before.number} → v{change.after.number}{note} ===")
        lines.extend(unified_lines(change, colour))
        shown_pairs.add((change.before.number, change.after.number))
    lines.append("\n=== between mirrors now ===")
    lines.extend(_mirror_lines(diff, shown_pairs, colour))
    return "\n".join(lines)


def _mirror_lines(diff: StoryDiff, shown_pairs: set[tuple[int, int]], colour: bool) -> list[str]:
    lines: list[str] = []
    serving = [h for h in diff.hosts_now if h["serving"]]
    if not diff.mirrors:
        if serving:
            names = ", ".join(h["host"] for h in serving)
            lines.append(f"Serving it now, all with v{serving[0]['version']}: {names}")
        else:
            lines.append("No host serves it now.")
    for change in diff.mirrors:
        lines.append(
            f"{', '.join(change.before_hosts)} (v{change.before.number})  vs  "
            f"{', '.join(change.after_hosts)} (v{change.after.number})"
        )
        pair = (change.before.number, change.after.number)
        if pair in shown_pairs:
            lines.append(f"  the difference shown above for v{pair[0]} → v{pair[1]}")
        else:
            lines.extend(unified_lines(change, colour))
    for host in diff.hosts_now:
        if host["serving"]:
            continue
        why = host["state"] if host["state"] in GONE_STATES else host["last_outcome"]
        lines.append(
            f"  {host['host']} no longer serves it ({why}, last checked "
            f"{host['last_checked_at']}); it last served v{host['version']}"
        )
    return lines


def unified_lines(change: Change, colour: bool = False) -> list[str]:
    """One change as a unified diff: `---`/`+++` name each side's version, hosts and times;
    a hunk per changed title or paragraph, `-` old and `+` new with the changed words marked."""
    lines = []
    for sign, version, hosts in (
        ("---", change.before, change.before_hosts),
        ("+++", change.after, change.after_hosts),
    ):
        lines.append(
            f"{sign} v{version.number}  {', '.join(hosts)}  "
            f"(first seen {version.first_seen_at}, last seen {version.last_seen_at})"
        )
    if is_unchanged(change.title):
        lines.append("@@ title: unchanged @@")
    else:
        lines.append("@@ title @@")
        lines.extend(_hunk(_pieces(change.title), colour))
    if is_unchanged(change.body):
        return [*lines, "@@ body: unchanged @@"]
    for (old_at, old_count, new_at, new_count), hunk in _body_hunks(_paragraphs(change.body)):
        lines.append(f"@@ body ¶ -{old_at},{old_count} +{new_at},{new_count} @@")
        for pieces in hunk:
            lines.extend(_hunk(pieces, colour))
    return lines


Pieces = list[tuple[str, str]]


def _body_hunks(
    paragraphs: Sequence[Pieces],
) -> list[tuple[tuple[int, int, int, int], list[Pieces]]]:
    """Runs of changed paragraphs, each with where it starts on each side and how many
    paragraphs it holds there (as a unified diff counts lines), 1-based."""
    hunks: list[tuple[tuple[int, int, int, int], list[Pieces]]] = []
    old_seen = new_seen = 0
    run: list[Pieces] = []
    start = (1, 1)
    for pieces in [*paragraphs, []]:
        kinds = {kind for kind, _ in pieces}
        if not pieces or kinds == {EQUAL}:
            if run:
                counts = (old_seen - start[0] + 1, new_seen - start[1] + 1)
                hunks.append(((start[0], counts[0], start[1], counts[1]), run))
                run = []
        elif not run:
            start = (old_seen + 1, new_seen + 1)
        if pieces and kinds != {EQUAL}:
            run.append(pieces)
        old_seen += bool(kinds & {EQUAL, DELETE})
        new_seen += bool(kinds & {EQUAL, INSERT})
    return hunks


def _hunk(pieces: Sequence[tuple[str, str]], colour: bool) -> list[str]:
    """`-` the old side (kept and deleted words), `+` the new (kept and inserted words)."""
    style = COLOURS if colour else MARKERS
    lines = []
    for sign, hidden in (("-", INSERT), ("+", DELETE)):
        parts = []
        for kind, text in pieces:
            if kind == hidden:
                continue
            if kind == EQUAL:
                parts.append(text)
                continue
            start, end = style[kind]
            lead = text[: len(text) - len(text.lstrip())]
            trail = text[len(text.rstrip()) :]
            parts.append(f"{lead}{start}{text.strip()}{end}{trail}")
        line = _SPACE_RE.sub(" ", "".join(parts)).strip()
        if line:
            lines.append(f"{sign}{line}")
    return lines


def _paragraphs(ops: Sequence[Op]) -> list[Pieces]:
    """The pieces of the merged text cut into paragraphs (a change that spans a paragraph
    break is cut too, each part in the paragraph it reaches)."""
    paragraphs: list[Pieces] = [[]]
    for kind, text in _pieces(ops):
        for i, part in enumerate(_PARAGRAPH_RE.split(text)):
            if i and paragraphs[-1]:
                paragraphs.append([])
            if part.strip():
                paragraphs[-1].append((kind, part))
    return [pieces for pieces in paragraphs if pieces]


def _pieces(ops: Sequence[Op]) -> list[tuple[str, str]]:
    """(equal | delete | insert, text) in reading order: a replacement is its deletion and
    then its insertion, and whitespace an equal run lost on the new side is kept."""
    pieces: list[tuple[str, str]] = []
    for op in ops:
        if op.op == EQUAL:
            text = op.new
            gap = op.old[len(op.old.rstrip()) :]
            if gap and not text[len(text.rstrip()) :]:
                text += gap  # "b " before a deleted last word must not run into it
            pieces.append((EQUAL, text))
            continue
        if op.op in (DELETE, REPLACE):
            pieces.append((DELETE, op.old))
        if op.op in (INSERT, REPLACE):
            pieces.append((INSERT, op.new))
    return pieces
