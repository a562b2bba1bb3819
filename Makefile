# The two commands a newcomer needs: `make demo` and `make test`. Both bootstrap .venv from the
# pinned requirements, re-creating it whenever a requirements file or the package metadata changes.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vipctl-stamp
DEPS := requirements.txt requirements-sim.txt requirements-dev.txt python/pyproject.toml

.PHONY: venv test lint typecheck imports deadcode unit sanity demo clean

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

# Import contracts in pyproject.toml ([tool.importlinter]): no cycles, no upward imports.
imports: $(STAMP)
	$(BIN)/lint-imports

# Dead code in the product (tests do not count as users); tools/vulture_whitelist.py says why
# each name it lists stays.
deadcode: $(STAMP)
	$(BIN)/vulture python/src plugins tools bench --min-confidence 60

unit: $(STAMP)
	$(BIN)/pytest -q python/tests tests/unit tests/powershell

# The sanity run is a prerequisite, so pytest need not repeat it (test_ansible_sanity.py).
test: export VIPCTL_SKIP_ANSIBLE_SANITY = 1
test: lint typecheck imports deadcode sanity $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

# ansible-test sanity on a temporary ansible_collections/vipctl/farm copy (no Docker); the exit
# status is ansible-test's own. Extra ansible-test options: make sanity SANITY_ARGS='--test pylint'.
sanity: $(STAMP)
	tests/sanity/run-sanity.sh $(SANITY_ARGS)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
