# Revgov: `make run` serves the whole product locally; `make test` runs every test. Both set themselves up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-n8n fuzz bench lint typecheck clean

RUN_STAMP := $(VENV)/.installed-run

# `make test` (and lint, fuzz, bench): everything, development tools included.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	@echo "Setting up $(VENV) for development and tests (revgov[dev]: the run extra plus pytest, CDK, linters)…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP) $(RUN_STAMP)

# `make run`: only what running needs (revgov[run]); a development setup already has it.
$(RUN_STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required (set PYTHON=...)"; exit 1; }
	@echo "Setting up $(VENV) with what running Revgov needs (revgov[run]); the first time takes a minute or two…"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check --progress-bar on -e '.[run]'
	@touch $(RUN_STAMP)

run: $(RUN_STAMP)
	@echo "Starting Revgov: the embedded engine (SQLite under .revgov/), event router, demo tenants, then the API…"
	$(BIN)/revgov dev $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# the n8n flows alone, run for real (installs the pinned n8n once per machine: see tests/n8n/n8n_harness.py)
test-n8n: $(STAMP)
	$(BIN)/python -m pytest tests/n8n $(PYTEST_ARGS)

# API fuzzing, longer than `make test`'s bounded run: schemathesis on every operation with fresh randomness
fuzz: $(STAMP)
	REVGOV_FUZZ_EXAMPLES=$(or $(EXAMPLES),150) REVGOV_FUZZ_RANDOM=1 \
		$(BIN)/python -m pytest -n 2 -p no:cacheprovider tests/security/test_fuzz_api.py $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python tests/perf/bench.py $(SECTIONS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .revgov .pytest_cache .mypy_cache .ruff_cache
