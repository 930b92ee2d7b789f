# The README's commands. Each one installs what it needs into .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UI := src/loopml/ui
UI_ASSETS := $(UI)/static/vendor/.built

.PHONY: demo test bench lint install browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The UI's browser libraries, from npm at the versions package-lock.json pins.
$(UI_ASSETS): $(UI)/package-lock.json $(UI)/build_assets.py | $(BIN)/python
	$(BIN)/python $(UI)/build_assets.py
	touch $@

# The system Chromium the UI's browser tests drive (Debian's package; as root only).
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

install: $(STAMP) $(UI_ASSETS) browser

demo: install
	$(BIN)/loopml quickstart

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) build *.egg-info $(UI)/static/vendor
