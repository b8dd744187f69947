"""JSON for scrapy-redis requests (SCHEDULER_SERIALIZER): bytes tagged and base64-encoded.

scrapy-redis pickles requests by default; anything able to write to the Redis could then run
code in every worker. A request's dict (`Request.to_dict`) is JSON once bytes are tagged.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "__bytes__"


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {
            str(k if not isinstance(k, bytes) else k.decode("latin-1")): _encode(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def dumps(obj: Any) -> str:
    return json.dumps(_encode(obj), separators=(",", ":"))


def loads(data: str | bytes) -> Any:
    return _decode(json.loads(data))
