# Two commands for a new machine: `make run` and `make test` (README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv install migrate seed serve worker lint format diagram messages bench soak mutate clean check-deploy

$(PY):
	@PYTHON_BIN=$$(scripts/find-python) || exit 1; \
	  echo "Creating $(VENV) with $$PYTHON_BIN"; $$PYTHON_BIN -m venv $(VENV)
	@$(PIP) install --quiet --disable-pip-version-check --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true

# What the service needs to run.
$(VENV)/.runtime: requirements.txt | $(PY)
	@echo "Installing the service's dependencies into $(VENV)"
	@set -o pipefail; $(PIP) install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

# What the tests need on top.
$(VENV)/.installed: requirements.txt requirements-dev.txt $(VENV)/.runtime
	@echo "Installing the test dependencies into $(VENV)"
	@set -o pipefail; $(PIP) install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

venv install: $(VENV)/.installed

migrate: $(VENV)/.runtime
	$(PY) manage.py migrate --no-input

seed: migrate
	$(PY) manage.py seed_demo

## Start the service on SQLite with demo data, its background worker, and print the logins.
run: seed
	$(PY) manage.py collectstatic --no-input -v 0
	@$(PY) manage.py demo_logins
	@echo "Open http://$(HOST):$(PORT)/"
	@set -m; $(PY) manage.py db_worker --interval 2 & WORKER=$$!; \
	  trap 'kill $$WORKER 2>/dev/null' EXIT INT TERM; \
	  DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

## Install everything and run the whole suite (SQLite unless DATABASE_URL says otherwise).
test: install
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || (echo "Models changed without a migration: run manage.py makemigrations" && exit 1)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)

worker: install
	$(PY) manage.py db_worker

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## Regenerate docs/workflow.svg from the django-fsm definition.
diagram: install
	$(PY) manage.py workflow_diagram docs/workflow.svg

messages: install
	$(PY) manage.py makemessages -l sr_Latn -l sq --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=media --ignore=artifacts --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

check-deploy: install
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n') ALLOWED_HOSTS=grants.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

## Generate 100,000 applications on PostgreSQL and measure (README "Performance"). Uses
## DATABASE_URL, default postgres://postgres@127.0.0.1:5432/grants_bench, which it drops and
## recreates (its name must contain "bench"). BENCH_ARGS="--scale 0.1 --runs 50 --workers 4 --reuse"
bench: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/grants_bench} $(PY) -u -m bench.run $(BENCH_ARGS)

## The deployment of docs/deploy.md on this machine (haproxy, 3 gunicorn, pgbouncer, PostgreSQL,
## moto S3, 2 task workers) under a locust workload, with and without faults, then reconciled
## (README "Performance", bench/soak). Needs `haproxy` and `pgbouncer` (apt) and PostgreSQL at
## 127.0.0.1:5432. SOAK_MINUTES=10 SOAK_SCALE=0.01 SOAK_USERS=24 SOAK_BASELINE=1
## SOAK_PG_RESTART=1 (0 on a machine whose PostgreSQL others use) SOAK_S3_OUTAGE=30.
## Drops and recreates the database SOAK_DATABASE (default grants_soak).
soak: install
	@for bin in haproxy pgbouncer; do command -v $$bin >/dev/null || test -x /usr/sbin/$$bin || \
	  { echo "make soak needs $$bin: apt-get install haproxy pgbouncer"; exit 1; }; done
	$(PY) -u -m bench.soak

## Mutation testing of the rule modules (README "Mutation testing"); not part of `make test`.
## Works in a copy under mutants/; MUTATE_ARGS="grants/ledger.py" for one module,
## "--retry-survivors" after adding tests. Writes bench/results/mutation-<timestamp>.json.
mutate: install
	nice -n 19 $(PY) -u -m bench.mutate $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles artifacts mutants
