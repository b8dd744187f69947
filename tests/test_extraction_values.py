"""Small value normalisers: URLs made absolute."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from hypothesis import example, given
from hypothesis import strategies as st

from crawler.extraction.values import absolute_url

BASES = ("https://www.presstv.ir/Detail/2026/03/08/745312/x", "http://www.example.org/")


def _joined(value: str, base: str) -> str | None:
    """absolute_url as urljoin gives it, with no shortcut."""
    if not value:
        return None
    try:
        resolved = urljoin(base, value.strip())
        scheme = urlsplit(resolved).scheme
    except ValueError:
        return None
    return resolved if scheme in ("http", "https") else None


url_like = st.builds(
    lambda scheme, rest: scheme + rest,
    st.sampled_from(["http://", "https://", "HTTP://", " https://", "//", "/", "data:", ""]),
    st.text(alphabet="ab./?#;:%@[]= \t\n\u00a0é", max_size=16),
)


@given(url_like, st.sampled_from(BASES))
@example("https://a.com/x?", BASES[0])
@example("https://a.com/x?#f", BASES[0])
@example("https://a.com/x;", BASES[0])
@example("https://[::1/x", BASES[0])
def test_plain_absolute_urls_skip_urljoin_and_come_out_alike(value: str, base: str) -> None:
    assert absolute_url(value, base) == _joined(value, base)
