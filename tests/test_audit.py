"""tools/audit.py (`make audit`) against a fake package index on loopback: never the internet."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools import audit
from tools.audit import LockError, Pin, read_pins

REPO = Path(__file__).resolve().parent.parent

HANG_UP = "hang up"  # close the connection without a word
STALL = "stall"  # say nothing until the test ends (the client's timeout must fire)


def release(name: str, version: str, vulnerabilities: list[dict[str, Any]] | None) -> Any:
    document: dict[str, Any] = {"info": {"name": name, "version": version}}
    if vulnerabilities is not None:
        document["vulnerabilities"] = vulnerabilities
    return document


def project(name: str, latest: str, vulnerabilities: list[dict[str, Any]] | None) -> Any:
    document = release(name, latest, vulnerabilities)
    document["releases"] = {"0.9": [], "1.0": [], latest: []}
    return document


def advisory(
    vuln_id: str,
    *,
    aliases: tuple[str, ...] = (),
    fixed_in: tuple[str, ...] = ("9.9",),
    withdrawn: str | None = None,
) -> dict[str, Any]:
    return {
        "id": vuln_id,
        "aliases": list(aliases),
        "fixed_in": list(fixed_in),
        "withdrawn": withdrawn,
        "link": f"https://osv.dev/vulnerability/{vuln_id}",
        "details": "details",
        "summary": None,
        "source": "osv",
    }


WITHDRAWN = advisory("PYSEC-2020-1", withdrawn="2021-01-01T00:00:00Z")
# path -> JSON answered with 200, an HTTP status, HANG_UP or STALL; anything else is a 404.
ROUTES: dict[str, Any] = {
    # The pin's own release answers (the open internet): its advisories are the pin's.
    "/pypi/own-clean/1.0/json": release("own-clean", "1.0", []),
    "/pypi/own-vulnerable/1.0/json": release(
        "own-vulnerable",
        "1.0",
        [advisory("PYSEC-2024-7", aliases=("CVE-2024-7",), fixed_in=("1.1", "2.0")), WITHDRAWN],
    ),
    # Only the project answers (this sandbox): the pin is its latest release.
    "/pypi/latest-clean/json": project("latest-clean", "1.0", []),
    "/pypi/latest-vulnerable/json": project(
        "latest-vulnerable", "1.0", [advisory("GHSA-aaaa-bbbb-cccc", aliases=("CVE-2025-1",))]
    ),
    "/pypi/latest-withdrawn/json": project("latest-withdrawn", "1.0", [WITHDRAWN]),
    # ...the pin is behind the latest, or the index has no advisory data at all.
    "/pypi/behind/json": project("behind", "2.0", [advisory("PYSEC-2026-2")]),
    "/pypi/not-released/json": project("not-released", "2.0", []),
    "/pypi/no-advisory-data/json": project("no-advisory-data", "1.0", None),
    # The index fails.
    "/pypi/server-error/1.0/json": 500,
    "/pypi/server-error/json": 500,
    "/pypi/hang-up/1.0/json": HANG_UP,
    "/pypi/hang-up/json": HANG_UP,
    "/pypi/not-json/json": b"<html>blocked</html>",
    "/pypi/slow-release/1.0/json": STALL,
    "/pypi/slow-release/json": project("slow-release", "1.0", []),
}


class FakeIndexHandler(BaseHTTPRequestHandler):
    server: FakeIndex

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        answer = ROUTES.get(self.path, 404)
        if answer == HANG_UP:
            return
        if answer == STALL:
            self.server.released.wait(10)
            return
        if isinstance(answer, int):
            self.send_error(answer)
            return
        body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeIndex(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeIndexHandler)
        self.asked: list[str] = []
        self.released = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    server = FakeIndex()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.released.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def index_url(index: FakeIndex, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    return f"http://127.0.0.1:{index.server_address[1]}"


def write_lock(tmp_path: Path, *pins: str) -> Path:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# generated for a test\n" + "".join(f"{pin}\n    # via newsmirror\n" for pin in pins),
        encoding="utf-8",
    )
    return lock


def verdicts(index_url: str, *pins: str, **options: Any) -> dict[str, audit.Verdict]:
    parsed = read_pins("\n".join(pins))
    result = audit.audit(parsed, index_url, timeout=2, **options)
    return {verdict.pin.name: verdict for verdict in result.verdicts}


def test_pin_with_its_own_release_data_is_judged_on_it(index_url: str) -> None:
    found = verdicts(index_url, "own-clean==1.0", "own-vulnerable==1.0")
    assert found["own-clean"].status == "clean"
    assert found["own-clean"].source == "release"
    vulnerable = found["own-vulnerable"]
    assert vulnerable.status == "vulnerable"
    assert vulnerable.source == "release"
    assert [a.id for a in vulnerable.advisories] == ["PYSEC-2024-7"]  # withdrawn one skipped
    assert vulnerable.detail == "PYSEC-2024-7 (CVE-2024-7), fixed in 1.1, 2.0"


def test_latest_release_data_speaks_for_the_latest_pin(index_url: str) -> None:
    found = verdicts(
        index_url, "latest-clean==1.0", "latest-vulnerable==1.0", "latest-withdrawn==1.0"
    )
    assert (found["latest-clean"].status, found["latest-clean"].source) == ("clean", "latest")
    assert found["latest-vulnerable"].status == "vulnerable"
    assert found["latest-vulnerable"].source == "latest"
    assert found["latest-vulnerable"].advisories[0].id == "GHSA-aaaa-bbbb-cccc"
    assert found["latest-withdrawn"].status == "clean"


def test_pin_behind_the_latest_is_unverified_and_says_why(index_url: str) -> None:
    found = verdicts(index_url, "behind==1.0", "not-released==1.5")
    assert found["behind"].status == "unverified"
    assert found["behind"].reason == (
        "release data unreachable (HTTP 404); pin 1.0 is behind the latest 2.0, whose "
        "advisories do not cover it (the latest itself has PYSEC-2026-2)"
    )
    assert found["not-released"].status == "unverified"
    assert "1.5 is not a release of not-released on the index" in found["not-released"].reason


def test_index_without_advisory_data_never_passes_a_pin(index_url: str) -> None:
    found = verdicts(index_url, "no-advisory-data==1.0")
    assert found["no-advisory-data"].status == "unverified"
    assert found["no-advisory-data"].reason.endswith("project data gives no advisory data")


def test_index_failures_cost_their_own_pin_only(index_url: str) -> None:
    found = verdicts(
        index_url,
        "server-error==1.0",
        "hang-up==1.0",
        "not-json==1.0",
        "unknown==1.0",
        "own-clean==1.0",
    )
    assert found["server-error"].reason == (
        "release data unreachable (HTTP 500); project data unreachable (HTTP 500)"
    )
    assert found["hang-up"].reason.endswith(
        "project data unreachable (connection closed without an answer)"
    )
    assert found["not-json"].reason.endswith("project data unreachable (answer is not JSON)")
    assert found["unknown"].reason.endswith("project data unreachable (HTTP 404)")
    assert {name for name, v in found.items() if v.status == "unverified"} == {
        "server-error",
        "hang-up",
        "not-json",
        "unknown",
    }
    assert found["own-clean"].status == "clean"


def test_a_stalled_answer_times_out_and_the_project_is_asked(index_url: str) -> None:
    result = audit.audit(read_pins("slow-release==1.0"), index_url, timeout=0.3)
    (verdict,) = result.verdicts
    assert (verdict.status, verdict.source) == ("clean", "latest")


def test_names_are_normalised_before_asking(index_url: str, index: FakeIndex) -> None:
    found = verdicts(index_url, "Latest_Clean==1.0")
    assert found["latest-clean"].status == "clean"
    assert "/pypi/latest-clean/1.0/json" in index.asked


def test_ignore_vuln_matches_an_id_or_an_alias(index_url: str) -> None:
    found = verdicts(
        index_url,
        "own-vulnerable==1.0",
        "latest-vulnerable==1.0",
        ignore=["pysec-2024-7", "CVE-2025-1"],
    )
    assert found["own-vulnerable"].status == "clean"
    assert found["own-vulnerable"].detail == "ignored: PYSEC-2024-7"
    assert found["latest-vulnerable"].status == "clean"


@pytest.mark.parametrize(
    "case",
    [
        (["own-clean==1.0", "latest-clean==1.0"], ["--strict"], 0, "audit passed: 2 pins"),
        (["own-clean==1.0", "behind==1.0"], [], 0, "audit passed without --strict"),
        (["own-clean==1.0", "behind==1.0"], ["--strict"], 1, "audit failed: 2 pins"),
        (["own-vulnerable==1.0"], [], 1, "(vulnerable: own-vulnerable 1.0)"),
        (["own-vulnerable==1.0"], ["--ignore-vuln", "CVE-2024-7"], 0, "audit passed"),
    ],
)
def test_exit_code_and_summary_line(
    index_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: tuple[list[str], list[str], int, str],
) -> None:
    pins, options, code, summary = case
    lock = write_lock(tmp_path, *pins)
    assert audit.main(["-r", str(lock), "--index-url", index_url, *options]) == code
    out, err = capsys.readouterr()
    last = (err if code else out).strip().splitlines()[-1]
    assert summary in last
    assert "Traceback" not in out + err
    assert len(out.strip().splitlines()) == len(pins) + (0 if code else 1)


def test_report_records_the_audit(index_url: str, tmp_path: Path) -> None:
    lock = write_lock(tmp_path, "own-clean==1.0", "own-vulnerable==1.0", "behind==1.0")
    report = tmp_path / "audit.md"
    code = audit.main(
        ["-r", str(lock), "--index-url", index_url, "--strict", "--report", str(report)]
    )
    assert code == 1
    text = report.read_text("utf-8")
    assert re.search(r"^- Date: \d{4}-\d{2}-\d{2} \(UTC\)$", text, re.MULTILINE)
    assert f"- Command: `python -m tools.audit -r {lock} --index-url {index_url} --strict" in text
    assert f"sha256 `{hashlib.sha256(lock.read_bytes()).hexdigest()}`" in text
    assert "**failed** (exit 1): 3 pins; 1 verified clean, 1 vulnerable, 1 unverified" in text
    assert "| own-clean | 1.0 | clean | its release |  |" in text
    assert "| own-vulnerable | 1.0 | vulnerable | its release | PYSEC-2024-7" in text
    assert "| behind | 1.0 | unverified | - | release data unreachable (HTTP 404)" in text
    assert not list(tmp_path.glob("*.partial"))


def test_read_pins_reads_what_pip_reads() -> None:
    text = textwrap.dedent(
        """\
        # comment line
        --index-url https://pypi.org/simple
        Zope.Interface==8.7    # via twisted
        numpy==2.4.6 ; python_version >= "3.11"
        uvicorn[standard]==0.55.0 \\
            --hash=sha256:aaaa \\
            --hash=sha256:bbbb
        zope-interface==8.7
        loose>=1.0
        starred==1.*
        direct @ https://example.org/direct-1.0.tar.gz#sha256=cccc
        -e ./local
        """
    )
    assert read_pins(text) == [
        Pin("./local", "", "an editable requirement, not an index release"),
        Pin("direct", "", "a direct URL requirement, not an index release"),
        Pin("loose", "", "not pinned to one release (>=1.0)"),
        Pin("numpy", "2.4.6"),
        Pin("starred", "", "not pinned to one release (==1.*)"),
        Pin("uvicorn", "0.55.0"),
        Pin("zope-interface", "8.7"),
    ]


def test_pins_without_a_release_are_unverified_without_asking(index_url: str) -> None:
    found = verdicts(index_url, "loose>=1.0")
    assert found["loose"].status == "unverified"
    assert found["loose"].reason == "not pinned to one release (>=1.0)"


@pytest.mark.parametrize("line", ["-r other.txt", "not a requirement!"])
def test_lock_audit_cannot_read_is_refused(line: str) -> None:
    with pytest.raises(LockError, match="line 2"):
        read_pins(f"six==1.17.0\n{line}\n")


def test_the_project_lock_is_all_exact_pins() -> None:
    pins = read_pins((REPO / "requirements.lock").read_text("utf-8"))
    assert len(pins) > 50
    assert [pin for pin in pins if pin.problem] == []
    names = {pin.name for pin in pins}
    assert {"scrapy", "zope-interface", "sqlite-utils"} <= names


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-r", "missing.lock"], "audit: cannot read missing.lock"),
        (["-r", "empty.lock"], "audit: no requirements in empty.lock"),
    ],
)
def test_unreadable_lock_is_one_line_and_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.lock").write_text("# nothing\n", encoding="utf-8")
    assert audit.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1


def test_index_url_must_be_http(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        audit.main(["--index-url", "file:///etc"])
    assert exit_info.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


def test_unreachable_index_fails_every_pin_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    lock = write_lock(tmp_path, "six==1.17.0", "idna==3.21")
    code = audit.main(["-r", str(lock), "--index-url", f"http://127.0.0.1:{port}", "--strict"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.count("unverified") == 2
    assert "project data unreachable" in out
    assert "Traceback" not in out + err


def test_make_test_does_not_run_the_audit() -> None:
    makefile = (REPO / "Makefile").read_text("utf-8")
    test_target = re.search(r"^test:(.*)$", makefile, re.MULTILINE)
    assert test_target
    assert "audit" not in test_target.group(1)
    assert "python -m tools.audit" in makefile
