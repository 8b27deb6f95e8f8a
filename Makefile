# The one task runner. `make run` starts the product; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run prod-local test test-db replay lint fmt clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/marketred dev

# The production shape on this machine: Caddy (TLS) in front of 2 APIs, 2 workers, Temporal
# behind mTLS, PostgreSQL; only the outside systems are sandboxes (deploy/README.md).
prod-local: $(STAMP)
	$(BIN)/marketred prod-local

test: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider

# The replay corpus only (tests/histories/): part of `make test`, here on its own.
replay: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider -q tests/quotes/test_replay.py tests/payouts/test_payout_replay.py

# The database-bound tests only (CI reruns these against the machine's PostgreSQL).
test-db: $(STAMP)
	$(BIN)/pytest -p no:cacheprovider -m db

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python -m deploy.check

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
