# The two commands a newcomer needs: `make run` and `make test`. Both build .venv from constraints.txt.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: run test install install-test chromium lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/soleil run

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; \
	  else echo "chromium missing and apt-get unavailable: browser tests will be skipped" >&2; fi; \
	fi

test: install chromium
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

bench: install chromium
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .coverage* htmlcov
