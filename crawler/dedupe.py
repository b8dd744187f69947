"""Content identity of a story's text: the exact hash that makes two captures one version, and
the near-duplicate index that links a text republished under another key.

`content_hash` decides versions (see docs/schema.md). `NearDuplicateIndex` sets
`articles.duplicate_of`, by this rule: story A is a near-duplicate of story B when

* they have different keys (a story's own versions are never compared: the index holds one
  entry per key, for the text its row shows now);
* both have a parseable `published_at` and at least MIN_SHINGLES word shingles;
* they were published at most `window_days` apart, so a daily bulletin that repeats its
  template is not a copy of last week's, while a republication within days is;
* they share an LSH band and the exact Jaccard similarity of their shingle sets reaches
  `threshold`;
* they are not two issues of a series: a title published on SERIES_DAYS or more different
  calendar days (a daily bulletin, "Press TV’s news headlines") is a recurring template, and
  its issues of different days repeat their text by design, well inside the window. A copy
  republished under its original title, even a day or two later, is still linked: one title
  on two days is not a series. When a title becomes a series, its issues are relinked.

A's `duplicate_of` is the earliest such B, ordered by (published_at as an instant, key), among
the stories before A in that order; NULL when there is none. That is a function of the set of
stories and their current text, so it does not depend on the order batches arrive in: a story
that arrives after a later copy of it takes over the copy's link when it is earlier than what
the copy pointed to, and when a story's text or date changes, the stories linked to it are
linked again from scratch. Band hashes are a function of the text and sharing a band is
symmetric, so even a pair LSH misses is missed whatever the order.

Chains: `duplicate_of` names a story whose text really is near-identical, the earliest one, so
for copies of one text it is the first publication. Similarity is not transitive: A can point
to B while B points to an earlier C that A no longer resembles (a text edited a little at each
republication). Pointing at the root would claim that A republishes C, which its text does not
show; docs/schema.md has the recursive query that follows a chain to its root.

Not linked: undated stories (without a date, a republication cannot be told from a recurring
template) and bodies of fewer than MIN_SHINGLES shingles (captions, video pages: at 0.9 a few
words would decide, and shared boilerplate would match).

Storage, in the database (tables from migration 0003): `near_duplicate_stories` has one row
per story with what it was computed from (content_hash, published_at) and its band hashes;
`near_duplicate_bands` holds (bucket, band_hash, story_id) as its primary key: the LSH band
index, split by publication time into buckets one window wide; `near_duplicate_config` holds
the parameters the index was built with. Placing a story costs one indexed lookup of its bands
in the two or three time buckets its window overlaps, an exact check of the few candidates
(their bodies are read from `articles`), and one insert per band: no all-pairs comparison and
nothing held in memory between batches. A batch's new stories are placed together (`_Run`):
their lookups are a few queries for the whole batch, each story is matched in memory against
the batch's stories placed before it, in key order, and the rows are written with
executemany; stories one at a time would give the same rows (tests/test_dedupe.py checks it,
ids included). A crawl moves through time (newest first or oldest first), so its lookups and
inserts land on the same few pages of the index whatever its size, which keeps the cost per
story flat; a crawl in random date order loses that locality, not correctness. Signatures
are not stored: lookups need only the bands, and candidates are checked exactly, which is
what a threshold decision deserves.

Bands and rows come from datasketch's optimiser (`MinHashLSH`) weighted towards recall,
because every candidate is verified exactly and a false candidate only costs one check: at 0.9
and 128 permutations that is 9 bands of 14 rows, which finds a pair at Jaccard 0.9 nine times
in ten and at 0.95 998 times in a thousand (equal weights give 5 x 25, which finds a pair at
0.9 three times in ten).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import re
import sqlite3
import struct
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from sqlite_utils import Database

from crawler import minhash
from crawler.sql_params import chunks, marks

# Invisible characters that str.split() does not treat as whitespace but that templates
# and CMSs sprinkle into text (zero-width space, word joiner, BOM). ZWNJ (U+200C) is left
# alone: in Persian it changes how a word is written.
_INVISIBLE = "\u200b\u2060\ufeff"
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")


# Whitespace str.split() cuts at (str.isspace()), other than the space and the line feed of
# ordinary text; tests/test_dedupe.py checks the list against every code point.
_OTHER_SPACES = tuple(
    "\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def normalize_text(text: str | None) -> str:
    """NFC-normalised text with every run of whitespace collapsed to one space."""
    if not text:
        return ""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if any(char in text for char in _INVISIBLE):  # a plain scan is far cheaper than re.sub
        text = _INVISIBLE_RE.sub(" ", text)
    return _collapse(text)


def _collapse(text: str) -> str:
    """`" ".join(text.split())`, about twice as fast for the usual shape of a text:
    words apart by one space, paragraphs by one blank line. Checked, never assumed: a text
    of any other shape is split and joined."""
    joined = " ".join(text.split("\n\n"))  # as .replace(), twice as fast
    if (
        joined[:1] != " "
        and joined[-1:] != " "
        and "  " not in joined
        and "\n" not in joined
        and not any(char in joined for char in _OTHER_SPACES)
    ):
        return joined
    return " ".join(text.split())


def content_hash(title: str | None, body: str | None) -> str:
    """sha256 hex of the normalised title and body.

    Two captures whose title and body differ only in whitespace (line breaks, paragraph
    spacing, non-breaking spaces) or Unicode composition are one version of a story.
    """
    return _digest(normalize_text(title), normalize_text(body))


def content_hash_and_word_count(title: str | None, body: str | None) -> tuple[str, int]:
    """content_hash(title, body), and the body's words as str.split() counts them (a
    version's word_count when extraction gave none), from one pass over the body."""
    normalized = normalize_text(body)
    if (
        normalized
        and unicodedata.is_normalized("NFC", body or "")
        and not any(char in (body or "") for char in _INVISIBLE)
    ):
        # The body only differed from `normalized` in its whitespace: one word a space.
        words = normalized.count(" ") + 1
    else:
        words = len(body.split()) if body else 0
    return _digest(normalize_text(title), normalized), words


def _digest(title: str, body: str) -> str:
    # normalize_text() leaves no newline, so "\n" cannot be confused with the text.
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


# --- near-duplicates ---------------------------------------------------------------------------

THRESHOLD = 0.9  # Jaccard of word shingles: 0.9 tolerates an edited sentence, not a rewrite
SHINGLE_WORDS = 5
NUM_PERM = 128
WINDOW_DAYS = 3.0
MIN_SHINGLES = 20
SERIES_DAYS = 3  # a title published on this many different days is a recurring series
LSH_WEIGHTS = (0.05, 0.95)  # false positive, false negative weights for the band choice
# How text becomes band hashes. Change it whenever shingling or hashing changes: a database
# indexed another way is rebuilt on its next update().
METHOD = "newsmirror-1: casefolded words, crc32 x position, datasketch affine32 seed 1"

_WORD_RE = re.compile(r"[\w\u200c]+")  # ZWNJ is part of a Persian word, not a break
# Every ASCII byte that _WORD_RE does not put in a word (all but letters, digits and "_")
# becomes a space; other bytes (UTF-8 sequences of non-ASCII characters) stay.
_ASCII_SEPARATORS = bytes(
    byte if byte >= 0x80 or chr(byte).isalnum() or byte == ord("_") else ord(" ")
    for byte in range(256)
)
# Non-ASCII characters of English news text that are never part of a word: no-break space,
# guillemets, en and em dashes, curly quotes, ellipsis, bullet, primes, and the invisible ones.
_NON_WORD = "\u00a0\u00ab\u00bb\u2013\u2014\u2018\u2019\u201c\u201d\u2026\u2022\u2032\u2033"
_NON_WORD_UTF8 = tuple((char, char.encode()) for char in _NON_WORD + _INVISIBLE)
_PAGE = 500  # stories per rebuild page


def _splitmix64(index: int) -> int:
    """The index-th output of splitmix64 seeded with 0: fixed, well-spread 64-bit constants."""
    z = (index + 1) * 0x9E3779B97F4A7C15 % 2**64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return z ^ (z >> 31)


@functools.lru_cache(maxsize=8)
def _position_weights(size: int) -> npt.NDArray[np.uint64]:
    """Odd 64-bit multipliers, one per word position: fixed, so fingerprints never change."""
    return np.array([_splitmix64(position) | 1 for position in range(size)], dtype=np.uint64)


def _mix64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finaliser, so every bit (the top 32 feed MinHash) depends on every word."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def shingle_fingerprints(text: str | None, size: int = SHINGLE_WORDS) -> npt.NDArray[np.uint64]:
    """The set of `size`-word shingles of a text, as sorted unique 64-bit fingerprints.

    Words are runs of letters and digits (and ZWNJ) of the NFC-normalised, casefolded text,
    so case, punctuation, spacing and invisible characters do not matter. Each word is hashed
    once (crc32, in C) and a shingle's fingerprint combines its words' hashes with a multiplier
    per position, in numpy: several times faster than hashing each shingle's text. Two
    different shingles share a fingerprint with odds of about 2^-64 (distinct words with one
    crc32, about 2^-32 a pair, would count as one word), so Jaccard over fingerprints is the
    exact Jaccard of the shingles in practice.
    """
    return shingle_fingerprint_sets([text], size)[0]


def shingle_fingerprint_sets(
    texts: Sequence[str | None], size: int = SHINGLE_WORDS
) -> list[npt.NDArray[np.uint64]]:
    """shingle_fingerprints() of each text, worked out for all of them at once: one numpy
    pass over every word of every text instead of a dozen small calls per text."""
    words = [_words(text) for text in texts]
    lengths = [len(each) for each in words]
    total = sum(lengths)
    empty = np.empty(0, dtype=np.uint64)
    if total < size:
        return [empty for _ in texts]
    hashes = np.fromiter(map(zlib.crc32, itertools.chain.from_iterable(words)), np.uint64, total)
    # The shingle starting at each word of the concatenation; those that run into the next
    # text are never read.
    count = total - size + 1
    weights = _position_weights(size)
    combined = hashes[:count] * weights[0]
    for position in range(1, size):
        combined += hashes[position : position + count] * weights[position]
    mixed = _mix64(combined)
    sets = []
    end = 0
    for length in lengths:
        start, end = end, end + length
        if length < size:
            sets.append(empty)
            continue
        # sort and drop repeats: np.unique is several times slower on arrays this small
        ordered = np.sort(mixed[start : end - size + 1])
        sets.append(ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))])
    return sets


def _words(text: str | None) -> list[bytes]:
    """The words shingles are made of: of the NFC-normalised, casefolded text, UTF-8."""
    if not text:
        return []
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return _utf8_words(text.casefold())


def _utf8_words(text: str) -> list[bytes]:
    """The words of a text as `_WORD_RE` finds them, UTF-8 encoded.

    The same list as encoding each match of `_WORD_RE.findall(text)`, several times faster
    for English text: bytes.translate turns every ASCII character that cannot be in a word
    into a space and bytes.split cuts there, both in C. Typographic quotes, dashes and the
    like become spaces first; a text with other non-ASCII characters (accented or Persian
    words) goes through the regex.
    """
    data = text.encode()
    if not text.isascii():
        for char, encoded in _NON_WORD_UTF8:
            if char in text:
                data = data.replace(encoded, b" ")  # UTF-8 never matches inside another char
        if not data.isascii():
            return [word.encode() for word in _WORD_RE.findall(text)]
    return data.translate(_ASCII_SEPARATORS).split()


def jaccard(a: npt.NDArray[np.uint64], b: npt.NDArray[np.uint64]) -> float:
    """Jaccard similarity of two sets given as sorted unique arrays; 0.0 when both are empty."""
    common = np.intersect1d(a, b, assume_unique=True).size
    union = a.size + b.size - common
    return common / union if union else 0.0


def published_seconds(value: str | None) -> int | None:
    """Unix seconds of an ISO 8601 published_at (naive means UTC); None when absent or bad."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


class NearDuplicateConfigError(Exception):
    """The database was indexed with other parameters; rebuild() applies the new ones."""


@dataclass(frozen=True)
class NearDuplicateConfig:
    """Everything the stored band hashes and duplicate_of links depend on."""

    threshold: float
    shingle_words: int
    num_perm: int
    bands: int
    band_rows: int  # permutations per band
    window_days: float
    min_shingles: int
    method: str

    @classmethod
    def choose(
        cls,
        threshold: float = THRESHOLD,
        shingle_words: int = SHINGLE_WORDS,
        num_perm: int = NUM_PERM,
        window_days: float = WINDOW_DAYS,
        min_shingles: int = MIN_SHINGLES,
    ) -> NearDuplicateConfig:
        """Validate the parameters and let datasketch pick bands and rows for them."""
        if not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], not {threshold}")
        if shingle_words < 1 or num_perm < 2 or min_shingles < 1:
            raise ValueError("shingle_words, min_shingles must be >= 1 and num_perm >= 2")
        if window_days < 0:
            raise ValueError(f"window_days must be >= 0, not {window_days}")
        bands, rows = _lsh_params(threshold, num_perm)
        return cls(
            float(threshold),
            shingle_words,
            num_perm,
            bands,
            rows,
            float(window_days),
            min_shingles,
            METHOD,
        )

    @property
    def window_seconds(self) -> int:
        return round(self.window_days * 86_400)

    def buckets(self, ts: int) -> range:
        """The time buckets (one window wide) that hold every story within the window of `ts`."""
        width = max(self.window_seconds, 1)
        return range((ts - self.window_seconds) // width, (ts + self.window_seconds) // width + 1)

    def bucket(self, ts: int) -> int:
        return ts // max(self.window_seconds, 1)


# datasketch's optimiser's answer for the defaults (tests/test_dedupe.py checks it), so that
# opening a new database does not import datasketch and scipy (about a second).
_KNOWN_LSH_PARAMS = {(THRESHOLD, NUM_PERM, LSH_WEIGHTS): (9, 14)}


@functools.lru_cache(maxsize=16)
def _lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    known = _KNOWN_LSH_PARAMS.get((threshold, num_perm, LSH_WEIGHTS))
    if known is not None:
        return known
    from datasketch import MinHashLSH  # noqa: PLC0415 - a 1 s import, for other parameters

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    return int(lsh.b), int(lsh.r)


class _Entry(NamedTuple):
    """A story's row in near_duplicate_stories."""

    id: int
    published_ts: int | None
    bands: bytes | None


class Sketch(NamedTuple):
    """What a text is indexed by: its shingle fingerprints, and its band hashes when it has
    enough shingles (None otherwise)."""

    fingerprints: npt.NDArray[np.uint64]
    bands: list[int] | None


class _Candidate(NamedTuple):
    """A story sharing a band with the one being placed, with what its link points to."""

    key: str
    published_ts: int
    duplicate_of: str | None
    duplicate_ts: int | None  # None when duplicate_of is None or not indexed


def _earliest_before(similar: Iterable[_Candidate], me: tuple[int, str]) -> str | None:
    """The key of the earliest story, by (published, key), that comes before `me`."""
    earlier = [(c.published_ts, c.key) for c in similar if (c.published_ts, c.key) < me]
    return min(earlier)[1] if earlier else None


# key, body (None when a sketch of it is at hand), published_at, content_hash, title, and
# whether the story is indexed already
_Row = tuple[str, str | None, str | None, str | None, str | None, int]


_CONFIG_COLUMNS = tuple(f.name for f in dataclasses.fields(NearDuplicateConfig))
# What a caller chooses; bands, band_rows and method follow from these and the code.
_PARAMETERS = ("threshold", "shingle_words", "num_perm", "window_days", "min_shingles")
_SELECT_CONFIG = f"SELECT {', '.join(_CONFIG_COLUMNS)} FROM near_duplicate_config WHERE id = 1"  # noqa: S608
_INSERT_CONFIG = (
    f"INSERT INTO near_duplicate_config (id, {', '.join(_CONFIG_COLUMNS)}) "  # noqa: S608
    f"VALUES (1, {', '.join('?' for _ in _CONFIG_COLUMNS)})"
)
# Rows to (re)index: key, published_at, content_hash, title and whether the story has an entry
# already (the body is read only when no sketch of it was given).
_CHANGED_ROWS = """
SELECT a.key, a.published_at, a.content_hash, a.title, s.id IS NOT NULL
FROM articles AS a LEFT JOIN near_duplicate_stories AS s ON s.article_key = a.key
WHERE a.key IN ({marks})
  AND (s.id IS NULL OR s.content_hash IS NOT a.content_hash
       OR s.published_at IS NOT a.published_at)
ORDER BY a.key
"""
_SELECT_ENTRY = "SELECT id, published_ts, bands FROM near_duplicate_stories WHERE article_key = ?"
_UPSERT_ENTRY = """
INSERT INTO near_duplicate_stories (article_key, content_hash, published_at, published_ts, bands)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT(article_key) DO UPDATE SET content_hash = excluded.content_hash,
  published_at = excluded.published_at, published_ts = excluded.published_ts,
  bands = excluded.bands
RETURNING id
"""
_INSERT_BAND = "INSERT INTO near_duplicate_bands (bucket, band_hash, story_id) VALUES (?, ?, ?)"
_DELETE_BAND = (
    "DELETE FROM near_duplicate_bands WHERE bucket = ? AND band_hash = ? AND story_id = ?"
)
# Candidates: stories sharing a band, inside the window, with their text and what they link
# to now (and when that was published, to decide whether this story is earlier).
_CANDIDATES = """
SELECT s.article_key, s.published_ts, a.body, a.duplicate_of, d.published_ts, a.title,
  a.published_at
FROM near_duplicate_stories AS s
JOIN articles AS a ON a.key = s.article_key
LEFT JOIN near_duplicate_stories AS d ON d.article_key = a.duplicate_of
WHERE s.id IN (
    SELECT story_id FROM near_duplicate_bands
    WHERE bucket IN ({buckets}) AND band_hash IN ({bands})
  )
  AND s.id <> ? AND s.published_ts BETWEEN ? AND ?
"""
_DEPENDENTS = "SELECT key FROM articles WHERE duplicate_of = ? ORDER BY key"
_TITLE_DAYS = (
    "SELECT count(DISTINCT substr(published_at, 1, 10)) FROM articles "
    "WHERE title = ? AND published_at IS NOT NULL"
)
_LINKED_ISSUES = (
    "SELECT key FROM articles WHERE title = ? AND duplicate_of IS NOT NULL AND key <> ? "
    "ORDER BY key"
)
_ISSUE = "SELECT title, published_at FROM articles WHERE key = ?"
_SET_DUPLICATE = "UPDATE articles SET duplicate_of = ? WHERE key = ? AND duplicate_of IS NOT ?"
_ARTICLES_PAGE = (
    "SELECT key, body, published_at, content_hash, title, 0 FROM articles WHERE key > ? "
    "ORDER BY key LIMIT ?"
)
# What placing many stories at once reads: the series among their titles, the bands they share
# with indexed stories, and those stories' text and links (as _CANDIDATES has them).
_SERIES_TITLES = """
SELECT title FROM articles WHERE title IN ({marks}) AND published_at IS NOT NULL
GROUP BY title HAVING count(DISTINCT substr(published_at, 1, 10)) >= ?
"""
_BAND_MATCHES = "SELECT band_hash, story_id FROM near_duplicate_bands WHERE bucket = ? AND band_hash IN ({marks})"
_CANDIDATE_ROWS = """
SELECT s.id, s.article_key, s.published_ts, a.body, a.duplicate_of, d.published_ts
FROM near_duplicate_stories AS s
JOIN articles AS a ON a.key = s.article_key
LEFT JOIN near_duplicate_stories AS d ON d.article_key = a.duplicate_of
WHERE s.id IN ({marks})
"""
_INSERT_ENTRY = (
    "INSERT INTO near_duplicate_stories "
    "(id, article_key, content_hash, published_at, published_ts, bands) VALUES (?, ?, ?, ?, ?, ?)"
)
_ENTRY_TS = "SELECT published_ts FROM near_duplicate_stories WHERE article_key = ?"
_DUPLICATE_OF = "SELECT duplicate_of FROM articles WHERE key = ?"


class NearDuplicateIndex:
    """MinHash LSH over the stories of one database, kept in its tables (see above).

    Parameters left as None are the database's own (the ones its index was built with), or
    the module defaults for a database not indexed yet. Parameters that differ from the
    database's make update() and assign() refuse until rebuild() re-indexes with them.
    Every method runs in one transaction (a savepoint inside the caller's).
    """

    def __init__(
        self,
        db: Database | sqlite3.Connection,
        *,
        threshold: float | None = None,
        shingle_words: int | None = None,
        num_perm: int | None = None,
        window_days: float | None = None,
        min_shingles: int | None = None,
    ) -> None:
        self.db = db if isinstance(db, Database) else Database(db, execute_plugins=False)
        self.conn = self.db.conn
        row = self.conn.execute(_SELECT_CONFIG).fetchone()
        self.stored = NearDuplicateConfig(*row) if row else None
        asked = {
            "threshold": threshold,
            "shingle_words": shingle_words,
            "num_perm": num_perm,
            "window_days": window_days,
            "min_shingles": min_shingles,
        }
        asked = {name: value for name, value in asked.items() if value is not None}
        if self.stored is not None and self.stored.method == METHOD and not asked:
            self.config = self.stored
        else:
            base = self.stored or NearDuplicateConfig.choose()
            params = {name: getattr(base, name) for name in _PARAMETERS}
            self.config = NearDuplicateConfig.choose(**(params | asked))

    # --- writing ----------------------------------------------------------------------------

    def update(self, keys: Iterable[str], sketches: Mapping[str, Sketch] | None = None) -> int:
        """Index the stories among `keys` whose row is new or shows other text or another date
        than when it was indexed, and fix every duplicate_of that depends on them.

        Store.write_captures calls this with every story its batch touched. A database never
        indexed (created before the index existed, or indexed by other code) is rebuilt
        whole instead. Returns how many stories were (re)indexed. `sketches`, by story key,
        of the text its row holds (from sketch()), saves reading and sketching those texts.
        """
        sketches = sketches or {}
        wanted = sorted(set(keys))
        if not wanted:
            return 0
        with self.db.atomic():
            if self._needs_rebuild():
                return self.rebuild()
            found: list[tuple[Any, ...]] = []
            for chunk in chunks(wanted):
                found.extend(self.conn.execute(_CHANGED_ROWS.format(marks=marks(chunk)), chunk))
            bodies: dict[str, str | None] = {}
            for chunk in chunks([row[0] for row in found if row[0] not in sketches]):
                sql = f"SELECT key, body FROM articles WHERE key IN ({marks(chunk)})"  # noqa: S608
                bodies.update(self.conn.execute(sql, chunk))
            rows = [(key, bodies.get(key), *rest) for key, *rest in found]
            self._place_many(rows, sketches)
        return len(rows)

    def assign(self, key: str, body: str | None, published_at: str | None) -> str | None:
        """Index one story's text and return its duplicate_of (also written to its row).

        The story's articles row must exist and hold this body: other stories are checked
        against articles.body. Stories that now have this one as their earliest near-duplicate
        are relinked, and so are those whose original it was before its text changed.
        """
        with self.db.atomic():
            if self._needs_rebuild():
                self.rebuild()
            return self._place(key, body, published_at, None)

    def rebuild(self) -> int:
        """Forget the index and every duplicate_of, and index every story again with this
        index's parameters (stored as the database's). Returns the number of stories."""
        count = 0
        with self.db.atomic():
            self.conn.execute("DELETE FROM near_duplicate_bands")
            self.conn.execute("DELETE FROM near_duplicate_stories")
            self.conn.execute("UPDATE articles SET duplicate_of = NULL WHERE duplicate_of NOTNULL")
            self.conn.execute("DELETE FROM near_duplicate_config")
            self.conn.execute(_INSERT_CONFIG, dataclasses.astuple(self.config))
            self.stored = self.config
            last = ""
            while page := self.conn.execute(_ARTICLES_PAGE, [last, _PAGE]).fetchall():
                self._place_many(page, {})
                count += len(page)
                last = page[-1][0]
        return count

    def _needs_rebuild(self) -> bool:
        """True for a database never indexed, or indexed by another method (then nothing
        stored can be used); refuses parameters other than the ones it was indexed with."""
        if self.stored is None or self.stored.method != METHOD:
            return True
        if self.stored != self.config:
            raise NearDuplicateConfigError(
                f"the near-duplicate index was built with {self.stored}, not {self.config}: "
                "call rebuild() to re-index with the new parameters"
            )
        return False

    def _place_many(self, rows: Sequence[_Row], sketches: Mapping[str, Sketch]) -> None:
        """Place stories in key order with the result of _place() one at a time (`sketches`
        by story key, as update() takes them).

        A story with an entry already (its text or date changed: its old bands go, the
        stories linked to it are relinked) or whose title is a series (its issues are
        relinked) goes through _place(). The runs of other stories between them, new stories
        that need no relinking of their own, are placed together by `_Run`: a few queries
        for the whole run, and each story matched in memory against the ones before it.
        """
        titles = sorted({row[4] for row in rows if row[4] is not None})
        series: set[str] = set()
        for chunk in chunks(titles):
            sql = _SERIES_TITLES.format(marks=marks(chunk))
            series.update(title for (title,) in self.conn.execute(sql, [*chunk, SERIES_DAYS]))
        run: list[_Row] = []
        for row in rows:
            key, body, published_at, chash, title, indexed = row
            if indexed or title in series:
                _Run(self, run, sketches).place()
                run = []
                self._place(key, body, published_at, chash, sketches.get(key))
            else:
                run.append(row)
        _Run(self, run, sketches).place()

    def _place(
        self,
        key: str,
        body: str | None,
        published_at: str | None,
        chash: str | None,
        sketch: Sketch | None = None,
    ) -> str | None:
        """(Re)index one story and bring every duplicate_of it affects up to date."""
        conn = self.conn
        old = self._entry(key)
        dependents: list[str] = []
        if old is not None:
            self._drop_bands(old)
            dependents = [row[0] for row in conn.execute(_DEPENDENTS, [key])]
        if sketch is None:
            sketch = Sketch(shingle_fingerprints(body, self.config.shingle_words), None)
        fingerprints = sketch.fingerprints
        ts = published_seconds(published_at)
        bands: list[int] | None = None
        if ts is not None and fingerprints.size >= self.config.min_shingles:
            bands = sketch.bands if sketch.bands is not None else self._bands(fingerprints)
        blob = struct.pack(f"<{len(bands)}q", *bands) if bands is not None else None
        (story_id,) = conn.execute(
            _UPSERT_ENTRY, [key, chash, published_at, ts if bands else None, blob]
        ).fetchone()
        original = None
        issue = self._issue(key)
        if bands is not None and ts is not None:
            similar = self._similar(story_id, ts, bands, fingerprints, issue)
            original = _earliest_before(similar, (ts, key))
            bucket = self.config.bucket(ts)
            conn.executemany(_INSERT_BAND, [(bucket, band, story_id) for band in bands])
            for candidate in similar:
                if (candidate.published_ts, candidate.key) > (ts, key):
                    self._offer(candidate, key, (ts, key))
        conn.execute(_SET_DUPLICATE, [original, key, original])
        for dependent in dependents:
            if dependent != key:
                self._relink(dependent)
        if issue[0] and self._is_series(issue[0]):
            # The title may have just become a series: its issues linked to each other
            # before are not copies after all.
            for linked in [row[0] for row in conn.execute(_LINKED_ISSUES, [issue[0], key])]:
                self._relink(linked)
        return original

    def _offer(self, later: _Candidate, key: str, me: tuple[int, str]) -> None:
        """`key` is an earlier near-duplicate of `later`: link to it if it is the earliest."""
        if later.duplicate_of is None:
            self.conn.execute(_SET_DUPLICATE, [key, later.key, key])
        elif later.duplicate_ts is None:  # linked to a story the index does not hold
            self._relink(later.key)
        elif me < (later.duplicate_ts, later.duplicate_of):
            self.conn.execute(_SET_DUPLICATE, [key, later.key, key])

    def _relink(self, key: str) -> None:
        """Recompute one indexed story's duplicate_of from scratch (its original changed)."""
        entry = self._entry(key)
        original = None
        if entry is not None and entry.bands is not None and entry.published_ts is not None:
            (body,) = self.conn.execute("SELECT body FROM articles WHERE key = ?", [key]).fetchone()
            bands = list(struct.unpack(f"<{len(entry.bands) // 8}q", entry.bands))
            fingerprints = shingle_fingerprints(body, self.config.shingle_words)
            similar = self._similar(
                entry.id, entry.published_ts, bands, fingerprints, self._issue(key)
            )
            original = _earliest_before(similar, (entry.published_ts, key))
        self.conn.execute(_SET_DUPLICATE, [original, key, original])

    # --- reading ----------------------------------------------------------------------------

    def _issue(self, key: str) -> tuple[str | None, str]:
        """(title, calendar day as the site printed it) of a story, for the series rule."""
        row = self.conn.execute(_ISSUE, [key]).fetchone()
        return (row[0], (row[1] or "")[:10]) if row else (None, "")

    def _is_series(self, title: str) -> bool:
        (days,) = self.conn.execute(_TITLE_DAYS, [title]).fetchone()
        return int(days) >= SERIES_DAYS

    def _entry(self, key: str) -> _Entry | None:
        row = self.conn.execute(_SELECT_ENTRY, [key]).fetchone()
        return _Entry(*row) if row else None

    def _drop_bands(self, entry: _Entry) -> None:
        if entry.bands is not None and entry.published_ts is not None:
            bucket = self.config.bucket(entry.published_ts)
            bands = struct.unpack(f"<{len(entry.bands) // 8}q", entry.bands)
            self.conn.executemany(_DELETE_BAND, [(bucket, band, entry.id) for band in bands])

    def _bands(self, fingerprints: npt.NDArray[np.uint64]) -> list[int]:
        """The story's LSH band hashes: its MinHash signature cut into bands, each hashed with
        its band number to one signed 64-bit integer (what SQLite stores)."""
        config = self.config
        signature = minhash.signatures([fingerprints], config.num_perm)[0]
        return minhash.band_hashes(signature, config.bands, config.band_rows)

    def sketch(self, bodies: Iterable[str | None]) -> dict[str, Sketch]:
        """Fingerprints and band hashes of many texts at once, by text, for update(): no
        database access, so a writer can compute them in a thread while SQLite works."""
        config = self.config
        texts = list(dict.fromkeys(body for body in bodies if body))
        fingerprint_sets = shingle_fingerprint_sets(texts, config.shingle_words)
        sketches = {
            text: Sketch(fingerprints, None)
            for text, fingerprints in zip(texts, fingerprint_sets, strict=True)
        }
        usable = [
            body for body, s in sketches.items() if s.fingerprints.size >= config.min_shingles
        ]
        rows = minhash.signatures([sketches[body].fingerprints for body in usable], config.num_perm)
        for body, signature in zip(usable, rows, strict=True):
            bands = minhash.band_hashes(signature, config.bands, config.band_rows)
            sketches[body] = Sketch(sketches[body].fingerprints, bands)
        return sketches

    def _similar(
        self,
        story_id: int,
        ts: int,
        bands: Sequence[int],
        fingerprints: npt.NDArray[np.uint64],
        issue: tuple[str | None, str],
    ) -> list[_Candidate]:
        """Stories sharing a band, in the window, whose exact Jaccard reaches the threshold."""
        window = self.config.window_seconds
        buckets = self.config.buckets(ts)
        sql = _CANDIDATES.format(buckets=marks(buckets), bands=marks(bands))
        title, day = issue
        series = title is not None and self._is_series(title)
        similar = []
        for (
            key,
            published_ts,
            body,
            duplicate_of,
            duplicate_ts,
            their_title,
            published,
        ) in self.conn.execute(sql, [*buckets, *bands, story_id, ts - window, ts + window]):
            if series and their_title == title and (published or "")[:10] != day:
                continue  # another day's issue of a recurring series, not a copy
            theirs = shingle_fingerprints(body, self.config.shingle_words)
            if jaccard(fingerprints, theirs) >= self.config.threshold:
                similar.append(_Candidate(key, published_ts, duplicate_of, duplicate_ts))
        return similar


@dataclass(slots=True)
class _Placing:
    """A story of a run, as its near_duplicate_stories row will hold it."""

    key: str
    id: int
    content_hash: str | None
    published_at: str | None
    ts: int | None  # published_ts: set only when the story has bands
    fingerprints: npt.NDArray[np.uint64]
    bands: list[int] | None


class _Indexed(NamedTuple):
    """An indexed story sharing a band with a story of the run (a _CANDIDATES row)."""

    key: str
    published_ts: int
    body: str | None


class _Run:
    """New stories, in key order, placed with the result of NearDuplicateIndex._place() one at
    a time, for the cost of a few queries.

    None of them has an entry yet and none has a series title, so placing one changes only its
    own entry and bands and the duplicate_of of itself and of later stories it is earlier
    than. Before the run: the indexed stories sharing a band with any of them (one query per
    time bucket) and their text and links (one query). Then each story is matched against
    those and against the run's stories placed before it, in memory, and the links it
    changes are remembered; entries, bands and links are written at the end. The one case
    that needs the database, relinking a story whose link points outside the index, first
    writes what is pending so that _relink() reads what it would have read.
    """

    def __init__(
        self, index: NearDuplicateIndex, rows: Sequence[_Row], sketches: Mapping[str, Sketch]
    ) -> None:
        self.index = index
        self.conn = index.conn
        self.config = index.config
        self.window = index.config.window_seconds
        self.rows = rows
        self.sketches = sketches
        self.keys = {row[0] for row in rows}
        self.placed: dict[str, _Placing] = {}
        self.by_band: defaultdict[int, list[_Placing]] = defaultdict(list)
        self.links: dict[str, str | None] = {}  # duplicate_of now, of every story we know
        self.entry_ts: dict[str, int | None] = {}  # published_ts of entries outside the run
        self.fingerprints: dict[str, npt.NDArray[np.uint64]] = {}  # of indexed candidates
        self.unwritten: list[_Placing] = []
        self.unwritten_links: dict[str, str | None] = {}

    def place(self) -> None:
        if not self.rows:
            return
        stories = self._stories()
        indexed = self._indexed_candidates(stories)
        for story in stories:
            self._place(story, indexed.get(story.key, []))
        self._write()

    def _stories(self) -> list[_Placing]:
        config = self.config
        sketches = self.sketches
        timestamps = [published_seconds(row[2]) for row in self.rows]
        missing = {
            row[0]: row[1]
            for row, ts in zip(self.rows, timestamps, strict=True)
            if ts is not None and row[0] not in sketches
        }
        if missing:
            by_text = self.index.sketch(missing.values())
            found = {key: by_text[body] for key, body in missing.items() if body in by_text}
            sketches = {**sketches, **found}
        (last_id,) = self.conn.execute(
            "SELECT coalesce(max(id), 0) FROM near_duplicate_stories"
        ).fetchone()
        stories = []
        for number, ((key, _, published_at, chash, *_), ts) in enumerate(
            zip(self.rows, timestamps, strict=True), 1
        ):
            sketch = sketches.get(key) if ts is not None else None
            fingerprints = sketch.fingerprints if sketch else np.empty(0, dtype=np.uint64)
            bands = None
            if sketch and fingerprints.size >= config.min_shingles:
                bands = (
                    sketch.bands if sketch.bands is not None else self.index._bands(fingerprints)
                )
            # The next rowid SQLite would give, as _place()'s inserts one by one would get.
            story = _Placing(
                key,
                last_id + number,
                chash,
                published_at,
                ts if bands else None,
                fingerprints,
                bands,
            )
            stories.append(story)
            for band in bands or ():
                self.by_band[band].append(story)
        return stories

    def _band_matches(self, stories: Sequence[_Placing]) -> dict[str, set[int]]:
        """The ids of the indexed stories each run story shares a band with in its buckets."""
        wanted: defaultdict[int, set[int]] = defaultdict(set)  # bucket -> band hashes
        for story in stories:
            if story.ts is not None and story.bands:
                for bucket in self.config.buckets(story.ts):
                    wanted[bucket].update(story.bands)
        matched: defaultdict[str, set[int]] = defaultdict(set)
        for bucket, bands in sorted(wanted.items()):
            for chunk in chunks(sorted(bands)):
                sql = _BAND_MATCHES.format(marks=marks(chunk))
                for band, story_id in self.conn.execute(sql, [bucket, *chunk]):
                    for story in self.by_band[band]:
                        if story.ts is not None and bucket in self.config.buckets(story.ts):
                            matched[story.key].add(story_id)
        return matched

    def _indexed_candidates(self, stories: Sequence[_Placing]) -> dict[str, list[_Indexed]]:
        """The indexed stories each run story shares a band with, in its buckets and window,
        as _CANDIDATES finds them; their links go into `links` and `entry_ts`."""
        matched = self._band_matches(stories)
        rows: dict[int, tuple[str, int | None, str | None]] = {}
        for chunk in chunks(sorted(set().union(*matched.values()))):
            sql = _CANDIDATE_ROWS.format(marks=marks(chunk))
            for story_id, key, ts, body, duplicate_of, duplicate_ts in self.conn.execute(
                sql, chunk
            ):
                rows[story_id] = (key, ts, body)
                self.links[key] = duplicate_of
                self.entry_ts[key] = ts
                if duplicate_of is not None and duplicate_of not in self.keys:
                    self.entry_ts.setdefault(duplicate_of, duplicate_ts)
        window = self.window
        found: dict[str, list[_Indexed]] = {}
        for story in stories:
            if story.ts is None or story.key not in matched:
                continue
            found[story.key] = []
            for story_id in sorted(matched[story.key]):
                key, ts, body = rows[story_id]
                if ts is not None and story.ts - window <= ts <= story.ts + window:
                    found[story.key].append(_Indexed(key, ts, body))
        return found

    def _place(self, story: _Placing, indexed: Sequence[_Indexed]) -> None:
        self.placed[story.key] = story  # its entry exists from here on, as in _place()
        self.unwritten.append(story)
        original = None
        if story.ts is not None:
            me = (story.ts, story.key)
            similar = [
                _Candidate(key, ts, self.links[key], self._entry_ts(self.links[key]))
                for key, ts, fingerprints in self._candidates(story, indexed)
                if jaccard(story.fingerprints, fingerprints) >= self.config.threshold
            ]
            original = _earliest_before(similar, me)
            for candidate in similar:
                if (candidate.published_ts, candidate.key) > me:
                    self._offer(candidate, story.key, me)
        self._link(story.key, original)

    def _candidates(
        self, story: _Placing, indexed: Sequence[_Indexed]
    ) -> Iterable[tuple[str, int, npt.NDArray[np.uint64]]]:
        """Indexed stories and the run's stories placed before this one, that share a band
        with it in its buckets and window, with their fingerprints."""
        for key, ts, body in indexed:
            fingerprints = self.fingerprints.get(key)
            if fingerprints is None:
                fingerprints = shingle_fingerprints(body, self.config.shingle_words)
                self.fingerprints[key] = fingerprints
            yield key, ts, fingerprints
        if story.ts is None or not story.bands:
            return
        buckets = self.config.buckets(story.ts)
        window = self.window
        seen = {story.key}
        for band in story.bands:
            for other in self.by_band[band]:
                if other.key in seen or other.key not in self.placed or other.ts is None:
                    continue
                seen.add(other.key)
                if self.config.bucket(other.ts) in buckets and abs(other.ts - story.ts) <= window:
                    yield other.key, other.ts, other.fingerprints

    def _offer(self, later: _Candidate, key: str, me: tuple[int, str]) -> None:
        """As NearDuplicateIndex._offer()."""
        if later.duplicate_of is None:
            self._link(later.key, key)
        elif later.duplicate_ts is None:  # linked to a story the index does not hold
            self._write()
            self.index._relink(later.key)
            (self.links[later.key],) = self.conn.execute(_DUPLICATE_OF, [later.key]).fetchone()
        elif me < (later.duplicate_ts, later.duplicate_of):
            self._link(later.key, key)

    def _link(self, key: str, original: str | None) -> None:
        self.links[key] = original
        self.unwritten_links[key] = original

    def _entry_ts(self, key: str | None) -> int | None:
        """published_ts of the entry of `key` now; None when it has none (or no bands)."""
        if key is None:
            return None
        if key in self.placed:
            return self.placed[key].ts
        if key in self.keys:  # a story of the run not placed yet has no entry
            return None
        if key not in self.entry_ts:
            row = self.conn.execute(_ENTRY_TS, [key]).fetchone()
            self.entry_ts[key] = row[0] if row else None
        return self.entry_ts[key]

    def _write(self) -> None:
        """Write the entries, bands and links placed so far."""
        entries = []
        bands: list[tuple[int, int, int]] = []
        for s in self.unwritten:
            blob = None
            if s.bands is not None and s.ts is not None:
                blob = struct.pack(f"<{len(s.bands)}q", *s.bands)
                bucket = self.config.bucket(s.ts)
                bands.extend((bucket, band, s.id) for band in s.bands)
            entries.append((s.id, s.key, s.content_hash, s.published_at, s.ts, blob))
        self.conn.executemany(_INSERT_ENTRY, entries)
        self.conn.executemany(_INSERT_BAND, bands)
        self.conn.executemany(
            _SET_DUPLICATE, [(value, key, value) for key, value in self.unwritten_links.items()]
        )
        self.unwritten = []
        self.unwritten_links = {}
