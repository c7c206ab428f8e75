# `make run` and `make test` are the whole set-up on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what running needs; `make test` (and the other targets) add the
# test tools on top. Each stamp is redone when pyproject.toml changes.
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test run test lint format translations bench bench-forward-auth bench-oidc bench-latency bench-load clean

install: $(STAMP)

install-test: $(TEST_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

# Another port: `make run PORT=8000` (the same as `.venv/bin/idp run --port 8000`).
run: install
	$(BIN)/idp run $(if $(PORT),--port $(PORT))

# One worker per core (xdist), each with its own database; a file's tests stay on one worker.
# Bytecode is written even where the environment says not to: every worker, and every server
# the tests start (gunicorn, the CLI), would otherwise compile all of idp and the tests again.
test: install-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n auto --dist loadfile

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# All print JSON on stdout and need PostgreSQL (BENCH_DATABASE_URL, default 127.0.0.1:5432
# as postgres). `make bench`: worker CPU per request of a sign-in beside a reference Flask app,
# on SQLite and PostgreSQL (two minutes; ARGS=--quick for a smoke run). bench-load takes a few
# minutes; `make bench-load ARGS=--quick` about one. bench-latency: sync against gthread
# workers, page p50/p99 at half capacity with open-loop arrivals (two minutes). bench-oidc:
# worker CPU per answer of each OpenID Connect endpoint beside a static 200 (a minute).
bench: install-test
	@$(BIN)/python -m bench.signin $(ARGS)

bench-forward-auth: install-test
	@$(BIN)/python -m bench.forward_auth $(ARGS)

bench-oidc: install-test
	@$(BIN)/python -m bench.oidc $(ARGS)

bench-latency: install-test
	@$(BIN)/python -m bench.latency $(ARGS)

bench-load: install-test
	@$(BIN)/python -m bench.load $(ARGS)

# After changing user-facing words: extract them, merge them into the German and French
# catalogs (fill in the new msgstr there), and compile the .mo files the app reads. The .mo
# files are committed; tests/unit/test_translations.py fails when one is stale or incomplete.
translations: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext \
		--no-location --sort-output --project Gatehouse \
		--output-file idp/translations/messages.pot idp
	$(BIN)/pybabel update --input-file idp/translations/messages.pot \
		--output-dir idp/translations --no-fuzzy-matching
	$(BIN)/pybabel compile --directory idp/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
