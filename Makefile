# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?=
# `make run` listens on this machine only; HOST=0.0.0.0 to offer the demo to the network.
HOST ?= 127.0.0.1

.PHONY: run test pytest test-fast lint format bench bench-1m bench-webhooks setup browser screenshots clean lock audit

# Installs exactly the pinned versions of requirements.lock, each checked against its hashes. pip compiles
# what it installs one file at a time; compileall does it on every core (half the install's time).
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --no-compile --require-hashes -r requirements.lock
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib >/dev/null || true  # as pip, a file that fails to compile is not an error
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Pin again after a change to pyproject.toml's dependencies.
lock:
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml

# Known vulnerabilities in the locked versions. A package pip-audit could not look up (no route to the
# vulnerability database) is NOT a clean result: it says so and exits 2.
audit: $(STAMP)
	@log=$$(mktemp); \
	$(BIN)/pip-audit --requirement requirements.lock --require-hashes --disable-pip --progress-spinner off >$$log 2>&1; \
	status=$$?; cat $$log; \
	skipped=$$(grep -c "could not be audited" $$log); rm -f $$log; \
	if [ "$$skipped" -gt 0 ]; then \
	  echo; echo "make audit: the vulnerability database could not be reached for $$skipped packages; they were NOT checked (not a clean result)."; \
	  exit 2; \
	fi; \
	exit $$status

setup: $(STAMP)

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "noto color emoji"; then \
	  echo "Installing Debian chromium (and an emoji font for the check marks) for the browser tests"; \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-noto-color-emoji) >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/python -m services.demo run --host $(HOST)

# Six workers on two cores: much of the suite waits on simulators, servers and browsers (tests/scheduling.py).
# Python's bytecode cache stays on even where the environment turns it off (PYTHONDONTWRITEBYTECODE):
# otherwise every worker and every process a test starts compiles the project, and rewrites the tests' asserts, again.
test: $(STAMP) browser
	@$(MAKE) --no-print-directory -j2 lint pytest  # lint beside the suite's start; either failing fails

pytest: $(STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -q -p no:cacheprovider -n 6

test-fast: $(STAMP)
	$(BIN)/pytest -q -x -m "not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

bench-1m: $(STAMP)
	$(BIN)/python -m bench --orders 1000000

bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks_bench $(BENCH_ARGS)

# Refresh the README's screenshots from a real browser session.
screenshots: $(STAMP) browser
	DOCS_SCREENSHOTS=1 $(BIN)/pytest -q tests/e2e/test_screenshots.py

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
