# The two commands a newcomer runs (see README.md):
#   make demo   installs everything into .venv and starts the demo shop
#               (make demo PORT=9000 HOST=0.0.0.0 to serve elsewhere)
#   make test   installs everything into .venv and runs the whole test suite
#   make lint   installs everything into .venv and runs ruff (lint and format check)
#   make typecheck  installs everything into .venv and runs mypy --strict (see pyproject.toml)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck install clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]' -e ./sdk
	touch $@

# npm tools the tests use (package.json, pinned by package-lock.json): Redocly's OpenAPI linter.
# Without npm the lint test skips (and fails where BUYBUTTON_REQUIRE_SERVICES=1).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: skipping package.json (the OpenAPI lint test will skip)"; fi

# The demo keeps its database and keys in the repository's instance/ folder (elsewhere buybutton
# uses ~/.local/share/buybutton), unless BUYBUTTON_HOME is set.
demo: export BUYBUTTON_HOME ?= $(CURDIR)/instance
demo: install
	$(BIN)/buybutton demo --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

# ruff (configured in pyproject.toml): lint, and check the tree is formatted (`ruff format` fixes it).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy, strict, on the core, the server and the SDK (configured in pyproject.toml).
typecheck: install
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info node_modules
