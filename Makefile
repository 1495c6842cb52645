# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
IDP := tests/idp
IDP_STAMP := $(IDP)/node_modules/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# The test targets run on 2 workers (pytest-xdist; CI's machine has 2 cores), each with a test
# database of its own (test_portal_gw0, test_portal_gw1). `--dist load` hands each worker its
# tests in collection order, so transactional and browser tests still come after the others on
# each worker (tests/conftest.py); loadfile and loadscope would not keep that. Serially:
# `make test PYTEST_ARGS="-n 0"` (a later -n wins). Plain `pytest` runs serially.
XDIST ?= -n 2 --dist load

.PHONY: install run test test-postgres test-browser lint format bench clean

# Reinstall whenever pyproject.toml changes. uv is used when it installs; pip otherwise.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv >/dev/null 2>&1 || true
	if $(VENV)/bin/uv --version >/dev/null 2>&1; then \
		$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'; \
	else \
		$(PY) -m pip install -q -e '.[dev]'; \
	fi
	touch $(STAMP)

# The OpenID provider the sign-in tests run against (tests/idp, Node), reinstalled whenever its
# lockfile changes. Without npm those tests skip (CI requires them: PORTAL_REQUIRE=idp).
$(IDP_STAMP): $(IDP)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(IDP) --no-audit --no-fund && touch $(IDP_STAMP); \
	else \
		echo "npm not found: $(IDP) not installed, the OpenID Connect tests will skip"; \
	fi

install: $(STAMP) $(IDP_STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The suite on PostgreSQL with Redis as broker (services must be running; see README).
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0} \
	PORTAL_REQUIRE=$${PORTAL_REQUIRE:-postgres,redis} \
	$(PY) -m pytest -m "not browser" $(XDIST) $(PYTEST_ARGS)

test-browser: install
	PORTAL_REQUIRE=$${PORTAL_REQUIRE:-browser} $(PY) -m pytest -m browser $(XDIST) $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmark (bench/run.py; PostgreSQL on 127.0.0.1:5432), or some: `make bench BENCH=scale`.
bench: install
	$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev,bench]' 2>/dev/null || $(PY) -m pip install -q -e '.[dev,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache db.sqlite3 db.sqlite3-wal db.sqlite3-shm $(IDP)/node_modules
