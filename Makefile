# Two commands a newcomer needs: `make packets` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INPUTS ?= inputs
OUTPUT ?= output
SCHOOL ?=
# Extra options for `packets build`, e.g. ARGS="--as-of 2026-11-23".
ARGS ?=

SCHOOL_OPTS := $(foreach s,$(SCHOOL),--school $(s))

.PHONY: packets pdf validate test test-fast lint bench docs install clean

# The stamp file is rebuilt whenever pyproject.toml changes, so dependency edits reinstall.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

packets: install
	$(BIN)/packets build --inputs $(INPUTS) --output $(OUTPUT) $(SCHOOL_OPTS) $(ARGS)

# The packets plus each school's combined PDF (needs LibreOffice; see README "PDFs").
pdf: install
	$(BIN)/packets build --inputs $(INPUTS) --output $(OUTPUT) $(SCHOOL_OPTS) --pdf $(ARGS)

validate: install
	$(BIN)/packets validate --inputs $(INPUTS) $(ARGS)

test: install
	$(BIN)/python -m pytest -q

# The edit-test loop, under a minute: everything but the tests marked slow, office (LibreOffice) or
# browser (Chromium). `make test` (and CI) still run those.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not office and not browser"

# Style (ruff), types (mypy) and the import contract (import-linter: data flows one way), all configured
# in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Build synthetic districts whose plans all differ (100, 1000 and 5000 schools), then the other tables of
# docs/performance.md: about 11 minutes on 2 cores (--pdf: 8 and 24 schools). BENCH_ARGS="--sizes 100 --repeated --pdf 0" for a short
# run; BENCH_ARGS="--sizes 100 1000 5000 10000 --people 5000 50000 --activities 50 500" for the larger ones.
BENCH_ARGS ?=
bench: install
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

# Regenerate docs/readiness.md and docs/inputs.md from the code.
docs: install
	$(BIN)/python -m generator.setup.docs

clean:
	rm -rf $(OUTPUT)/* $(VENV)
