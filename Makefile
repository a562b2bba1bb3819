# The two commands a newcomer needs: `make demo` and `make test`. Both bootstrap .venv from the
# pinned requirements, re-creating it whenever a requirements file or the package metadata changes.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vipctl-stamp
DEPS := requirements.txt requirements-dev.txt python/pyproject.toml

.PHONY: venv test lint typecheck unit demo clean

venv: $(STAMP)

$(STAMP): $(DEPS)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e python/
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check python plugins tests tools bench
	$(BIN)/ruff format --check python plugins tests tools bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q python/tests tests/unit tests/powershell

test: lint typecheck $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

demo: $(STAMP)
	$(BIN)/python tools/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
