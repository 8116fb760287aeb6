# The two commands a newcomer runs (see README.md):
#   make demo   installs everything into .venv and starts the demo shop
#   make test   installs everything into .venv and runs the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test install clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml sdk/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]' -e ./sdk
	touch $@

# The demo keeps its database and keys in the repository's instance/ folder (elsewhere buybutton
# uses ~/.local/share/buybutton), unless BUYBUTTON_HOME is set.
demo: export BUYBUTTON_HOME ?= $(CURDIR)/instance
demo: install
	$(BIN)/buybutton demo

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
