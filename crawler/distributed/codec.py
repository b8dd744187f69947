"""Items on the Redis item queue: Captures, HostVerdicts and MirrorCandidates as JSON."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from crawler.items import Capture, HostVerdict, MirrorCandidate

_KINDS: dict[str, type[Any]] = {
    "capture": Capture,
    "verdict": HostVerdict,
    "candidate": MirrorCandidate,
}
_NAMES = {cls: name for name, cls in _KINDS.items()}


def encode_item(item: Capture | HostVerdict | MirrorCandidate) -> str:
    fields = dataclasses.asdict(item)
    if isinstance(item, Capture) and item.body is not None:
        fields["body"] = base64.b64encode(item.body).decode("ascii")
    return json.dumps({"kind": _NAMES[type(item)], "fields": fields}, ensure_ascii=False)


def decode_item(data: str | bytes) -> Capture | HostVerdict | MirrorCandidate:
    """The item back; ValueError for anything that is not one of ours."""
    try:
        message = json.loads(data)
        cls = _KINDS[message["kind"]]
        fields = dict(message["fields"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a newsmirror item: {exc}") from None
    if cls is Capture and fields.get("body") is not None:
        fields["body"] = base64.b64decode(fields["body"])
    known = {f.name for f in dataclasses.fields(cls)}
    item: Capture | HostVerdict | MirrorCandidate = cls(
        **{k: v for k, v in fields.items() if k in known}
    )
    return item
