# Two commands do all set-up on a fresh machine: `make run` and `make test`. Python 3.11 is required.
PYTHON ?= python3.11
# Where `make run` serves (host:port); seed_demo's printed examples follow it.
RUN_ADDRESS ?= 127.0.0.1:8000
export RUN_ADDRESS
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo-reset test schema seed-scale bench-access bench-audit bench-sweep bench-request lint migrations-check clean bench-webhooks bench-partner fuzz bench-disaster bench-statistics bench-writes bench-load messages

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required: make PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# The service with demo data on the embedded default: SQLite and a filesystem
# Celery broker under var/ (no servers). API on http://$(RUN_ADDRESS)/.
run: $(STAMP)
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) manage.py seed_demo
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) -m backend.devserver

# The demo from scratch: removes the embedded database and broker under var/, then migrates and
# seeds again (`make run` afterwards). Refuses when DATABASE_URL points elsewhere.
demo-reset: $(STAMP)
	@if [ -n "$${DATABASE_URL:-}" ]; then echo "demo-reset only removes the embedded SQLite database; DATABASE_URL is set" >&2; exit 1; fi
	rm -rf var/db.sqlite3 var/db.sqlite3-wal var/db.sqlite3-shm var/celery-broker var/celery-processed var/celery-control var/celerybeat-schedule*
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) manage.py seed_demo

# schemathesis with every check, three personas, more examples than the suite's run and the coverage
# phase (negative values, unexpected methods) on every operation; docs/fuzzing.md says what it finds.
FUZZ_EXAMPLES ?= 50
fuzz: $(STAMP)
	FUZZ_COVERAGE=1 FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) DJANGO_SETTINGS_MODULE=backend.settings.test \
		$(PY) -m pytest tests/api/test_fuzz.py -p no:cacheprovider $(PYTEST_ARGS)

# The whole suite. With DATABASE_URL and REDIS_URL set (as .ci/run does) it
# runs on PostgreSQL and Redis.
test: $(STAMP)
	DJANGO_SETTINGS_MODULE=backend.settings.test $(PY) -m pytest $(PYTEST_ARGS)

schema: $(STAMP)
	DJANGO_SETTINGS_MODULE=backend.settings.dev $(PY) manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

seed-scale: $(STAMP)
	$(PY) manage.py seed_scale --residents $${RESIDENTS:-100000} --seed $${SEED:-1}

# The first page of the caseload and of a case's notes for a sparse and two dense readers: ours
# against guardian's get_objects_for_user and against fetching the same rows by primary key;
# then the audit path's cost on the same city (it adds access-log rows and visits: a scratch
# database). Run on a seed-scale database (DATABASE_URL, PostgreSQL). See docs/benchmarks.md.
bench-access: $(STAMP)
	$(PY) -m benchmarks.access
	$(PY) -m benchmarks.audit_overhead --seeded

# What the audit path costs the caseload list and a visit upload (a scratch PostgreSQL database).
bench-audit: $(STAMP)
	$(PY) -m benchmarks.audit_overhead

# The escalation sweep with ONE real worker process on PostgreSQL (DATABASE_URL, migrated):
# ITEMS due items, throughput and duplicates (must be 0). See docs/benchmarks.md.
bench-sweep: $(STAMP)
	$(PY) -m benchmarks.sweep --items $${ITEMS:-100000}

# The whole request (middleware, token, membership, scoped page, JSON, access log) against its SQL floor
# (the same rows by a hand-written SELECT, written with orjson), interleaved medians, on a seed-scale
# database (DATABASE_URL, PostgreSQL). Its writes are rolled back. See docs/benchmarks.md.
bench-request: $(STAMP)
	$(PY) -m benchmarks.request

# Webhooks: EVENTS events to 20 endpoints (3 answering 500) with ONE real worker process on PostgreSQL
# (DATABASE_URL, migrated): time to the healthy 17, duplicates per event id per endpoint (must be 0).
bench-webhooks: $(STAMP)
	$(PY) -m benchmarks.webhooks --events $${EVENTS:-10000}
# Partner reports on PostgreSQL (DATABASE_URL, migrated): identical answers and their timing for matched,
# unmatched and multi-matched addresses, and a burst routed by ONE real worker. See docs/benchmarks.md.
bench-partner: $(STAMP)
	$(PY) -m benchmarks.partner_reports --reports $${REPORTS:-1000}
# A disaster over the largest ward of a seeded city: list, declaration to the last safety-check task with
# ONE real worker, a retry creating nothing twice, the progress view, a district's PDF, closing. It writes:
# run it on a scratch copy (createdb -T city …, then migrate) named by DATABASE_URL. See docs/benchmarks.md.
bench-disaster: $(STAMP)
	$(PY) -m benchmarks.disaster
# A fiscal year's full statistics release (12 months and the year) for every ward, then the attack on it.
# It writes (releases are frozen): run it on a scratch copy of the city. See docs/benchmarks.md.
bench-statistics: $(STAMP)
	$(PY) -m benchmarks.statistics --year $${YEAR:-FY2025} --attack

# A visit upload (typical history and 10x the visits) against its insert-only floor and the old whole-resident
# path, and a consent withdrawal for the heaviest resident, new and old, interleaved medians, on a seed-scale
# database (DATABASE_URL, PostgreSQL). Its writes are rolled back. See docs/benchmarks.md.
bench-writes: $(STAMP)
	$(PY) -m benchmarks.writes

# Throughput as deployed: gunicorn (production settings, 4 sync workers), a real Celery worker and beat, and
# locust with the city's own readers at 1, 8 and 32 users, then 8 users while a backlog sweep runs. It writes
# visits: it copies the city (DATABASE_URL's database, default city) and drops the copy. CODE= adds another
# checkout to measure side by side. Under the shared lock: flock /tmp/heavy.lock make bench-load.
bench-load: $(STAMP)
	$(PY) -m benchmarks.load --run-time $${RUN_TIME:-60} $(if $(CODE),--code . --code $(CODE)) $(BENCH_LOAD_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# Fails when a model change has no migration (CI runs it).
migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=backend.settings.test $(PY) manage.py makemigrations --check --dry-run

# Compiles locale/ja/LC_MESSAGES/django.po into the committed django.mo with polib (no GNU gettext needed);
# tests/test_translations.py fails when a message has no Japanese or the .mo is stale (ADR 0021).
messages: $(STAMP)
	$(PY) -c "import polib; polib.pofile('locale/ja/LC_MESSAGES/django.po').save_as_mofile('locale/ja/LC_MESSAGES/django.mo')"

clean:
	rm -rf $(VENV) var
