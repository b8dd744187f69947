"""A bounded atheris (libFuzzer) run over extraction, URL identity and the feed/sitemap
parsers, started from real replay-site inputs: every input returns, none raises or hangs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.faults.conftest import Tally

pytest.importorskip("atheris", reason="atheris is in the dev extra; `make setup` installs it")

RUNS = int(os.environ.get("NEWSMIRROR_ATHERIS_RUNS", "2000"))
HARNESS = "tests.faults.atheris_harness"


def _harness(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", HARNESS, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_atheris_finds_no_exception_and_no_hang(tmp_path: Path, trials: Tally) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeded = _harness("--write-seeds", str(corpus), timeout=60)
    assert seeded.returncode == 0, seeded.stderr
    trials.extra_trials = RUNS
    # -timeout: one input slower than this is a hang; -rss_limit_mb: a blow-up is a failure.
    result = _harness(
        f"-runs={RUNS}",
        "-seed=6",
        "-timeout=10",
        "-max_len=8192",
        "-rss_limit_mb=2048",
        f"-artifact_prefix={tmp_path}/",  # a failing input is kept here, not in the repository
        str(corpus),
        timeout=300,
    )
    tail = result.stderr[-3000:]
    assert result.returncode == 0, tail
    assert f"Done {RUNS} runs" in result.stderr, tail
    trials.extra_passed = RUNS
