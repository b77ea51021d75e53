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

test: $(STAMP) lint
	$(BIN)/python -m pytest -q tests --durations=25

clean:
	rm -rf $(VENV) out
