# make demo / make test: each sets up .venv itself from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/bayesreg demo --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check bayesreg models tests benchmarks
	$(BIN)/ruff format --check bayesreg models tests benchmarks

# Two pytest processes: on a fresh clone (no compilation cache) one process holding every compiled
# program of the suite died in XLA's compiler at 91-93% (a different test each time; each module
# passes alone), so no process is left to accumulate all of them.
test: $(STAMP) lint
	$(BIN)/python -m pytest -q tests/engine $(wildcard tests/test_[a-m]*.py)
	$(BIN)/python -m pytest -q $(wildcard tests/test_[n-z]*.py)

clean:
	rm -rf $(VENV) out
