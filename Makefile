# onlineteacher — the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
UV_VERSION := 0.13.8
CHROMIUM := /usr/lib/chromium/chromium
PYTEST_ARGS ?=
# Unit and integration tests run on two workers; browser tests run on their own afterwards
# (Playwright's sync API leaves an event loop in its thread that async_to_sync then refuses).
TEST_WORKERS ?= 2

.PHONY: run test lint format install install-dev migrate seed serve worker beat system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The lock files pin every package; `uv pip compile` (see `make lock`) regenerates them.
$(VENV)/.installed-base: requirements/base.txt | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/base.txt
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt | $(BIN)/python
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/dev.txt
	touch $@ $(VENV)/.installed-base

install: $(VENV)/.installed-base
install-dev: $(VENV)/.installed-dev

lock: | $(BIN)/python
	$(BIN)/uv pip compile --quiet pyproject.toml -o requirements/base.txt
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev -o requirements/dev.txt

## run: install, migrate, seed demo data and serve on http://$(HOST):$(PORT)
run: install migrate seed serve

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: install
	$(BIN)/python manage.py seed_demo

serve: install
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off --no-server-header

## worker / beat: Celery, for when REDIS_URL is set (with embedded defaults tasks run in-process)
worker: install
	$(BIN)/celery -A config worker --loglevel INFO --concurrency 2

beat: install
	$(BIN)/celery -A config beat --loglevel INFO --schedule $(VENV)/celerybeat-schedule

## test: install test dependencies (and Chromium and coturn through apt when root), run the whole suite
test: install-dev system-deps
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/pytest -n $(TEST_WORKERS) apps config
	$(BIN)/pytest tests
else
	$(BIN)/pytest $(PYTEST_ARGS)
endif

# Chromium (browser tests) and coturn (the TURN test) come from apt; the tests fail, not skip,
# when they are missing.
system-deps:
	@missing=""; \
	[ -x $(CHROMIUM) ] || missing="$$missing chromium"; \
	command -v turnserver >/dev/null || missing="$$missing coturn"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing$$missing for the tests (apt)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "Missing for the tests:$$missing -- run 'sudo apt-get install -y$$missing' (those tests fail without them)."; \
	  fi; \
	fi

## lint: ruff, formatting, mypy and a migrations check
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
