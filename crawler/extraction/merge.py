"""Per-field precedence: which layer's value wins, as one table.

Layers, each a mapping of field -> candidate value:

- ``profile``: the site profile's selectors (`selectors.py`); in its body the profile's and
  the generic boilerplate are skipped.
- ``jsonld``: the page's schema.org story object (`jsonld.py`). Its ``articleBody`` counts
  only when it looks whole: at least 40 words and two sentences, no trailing ellipsis, and
  not merely the description again (sites often put a teaser there).
- ``breadcrumb``: a JSON-LD BreadcrumbList, else breadcrumb markup (class, id, aria-label or
  microdata naming a breadcrumb).
- ``opengraph``: ``og:*`` and ``article:*`` meta properties.
- ``meta``: other ``<meta>`` names (description, author, news_keywords, Dublin Core, ...)
  and ``itemprop`` dates.
- ``html``: ``<title>`` less the site's name, ``<html lang>``, the article's first
  ``<figcaption>``.
- ``body``: the first paragraph of the chosen body (a lead of last resort).
- ``generic``: trafilatura, run only when no other layer gave a body.

The table reads left to right: the first layer with a non-empty value gives the field, and
``field_sources`` records that layer's name. Whichever layer gives the body, the profile's
``cut_at`` and ``drop`` rules, the image caption and a repeated headline are taken out of
it first, and a body left empty lets the next layer try. Dates prefer machine-readable
layers to the profile because visible dates are often minute-precision only (the profile's
date selectors usually name the same meta tag anyway). Sections: a breadcrumb path beats a
single ``articleSection`` name.

Layers are lazy (`LazyLayer`): a field is computed only when every layer before it came up
empty, which keeps the profile path cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

PRECEDENCE: Final[Mapping[str, tuple[str, ...]]] = {
    "title": ("profile", "jsonld", "opengraph", "html", "generic"),
    "body": ("profile", "jsonld", "generic"),
    "lead": ("profile", "jsonld", "opengraph", "meta", "body"),
    "published_at": ("jsonld", "opengraph", "meta", "profile", "generic"),
    "modified_at": ("jsonld", "opengraph", "meta", "profile", "generic"),
    "section": ("profile", "breadcrumb", "jsonld", "opengraph"),
    "authors": ("profile", "jsonld", "opengraph", "meta", "generic"),
    "tags": ("profile", "jsonld", "opengraph", "meta", "generic"),
    "image_url": ("profile", "opengraph", "jsonld", "meta", "generic"),
    "image_caption": ("profile", "jsonld", "html"),
    "language": ("html", "opengraph", "meta", "jsonld", "profile"),
}


class LazyLayer(Mapping[str, Any]):
    """A layer whose fields are computed on first read and then kept."""

    def __init__(self, getters: Mapping[str, Callable[[], Any]]) -> None:
        self._getters = dict(getters)
        self._values: dict[str, Any] = {}

    def __getitem__(self, field: str) -> Any:
        if field not in self._values:
            self._values[field] = self._getters[field]()
        return self._values[field]

    def get(self, field: str, default: Any = None) -> Any:
        # Not Mapping.get: that would take a KeyError raised inside a getter for "missing".
        return self[field] if field in self._getters else default

    def __contains__(self, field: object) -> bool:
        return field in self._getters

    def __iter__(self) -> Iterator[str]:
        return iter(self._getters)

    def __len__(self) -> int:
        return len(self._getters)

    def transform(self, field: str, function: Callable[[Any], Any]) -> None:
        """Pass the field's value through `function` when it is (or was) computed."""
        if field in self._values:
            self._values[field] = function(self._values[field])
        elif field in self._getters:
            getter = self._getters[field]
            self._getters[field] = lambda: function(getter())


def is_empty(value: object) -> bool:
    return value is None or value in ("", [], {})


def pick(field: str, layers: Mapping[str, Mapping[str, Any]]) -> tuple[Any, str | None]:
    """The winning value of one field and the layer it came from, or (None, None)."""
    for layer in PRECEDENCE[field]:
        value = layers.get(layer, {}).get(field)
        if not is_empty(value):
            return value, layer
    return None, None


def merge(layers: Mapping[str, Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every field of the table: values found, and which layer gave each."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field in PRECEDENCE:
        value, layer = pick(field, layers)
        if layer is not None:
            values[field] = value
            sources[field] = layer
    return values, sources
