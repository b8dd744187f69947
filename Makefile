# Everything sets itself up: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup services demo test lint format bench lock clean audit

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/newsmirror demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The fleet tests start their own redis-server on a free loopback port; install it if missing.
services:
	@command -v redis-server >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null; }

test: lint services
	$(BIN)/pytest

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Known vulnerabilities in the pinned dependencies, from the package index's advisory data
# (tools/audit.py; needs network access to the index); the result is kept in docs/audit.md.
# --strict: a pin whose advisories cannot be established fails the audit instead of passing.
# Not part of `make test`: its result changes as advisories and releases are published.
audit: setup
	$(BIN)/python -m tools.audit --strict --requirement requirements.lock --report docs/audit.md

bench: setup
	$(BIN)/python -m bench

# Re-pin every dependency to its newest fitting release (needs network access to PyPI);
# commit requirements.lock after.
lock: setup
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --quiet --upgrade -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
