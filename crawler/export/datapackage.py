"""The Frictionless data package of a bag: every file a resource with its sha256, tables with schemas.

frictionless 5 reads JSON Lines itself, so the JSONL table is a `table` resource that
`frictionless validate` checks row by row against its schema. It reads Parquet only through
pandas, which newsmirror does not install, so the Parquet table is a `file` resource: its
schema is declared for readers, and validation checks its size and sha256 (as for the WARC).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crawler import __version__
from crawler.export.manifest import sha256_file

NAME = "datapackage.json"
DATETIMES = ("published_at", "modified_at", "first_seen_at", "last_seen_at")
INTEGERS = ("word_count", "version_count")
ARRAYS = ("authors", "tags", "mirrors", "versions")
OBJECTS = ("captures",)
LOCAL = {"published_at": "published_at_local", "modified_at": "modified_at_local"}

DESCRIPTIONS = {
    "key": "Story key <site>:<source id>, the same on every host.",
    "site": "Profile name of the outlet.",
    "source_id": "The outlet's own id of the story.",
    "canonical_url": "The story's URL on the primary host.",
    "title": "Headline.",
    "lead": "Standfirst or summary paragraph.",
    "body": "Plain text, paragraphs separated by a blank line.",
    "section": "Breadcrumb below the home crumb, joined by ' / '.",
    "published_at": "Publication time as the outlet printed it, with its offset.",
    "modified_at": "Last-modified time the page states, with its offset.",
    "authors": "Bylines.",
    "tags": "Topic tags.",
    "image_url": "Lead image.",
    "image_caption": "Its caption.",
    "language": "Language code.",
    "word_count": "Words in body.",
    "extraction": "Which layer gave the body: profile, jsonld or generic.",
    "field_sources": "Which layer gave each field.",
    "content_hash": "sha256 of the normalised title and body of the version shown.",
    "first_seen_at": "First capture of any version (UTC).",
    "last_seen_at": "Latest capture that served any version (UTC).",
    "mirrors": "Every host that served any version.",
    "version_count": "Number of distinct versions of the text.",
    "duplicate_of": "Key of the earliest story this one republishes.",
    "host": "Host whose copy of the version this row shows.",
    "url": "The URL that copy was fetched from.",
    "versions": "Every version: its text, fields, hosts and first and last sighting.",
    "captures": "Captures of the story: total, first, last, and outcomes per host.",
}
PARQUET_DESCRIPTIONS = {
    "published_at": "Publication time as a UTC instant.",
    "published_at_local": "Publication time as the outlet printed it, with its offset.",
    "modified_at": "Last-modified time as a UTC instant.",
    "modified_at_local": "Last-modified time as the page printed it, with its offset.",
}


def _type(name: str, *, json_objects: bool) -> str:
    if name in DATETIMES:
        return "datetime"
    if name in INTEGERS:
        return "integer"
    if name in ARRAYS:
        return "array"
    if name in OBJECTS or (json_objects and name == "field_sources"):
        return "object"
    return "string"


def _field(name: str, kind: str, descriptions: dict[str, str]) -> dict[str, Any]:
    field: dict[str, Any] = {"name": name, "type": kind}
    if name in descriptions:
        field["description"] = descriptions[name]
    if name == "key":
        field["constraints"] = {"required": True}
    return field


def jsonl_schema(columns: Sequence[str]) -> dict[str, Any]:
    """The JSONL lines: field_sources is an object there, published_at keeps its offset."""
    fields = [_field(name, _type(name, json_objects=True), DESCRIPTIONS) for name in columns]
    return {"fields": fields, "primaryKey": ["key"]}


def parquet_schema(columns: Sequence[str]) -> dict[str, Any]:
    """The Parquet columns: instants in UTC with the printed strings beside them."""
    descriptions = {**DESCRIPTIONS, **PARQUET_DESCRIPTIONS}
    fields = []
    for name in columns:
        fields.append(_field(name, _type(name, json_objects=False), descriptions))
        if name in LOCAL:
            fields.append(_field(LOCAL[name], "string", descriptions))
    return {"fields": fields, "primaryKey": ["key"]}


def resource(
    path: Path,
    *,
    name: str,
    title: str,
    file_format: str,
    mediatype: str,
    schema: dict[str, Any] | None = None,
    table: bool = False,
) -> dict[str, Any]:
    """A resource for a file beside datapackage.json, with its size and sha256."""
    described: dict[str, Any] = {
        "name": name,
        "type": "table" if table else "file",
        "path": path.name,
        "title": title,
        "format": file_format,
        "mediatype": mediatype,
        "bytes": path.stat().st_size,
        "hash": f"sha256:{sha256_file(path)}",
    }
    if table:
        described["encoding"] = "utf-8"
    if schema is not None:
        described["schema"] = schema
    return described


def datapackage(
    *,
    title: str,
    description: str,
    created: str,
    source: str,
    resources: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "name": "newsmirror-export",
        "title": title,
        "description": description,
        "created": created,
        "sources": [{"title": source}],
        "keywords": ["news", "web archive", f"newsmirror {__version__}"],
        "resources": list(resources),
    }


def write_datapackage(path: Path, descriptor: dict[str, Any]) -> None:
    path.write_text(json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
