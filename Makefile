# gospulse developer commands. Each target bootstraps .venv on first use, so a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

## test: lint, then every test (unit, property-based, CLI)
test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: the replay benchmark (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m bench.replay

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
