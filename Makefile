# The two commands: `make run` (the site, on SQLite, with its outbox worker
# and a development mail catcher) and `make test` (the whole test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test lint serve bench clean messages catalogs

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# Each language's compiled catalog, made again whenever its messages.po is
# newer (the .mo files are not committed): `make run` and `make test` build
# them first, so a fresh clone shows its pages in every language.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile --locale $* --input-file $< --output-file $@

catalogs: $(CATALOGS)

run: $(VENV)/.installed $(CATALOGS)
	FLASK_DEBUG=1 $(BIN)/flask db upgrade
	FLASK_DEBUG=1 $(BIN)/flask demo seed
	FLASK_DEBUG=1 $(BIN)/flask dev serve

# The suite runs in one process more than there are cores (pytest-xdist;
# much of a test's time is spent waiting on Chromium, PostgreSQL or a server
# it started), each test file whole in one process; PYTEST_WORKERS=0 runs it
# in this one.
PYTEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)) + 1)')

test: $(VENV)/.installed-dev $(CATALOGS)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The architecture's layers (pyproject.toml, import-linter) and ruff.
lint: $(VENV)/.installed-dev
	$(BIN)/lint-imports
	$(BIN)/ruff check .

# Extract every string a person reads (babel.cfg) into translations/messages.pot,
# merge it into each language's catalog and compile them.
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "campaign site" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache

# Production style on this machine: gunicorn and one outbox worker, against
# whatever FLASK_SQLALCHEMY_DATABASE_URI names (FLASK_SECRET_KEY required).
serve: $(VENV)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask outbox work & worker=$$!; \
	trap 'kill $$worker' EXIT INT TERM; \
	$(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

# The launch-day load benchmark (wrk from Debian; PostgreSQL from
# BENCH_DATABASE_URL, default the local server), then how long confirmation
# emails take to arrive while signing goes on at half the peak, then where a
# sign POST's, a campaign page's and count.json's time goes, and the page
# and the sign POST through nginx (deploy/nginx) against gunicorn directly.
# Results: docs/BENCHMARKS.md.
bench: $(VENV)/.installed-dev
	@command -v wrk >/dev/null || (apt-get install -y -qq wrk >/dev/null || sudo apt-get install -y -qq wrk)
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || (apt-get install -y -qq nginx >/dev/null || sudo apt-get install -y -qq nginx)
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.mail_latency
	$(BIN)/python -m bench.profile_sign --top 0
	$(BIN)/python -m bench.profile_sign --route page --top 0
	$(BIN)/python -m bench.profile_sign --route count --top 0
	$(BIN)/python -m bench.nginx
