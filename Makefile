PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint format bench schema docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=python3 setup'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: setup
	$(BIN)/emosim demo

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check emosim tests benchmarks
	$(BIN)/ruff format --check emosim tests benchmarks

format: setup
	$(BIN)/ruff format emosim tests benchmarks
	$(BIN)/ruff check --fix emosim tests benchmarks

bench: setup
	$(BIN)/python -m benchmarks

schema: setup
	$(BIN)/emosim schema

docs: setup
	$(BIN)/emosim docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
