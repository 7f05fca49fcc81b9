# xieshang — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST_ARGS ?= -n auto

.PHONY: run test lint fuzz install install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml web/package-lock.json | $(BIN)/python
	$(PIP) install -e .
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV)/.installed-test: pyproject.toml tests/interop/package-lock.json web/package-lock.json | $(BIN)/python
	$(PIP) install -e '.[test,dev]'
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make run: set up, migrate ./var/xieshang.db, seed demo data when empty, serve on :8080
run: install
	@mkdir -p var
	$(BIN)/xieshang migrate
	$(BIN)/xieshang serve --demo

## make test: set up and run the whole suite
test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

## make fuzz: schemathesis against a demo-seeded server, every operation as every role (~10 min)
## (FUZZ_EXAMPLES=100 generated cases per operation and role, FUZZ_SEED, FUZZ_COVERAGE=-1: all
## coverage cases, FUZZ_STRICT=1 also requires invalid input to be refused, FUZZ_ROUNDS)
fuzz: install-test
	$(BIN)/python bench/fuzz/run.py

## make lint: ruff, mypy --strict and the import contracts
lint: install-test
	$(BIN)/ruff check server scheduling tests $(wildcard bench)
	$(BIN)/ruff format --check server scheduling tests $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var/xieshang.db* .pytest_cache .mypy_cache .ruff_cache
