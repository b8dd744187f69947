"""Datasette on an archive: metadata read from docs/schema.md, and the read-only server."""

from __future__ import annotations

import importlib
import re
import signal
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

# The one source of truth for table and column descriptions and for the canned queries:
# serve reads them from the schema docs at startup, so they cannot drift from what the
# docs say (and tests/test_example_queries.py runs every query against a crawled archive).
SCHEMA_DOC = Path(__file__).resolve().parent.parent / "docs" / "schema.md"

TITLE = "newsmirror archive"
DESCRIPTION = (
    "A news outlet archived across its primary and mirror domains: one row per story, "
    "every version of its text with the hosts that served it, every capture with its "
    "outcome, and the state of each domain over time. Read-only."
)
# Bookkeeping of the migrations and of the near-duplicate index (FTS shadow tables are
# hidden by Datasette itself): documented, but no archivist browses them.
HIDDEN_PREFIXES = ("_sqlite_migrations", "near_duplicate_", "articles_fts")
TABLE_OPTIONS: dict[str, dict[str, Any]] = {
    "articles": {
        "facets": [
            "section",
            {"array": "mirrors"},
            {"date": "published_at"},
            "site",
            "extraction",
        ],
        "sort_desc": "published_at",
        "fts_table": "articles_fts",
        "fts_pk": "rowid",  # external-content FTS5: articles_fts.rowid is articles.rowid
        "label_column": "title",
    },
    "versions": {"sort_desc": "first_seen_at"},
    "article_hosts": {"facets": ["host", "last_outcome"]},
    "captures": {"facets": ["host", "outcome"], "sort_desc": "id"},
    "mirrors": {"facets": ["state", "role"]},
    "mirror_events": {"facets": ["host", "new_state"], "sort_desc": "id"},
    "crawl_runs": {"facets": ["status"], "sort_desc": "id"},
}

_HEADING = re.compile(r"^(#{2,3}) +(.*)$")
_TABLE_HEADING = re.compile(r"^`(?P<name>\w+)`(?: +— +(?P<tagline>.+))?$")
_QUERY_NAME = re.compile(r"^-- name: *(?P<name>\w+) *$")
_AS_IN = re.compile(r"^as in `(?P<table>\w+)`$")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*{1,2}([^*]+)\*{1,2}")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class TableDoc:
    """One `### table` section of the schema docs."""

    name: str
    description: str
    columns: dict[str, str]  # column -> description


@dataclass(frozen=True)
class ExampleQuery:
    """One ```sql block of the schema docs and the sentence above it."""

    name: str
    title: str
    description: str
    sql: str  # without its `-- name:` line


def read_schema_doc(path: Path = SCHEMA_DOC) -> str | None:
    """The schema docs, or None when this install has none (a wheel ships no docs/)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def table_docs(doc: str) -> dict[str, TableDoc]:
    """Every documented table: its heading and first paragraph, and its column table."""
    described: dict[str, str] = {}
    rows: dict[str, list[list[str]]] = {}
    for title, lines in _sections(doc):
        heading = _TABLE_HEADING.match(title)
        if heading is not None:
            name = heading["name"]
            parts = [_sentence(heading["tagline"] or ""), _first_paragraph(lines)]
            described[name] = " ".join(filter(None, parts))
            rows[name] = [_cells(line) for line in lines if line.startswith("| `")]
    columns: dict[str, dict[str, str]] = {name: {} for name in described}
    # Rows typed "as in `articles`" borrow that table's descriptions: read them last.
    for borrowing in (False, True):
        for name, table_rows in rows.items():
            for names, kind, meaning in table_rows:
                if bool(_AS_IN.match(kind)) != borrowing:
                    continue
                for column in re.findall(r"`(\w+)`", names):
                    columns[name][column] = _column_text(columns, column, kind, meaning)
    return {name: TableDoc(name, text, columns[name]) for name, text in described.items()}


def example_queries(doc: str) -> list[ExampleQuery]:
    """Every ```sql block with a `-- name:` first line, titled by the paragraph above it."""
    queries: list[ExampleQuery] = []
    for paragraph, sql in _sql_blocks(doc):
        first, _, rest = sql.partition("\n")
        named = _QUERY_NAME.match(first)
        if named is None:
            continue
        title, description = _split_title(_plain(paragraph))
        queries.append(ExampleQuery(named["name"], title, description, rest.strip()))
    return queries


def build_metadata(database: str, tables: Sequence[str], doc: str | None) -> dict[str, Any]:
    """Datasette metadata for the archive served as `database` holding `tables`."""
    documented = table_docs(doc) if doc else {}
    table_meta: dict[str, dict[str, Any]] = {}
    for table in tables:
        if table.startswith(HIDDEN_PREFIXES):
            table_meta[table] = {"hidden": True}
            continue
        meta: dict[str, Any] = dict(TABLE_OPTIONS.get(table, {}))
        if table in documented:
            meta["description"] = documented[table].description
            meta["columns"] = dict(documented[table].columns)
        table_meta[table] = meta
    queries = {
        query.name: {"sql": query.sql, "title": query.title, "description": query.description}
        for query in (example_queries(doc) if doc else [])
    }
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "databases": {
            database: {"description": DESCRIPTION, "tables": table_meta, "queries": queries}
        },
    }


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free one); OSError when it cannot be."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class _TerminatedError(Exception):
    """SIGTERM after uvicorn's graceful shutdown (it raises the signal it caught again)."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _TerminatedError


def run(db: Path, tables: Sequence[str], doc: str | None, sock: socket.socket) -> None:
    """Serve `db` read-only (Datasette's immutable mode) on `sock` until SIGINT or SIGTERM."""
    # Imported here: Datasette and uvicorn take a while to load, and only serve needs them.
    import uvicorn  # noqa: PLC0415
    from datasette.app import Datasette  # noqa: PLC0415

    # Imported after datasette.app, which registers it as a plugin: imported first, it
    # would be registered half-initialised, with no error handler in it.
    handle_exception: Any = importlib.import_module("datasette.handle_exception")
    # With rich installed (frictionless brings it), Datasette prints every error page, a 404
    # or a typo in a query, as a screen-long traceback with locals: the page says it all.
    # Errors that are Datasette's own (500) still print a plain traceback.
    handle_exception.rich = None

    path = str(db)
    # Datasette names the database after the file; ask it rather than guess its rule.
    name = next(n for n, d in Datasette(immutables=[path]).databases.items() if d.path == path)
    app = Datasette(immutables=[path], metadata=build_metadata(name, tables, doc)).app()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _TerminatedError):
        pass  # Ctrl-C or SIGTERM: uvicorn has already finished the requests in flight
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()


# --- reading the markdown --------------------------------------------------------------------


def _sections(doc: str) -> Iterator[tuple[str, list[str]]]:
    """(heading text, lines up to the next heading) for every ## and ### heading."""
    title: str | None = None
    lines: list[str] = []
    for line in _outside_fences(doc):
        heading = _HEADING.match(line)
        if heading:
            if title is not None:
                yield title, lines
            title, lines = heading[2].strip(), []
        else:
            lines.append(line)
    if title is not None:
        yield title, lines


def _outside_fences(doc: str) -> Iterator[str]:
    """Lines of the doc, with code blocks left out (a `# comment` in one is no heading)."""
    fenced = False
    for line in doc.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            yield ""
        elif not fenced:
            yield line


def _sql_blocks(doc: str) -> Iterator[tuple[str, str]]:
    """(the paragraph just above, code) for every ```sql block."""
    lines = doc.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() != "```sql":
            index += 1
            continue
        try:
            end = lines.index("```", index + 1)
        except ValueError:  # an unclosed block: nothing after it is SQL
            return
        above: list[str] = []
        back = index - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        while back >= 0 and lines[back].strip() and not lines[back].startswith("```"):
            above.insert(0, lines[back])
            back -= 1
        yield " ".join(above), "\n".join(lines[index + 1 : end])
        index = end + 1


def _cells(row: str) -> list[str]:
    cells = [cell.strip().replace("\\|", "|") for cell in _CELL_SPLIT.split(row.strip())[1:-1]]
    return cells + [""] * (3 - len(cells))


def _first_paragraph(lines: list[str]) -> str:
    """The prose before the section's column table, if any."""
    paragraph: list[str] = []
    for line in lines:
        if line.startswith(("|", "```", "-")):
            break
        if not line.strip():
            if paragraph:
                break
            continue
        paragraph.append(line.strip())
    return _plain(" ".join(paragraph))


def _column_text(columns: dict[str, dict[str, str]], column: str, kind: str, meaning: str) -> str:
    """`meaning (TYPE)`; a row typed "as in `articles`" borrows that table's description."""
    same = _AS_IN.match(kind)
    borrowed = columns.get(same["table"], {}).get(column) if same else None
    if borrowed:
        return f"{borrowed}; {_plain(meaning)}" if meaning else borrowed
    if not meaning:
        return _plain(kind)
    return f"{_plain(meaning)} ({_plain(kind)})"


def _plain(text: str) -> str:
    """Markdown to text: code spans keep their content, links their text, emphasis goes."""
    parts = _LINK.sub(r"\1", text).split("`")
    for index in range(0, len(parts), 2):  # even parts are outside code spans
        parts[index] = _EMPHASIS.sub(r"\1", parts[index])
    return " ".join("".join(parts).split())


def _sentence(text: str) -> str:
    text = _plain(text)
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def _split_title(text: str) -> tuple[str, str]:
    """The first sentence (up to a `.` or `:` outside parentheses) and the rest."""
    depth = 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        at_end = index + 1 == len(text) or text[index + 1] == " "
        if depth == 0 and char in ".:" and at_end:
            rest = text[index + 1 :].strip().rstrip(":")
            return text[:index], f"{rest[:1].upper()}{rest[1:]}"
    return text, ""
