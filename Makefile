# Set-up and everyday commands. Everything installs into .venv from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
CHROMIUM_PACKAGES := chromium chromium-driver

.PHONY: demo test clean chromium

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CareBridge needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The clinic sandbox: a local web page with a patient's phone and the clinic's Slack (`carebridge demo` is the
# scripted console replay).
demo: $(VENV)/.installed
	$(BIN)/carebridge sandbox

# The browser tests drive Debian's headless Chromium; install it when missing and we may (root), else say how.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "== installing $(CHROMIUM_PACKAGES) for the browser tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y --no-install-recommends $(CHROMIUM_PACKAGES) >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $(CHROMIUM_PACKAGES); }; \
	else \
		echo "note: $(CHROMIUM) is missing and this is not root: the browser tests will be skipped." \
		     "Install the Debian packages: sudo apt-get install $(CHROMIUM_PACKAGES)"; \
	fi

test: $(VENV)/.installed-dev chromium
	$(BIN)/ruff check bot tests
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
