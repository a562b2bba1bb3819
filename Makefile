# The two commands a newcomer needs: `make demo` and `make test`. Both bootstrap .venv from the
# pinned requirements, re-creating it whenever a requirements file or the package metadata changes.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.vipctl-stamp
DEPS := requirements.txt requirements-sim.txt requirements-dev.txt requirements-kerberos.txt python/pyproject.toml
# The Kerberos tests (tests/kerberos) run a real MIT realm: the KDC binaries, kinit, and the headers
# the Python GSSAPI bindings build against. Installed when make runs as root with apt-get.
KRB5_DEBS := krb5-kdc krb5-admin-server krb5-user libkrb5-dev

.PHONY: venv test lint typecheck imports deadcode unit sanity demo clean krb5-system

venv: $(STAMP)

krb5-system:
	@if [ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kdb5_util ] && command -v kinit >/dev/null \
	    && command -v krb5-config >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing $(KRB5_DEBS) for the Kerberos tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(KRB5_DEBS)) >/dev/null \
	    || echo "apt-get could not install $(KRB5_DEBS); the Kerberos tests will skip"; \
	else \
	  echo "not root with apt-get: $(KRB5_DEBS) not installed; the Kerberos tests will skip"; \
	fi

$(STAMP): $(DEPS) | krb5-system
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-kerberos.txt \
	  || echo "requirements-kerberos.txt could not be installed (no libkrb5-dev?); the Kerberos tests will skip"
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
test: krb5-system lint typecheck imports deadcode sanity $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadgroup

# ansible-test sanity on a temporary ansible_collections/vipctl/farm copy (no Docker); the exit
# status is ansible-test's own. Extra ansible-test options: make sanity SANITY_ARGS='--test pylint'.
sanity: $(STAMP)
	tests/sanity/run-sanity.sh $(SANITY_ARGS)

demo: $(STAMP)
	$(BIN)/python tools/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
