# The project's commands. `make test` is the one CI runs (see .ci/run).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SYSTEM_PG ?= host=127.0.0.1 port=5432 user=postgres dbname=postgres

.PHONY: setup test test-system db migrate verify clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# The whole suite against a private embedded PostgreSQL (started and stopped by the tests).
test: setup
	$(PY) -m pytest

# The same suite against another server: a superuser URL; the tests create and
# drop their own roles and databases there and touch nothing else.
test-system: setup
	TEST_DATABASE_URL="$(SYSTEM_PG)" $(PY) -m pytest

# The embedded database, migrated, in the foreground until Ctrl-C.
db: setup
	$(PY) -m portal db start

migrate: setup
	$(PY) -m portal db migrate

verify: setup
	$(PY) -m portal db verify

clean:
	rm -rf $(VENV) instance .pytest_cache
