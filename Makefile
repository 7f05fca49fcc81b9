# xieshang — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
PYTEST_ARGS ?= -n auto

.PHONY: run test lint fuzz install install-test vendor messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Running needs no Node.js: the browser libraries are vendored in web/vendor/ (`make vendor`).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

# The tests use npm: web/node_modules to check the vendored files against the lockfile (and its
# devDependencies hold Biome, the JS linter of `make lint`), and tests/interop/node_modules for
# the calendar interop parsers, and bench/fanout/node_modules for the fan-out benchmark's
# clients (its --smoke runs in the suite: tests/test_bench_smoke.py).
$(VENV)/.installed-test: pyproject.toml tests/interop/package-lock.json web/package-lock.json bench/fanout/package-lock.json | $(BIN)/python
	$(PIP) install -e '.[test,dev]'
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	cd bench/fanout && npm ci --no-audit --no-fund --loglevel=error
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
## coverage cases, FUZZ_STRICT=1 also requires invalid input to be refused, FUZZ_ROUNDS); then
## the room fuzzer, every /room event as every role (FUZZ_ROOM_EXAMPLES, FUZZ_ROOM_SEED; ~5 min)
FUZZ_ROOM_EXAMPLES ?= 3000
fuzz: install-test
	$(BIN)/python bench/fuzz/run.py
	FUZZ_ROOM_EXAMPLES=$(FUZZ_ROOM_EXAMPLES) $(BIN)/pytest -q -n 0 -p no:randomly \
		tests/server/rooms/test_room_fuzz.py

## make vendor: refresh web/vendor/ and its MANIFEST.json from web/package-lock.json (after
## changing web/package.json; commit the result)
vendor:
	cd web && npm ci --no-audit --no-fund --loglevel=error
	$(PYTHON) tools/vendor_web.py

## make messages: extract the server's marked messages (`_("...")`, server/i18n.py) into
## server/locale/messages.pot and merge them into each catalog (then translate the new entries
## in server/locale/*/LC_MESSAGES/messages.po; tests/server/test_i18n.py fails on a missing one);
## scheduling/'s error texts too (their templates, scheduling/problems.py)
# scheduling/ writes its error texts as the first argument of these (scheduling/problems.py).
SCHEDULING_PROBLEMS = Words CalendarDataError ItipError RecurrenceError RuleError TooComplex
messages: install
	$(BIN)/pybabel extract --no-default-keywords -k _ $(SCHEDULING_PROBLEMS:%=-k %) \
		--no-location --omit-header --sort-output -o server/locale/messages.pot server scheduling
	$(BIN)/pybabel update --no-fuzzy-matching -w 100 \
		-i server/locale/messages.pot -d server/locale -l zh_CN

## make lint: ruff, mypy --strict, the import contracts, and Biome's linter over web/js
## (web/biome.json: the recommended rules and undeclared names; its formatter is off)
lint: install-test
	$(BIN)/ruff check server scheduling tests tools $(wildcard bench)
	$(BIN)/ruff format --check server scheduling tests tools $(wildcard bench)
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd web && node_modules/.bin/biome lint --error-on-warnings js

clean:
	rm -rf $(VENV) var/xieshang.db* .pytest_cache .mypy_cache .ruff_cache
