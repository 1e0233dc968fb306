# The two commands a newcomer needs: `make run` and `make test`. Both build .venv from constraints.txt:
# `make run` installs what the app needs to run and nothing else; `make test` adds the test extras on top.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: run test install install-test chromium lint bench container-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The app and its runtime dependencies (as in the container). The test stamp goes stale with it.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# The soleil command is .venv/bin/soleil (or `soleil` after `. .venv/bin/activate`).
run: install
	$(BIN)/soleil run

# What the tests need from Debian: Chromium for the browser tests (Playwright cannot download browsers here) and
# Caddy, whose own parser validates deploy/multi's Caddyfile.
chromium:
	@if [ ! -x /usr/bin/chromium ] || ! command -v caddy >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-dejavu-core caddy >/dev/null; \
	  else echo "chromium or caddy missing and apt-get unavailable: their tests will be skipped" >&2; fi; \
	fi

# Coverage floors, from the run's own data: the core (soleil_ui/) 90 %, the UI (pages/ and components/) 85 %.
test: install-test chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest
	@printf 'coverage of soleil_ui/: %s %%\n' "$$($(BIN)/coverage report --include='soleil_ui/*' --format=total)"
	@printf 'coverage of pages/ and components/: %s %%\n' "$$($(BIN)/coverage report --include='pages/*,components/*' --format=total)"
	$(BIN)/coverage report --include='soleil_ui/*' --fail-under=90 --format=total >/dev/null
	$(BIN)/coverage report --include='pages/*,components/*' --fail-under=85 --format=total >/dev/null

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install-test chromium
	$(BIN)/python -m bench

# Build the Dockerfile's image and start it until /readyz answers, with podman on a machine with no Docker daemon
# or registry (see the script and README "Running in a container"). Not part of `make test`; needs root.
container-check:
	./.ci/container-check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .coverage* htmlcov
