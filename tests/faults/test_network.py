"""Network faults and redirects: refused, reset, hung, 5xx, 429, retries, loops, foreign hosts.

One crawl serves every story fault at once, each on its own story on the primary (the
mirrors still serve the story, so it must still be archived from them, and true).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.replay import ReplaySite
from tests.faults.conftest import Crawl, assert_sound, crawl, small_site
from tests.faults.server import flaky, hang, redirect, redirect_to_origin, reset_mid_body, status

pytestmark = pytest.mark.crawl

PRIMARY, MIRROR, LAGGING = "www.presstv.ir", "www.presstv.co.uk", "www.presstv.tv"
# A host outside the profile, served on loopback (as localhost), so a followed redirect shows.
FOREIGN = "localhost"


def _story_prefix(site: ReplaySite, n: int) -> tuple[str, str]:
    story = site.stories[n - 1]
    return story.key, story.path.rsplit("/", 1)[0]  # up to the id: any slug matches


# Each case: the story number it breaks and the host that breaks it.
CASES: dict[str, tuple[int, str]] = {
    "reset_mid_body": (1, PRIMARY),
    "never_answers": (2, PRIMARY),
    "http_500": (3, PRIMARY),
    "http_502_retry_after": (4, PRIMARY),
    "http_503": (5, PRIMARY),
    "http_429_retry_after": (6, PRIMARY),
    "redirect_loop": (8, PRIMARY),
    "redirect_outside_profile": (9, PRIMARY),
    "redirect_to_connect_to_origin": (10, PRIMARY),
}
ERRORS: dict[str, str | tuple[str, ...]] = {
    "reset_mid_body": ("ResponseDataLoss", "ResponseFailed", "ConnectionLost"),
    "never_answers": "TimeoutError",
    "http_500": "HTTP 500",
    "http_502_retry_after": "HTTP 502",
    "http_503": "HTTP 503",
    "http_429_retry_after": "HTTP 429",
    "redirect_loop": "redirect",
    "redirect_outside_profile": f"redirect to {FOREIGN} (outside the profile) not followed",
    "redirect_to_connect_to_origin": "redirect to 127.0.0.1 (outside the profile) not followed",
}
SUCCESS_AFTER_RETRY = 7
MIRROR_TO_PRIMARY = 11


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplaySite, Crawl]:
    site = small_site()
    tmp_path = tmp_path_factory.mktemp("network")
    faults = {}
    prefix = {name: _story_prefix(site, n)[1] for name, (n, _) in CASES.items()}
    faults[(PRIMARY, prefix["reset_mid_body"])] = reset_mid_body()
    faults[(PRIMARY, prefix["never_answers"])] = hang()
    faults[(PRIMARY, prefix["http_500"])] = status(500)
    faults[(PRIMARY, prefix["http_502_retry_after"])] = status(502, (("Retry-After", "1"),))
    faults[(PRIMARY, prefix["http_503"])] = status(503)
    faults[(PRIMARY, prefix["http_429_retry_after"])] = status(429, (("Retry-After", "120"),))
    loop = prefix["redirect_loop"]
    faults[(PRIMARY, loop)] = redirect(lambda p: loop + ("/x" if p == loop else ""))
    faults[(PRIMARY, prefix["redirect_outside_profile"])] = redirect_to_origin(
        "evil.example", spelled=FOREIGN
    )
    _, again = _story_prefix(site, SUCCESS_AFTER_RETRY)
    faults[(PRIMARY, again)] = flaky(1, status(503))
    _, moved = _story_prefix(site, MIRROR_TO_PRIMARY)
    faults[(MIRROR, moved)] = redirect(lambda p: f"https://{PRIMARY}{p}", 301)
    # Where the primary really listens: a page must not be able to steer a request there.
    faults[(PRIMARY, prefix["redirect_to_connect_to_origin"])] = redirect_to_origin(PRIMARY)
    return site, crawl(tmp_path, site, faults, extra_hosts=("evil.example",))


def test_faulty_run_exits_0_and_stays_sound(faulty: tuple[ReplaySite, Crawl]) -> None:
    site, run = faulty
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert_sound(run, site)
    assert FOREIGN not in run.hosts_asked
    assert "127.0.0.1" not in run.hosts_asked


@pytest.mark.parametrize("case", sorted(CASES))
def test_story_fault_is_an_error_capture_and_the_story_survives(
    faulty: tuple[ReplaySite, Crawl], case: str
) -> None:
    site, run = faulty
    n, host = CASES[case]
    key, _ = _story_prefix(site, n)
    rows = run.captures("article_key = ? AND host = ? AND page_type = 'article'", [key, host])
    assert rows, f"no capture of {key} on {host}"
    assert {row["outcome"] for row in rows} == {"error"}, rows
    expected = ERRORS[case]
    words = (expected,) if isinstance(expected, str) else expected
    for row in rows:
        assert any(w.lower() in str(row["error"]).lower() for w in words), row["error"]
        if case != "redirect_to_connect_to_origin":  # there the page itself named 127.0.0.1
            assert "127.0.0.1" not in str(row["error"]), "errors name the site's URLs"
    article = run.article(key)
    assert article is not None, "the mirrors' copy was lost"
    assert host not in str(article["mirrors"])


def test_success_after_retries_is_an_article(faulty: tuple[ReplaySite, Crawl]) -> None:
    site, run = faulty
    key, prefix = _story_prefix(site, SUCCESS_AFTER_RETRY)
    rows = run.captures("article_key = ? AND host = ?", [key, PRIMARY])
    assert [(row["status"], row["outcome"]) for row in rows] == [(200, "article")]
    assert run.server.asked(PRIMARY, prefix) == 2
    assert PRIMARY in str(run.article(key)["mirrors"])  # type: ignore[index]


def test_mirror_redirecting_to_the_primary_is_followed_within_the_profile(
    faulty: tuple[ReplaySite, Crawl],
) -> None:
    site, run = faulty
    key, _ = _story_prefix(site, MIRROR_TO_PRIMARY)
    rows = run.captures("article_key = ? AND requested_url LIKE ?", [key, f"https://{MIRROR}/%"])
    assert rows
    assert all(row["host"] == PRIMARY for row in rows), rows
    article = run.article(key)
    assert article is not None
    assert article["version_count"] == 1


def test_connection_refused_host_is_down_and_the_run_goes_on(tmp_path: Path) -> None:
    site = small_site()
    run = crawl(tmp_path, site, {}, down_hosts=(LAGGING,))
    assert run.returncode == 0, run.stderr
    assert_sound(run, site)
    errors = run.captures("host = ?", [LAGGING])
    assert errors
    assert {row["outcome"] for row in errors} == {"error"}
    assert all("refused" in str(row["error"]).lower() for row in errors), errors[:3]
    assert run.db.table("mirrors").get(LAGGING)["state"] == "down"
    (stored,) = run.db.query("SELECT count(*) AS n FROM articles")
    assert stored["n"] == len(site.stories)


def test_redirect_to_a_seizure_page_seizes_the_host_and_stores_nothing_from_it(
    tmp_path: Path,
) -> None:
    site = small_site()
    notice = (
        b"<html><body><h1>This domain has been seized by the United States Government"
        b"</h1></body></html>"
    )
    faults = {
        (LAGGING, "/Detail"): redirect(f"https://{LAGGING}/seized", 302),
        (LAGGING, "/seized"): status(200, body=notice),
    }
    run = crawl(tmp_path, site, faults)
    assert run.returncode == 0, run.stderr
    assert_sound(run, site)
    assert run.db.table("mirrors").get(LAGGING)["state"] == "seized"
    seized = run.captures("host = ? AND outcome = 'seized'", [LAGGING])
    assert seized
    (served,) = run.db.query(
        "SELECT count(*) AS n FROM versions WHERE hosts LIKE ?", [f"%{LAGGING}%"]
    )
    assert served["n"] == 0
