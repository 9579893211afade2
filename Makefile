# The two commands a new machine needs: `make run` and `make test`.
# Both create the virtual environment when it is missing and install the project from
# its own files, so nothing has to be installed by hand first (Python 3.11+ only).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Sansam needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make a second `make run` start at once, and reinstall when pyproject changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/sansam init --demo-if-new
	$(BIN)/sansam

# -n auto: one pytest worker per core (pytest-xdist); PYTEST_ARGS="-n 0" runs in one process.
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark, one after the other, figures into bench/out/*.json and docs/PERFORMANCE.md:
# 80 minutes or so on 2 cores. BENCH_ARGS=--quick is a smoke run of a few minutes (its figures go
# to bench/out/ only). The peers are compared when installed: apt-get install hledger ledger.
bench: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
