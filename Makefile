# The project's commands. `make run` serves the portal; `make test` is the one CI runs (see .ci/run).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium
SYSTEM_PG ?= host=127.0.0.1 port=5432 user=postgres dbname=postgres
SIZE ?= 100k

.PHONY: setup browser run demo test test-system db migrate verify bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

# htmx, Chart.js and SortableJS (served), axe-core (the browser tests' accessibility check),
# pinned in package.json / package-lock.json.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's chromium for the browser tests (never `playwright install`).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "the browser tests need $(CHROMIUM): sudo apt-get install chromium" >&2; exit 1; fi; }

# The portal: embedded PostgreSQL, migrations, demo data (first run), gunicorn on 127.0.0.1:5000.
run: setup
	$(PY) -m portal run

demo: setup
	$(PY) -m portal demo

# The whole suite (SQL, HTTP, browser) against a private embedded PostgreSQL.
test: setup browser
	$(PY) -m pytest

# The SQL and HTTP layers of the suite against another server: a superuser URL; the
# tests create and drop their own roles and databases there and touch nothing else. The
# browser tests drive the same pages through the same queries, and what they add (layout,
# scripts, accessibility) does not depend on the server: `make test` runs them.
test-system: setup
	TEST_DATABASE_URL="$(SYSTEM_PG)" $(PY) -m pytest --ignore=tests/browser

# The embedded database alone, migrated, in the foreground until Ctrl-C.
db: setup
	$(PY) -m portal db start

migrate: setup
	$(PY) -m portal db migrate

verify: setup
	$(PY) -m portal db verify

# The benchmark (SIZE=10k|100k|1m): its own database per size on the embedded server,
# generated when missing; results in docs/bench-results/ and docs/performance.md.
bench: setup
	$(PY) -m portal bench run --size $(SIZE)

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache test-artifacts
