# Walk and Talk: `make run` serves the demo, `make test` runs the whole suite.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTHON ?= python3
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/walkandtalk
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
TEST_ENV = DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	SECRET_KEY=test-only-not-secret SECURE_SSL_REDIRECT=0 DJANGO_ALLOW_ASYNC_UNSAFE=true

.PHONY: install run test lint format bench bench-growth clean

$(VENV)/.installed: pyproject.toml build-constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --build-constraint build-constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The demo on embedded defaults: SQLite, Celery's filesystem broker, mail written to var/mail/
# and texts to var/sms/ (DEBUG's SMS_FILE_PATH).
# Set DATABASE_URL and CELERY_BROKER_URL to run the same thing on PostgreSQL and Redis.
# Emails link to the port the demo serves on (PORT=8123 make run): SITE_URL is given to every
# process, since honcho hands the worker and beat ports of their own (PORT+100, PORT+200).
SITE_URL ?= http://127.0.0.1:$(PORT)
RUN_ENV = DEBUG=1 SITE_URL=$(SITE_URL)
run: install
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	$(RUN_ENV) $(VENV)/bin/honcho --procfile Procfile.dev start --port $(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(TEST_ENV) $(PY) bench/run.py

# How the costs grow to a million rows (docs/benchmarks.md, Growth): filling the tables takes
# minutes, so this is not part of `make bench`.
bench-growth: install
	$(TEST_ENV) $(PY) bench/run.py growth

clean:
	rm -rf var .venv
