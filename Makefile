# indexlake: `make demo` and `make test` work from a fresh clone (Python 3.11, PyPI only).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# Prefect keeps its state (server database, profiles) inside the checkout.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install demo verify chaos test up bench lint format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install  ## run the main job on the built-in sandbox market
	$(BIN)/indexlake demo

chaos: install  ## the same backfill with every sandbox fault on and with none, compared
	$(BIN)/indexlake chaos $(CHAOS_ARGS)

verify: install  ## recompute the published strategies with bt, vectorbt, ffn and pandas
	$(BIN)/indexlake verify

test: install  ## the whole test suite
	$(BIN)/python -m pytest -q

up: install  ## Prefect server + UI (:4200), deployments, worker, read API (:8000)
	$(BIN)/indexlake up

bench: install  ## stage timings and peak memory on a large sandbox universe
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data .prefect
