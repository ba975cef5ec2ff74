# The two commands a fresh machine needs (each does its own set-up):
#   make lab    JupyterLab on the quickstart notebook
#   make test   the whole test suite
# Also: make demo (postmock serve on a sample collection), make bench (benchmarks/).

VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: lab demo test lint bench system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

# Jupyter refuses to start as root without --allow-root (containers, CI-like machines).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) notebooks/01-quickstart.ipynb

demo: $(STAMP)
	$(VENV)/bin/postmock serve notebooks/data/users.postman_collection.json --port 8000

test: $(STAMP) system-deps
	$(PY) -m pytest

# ruff (lint) and mypy --strict, configured in pyproject.toml; CI runs this before the tests.
# (`ruff format` is not enforced: it would rewrite most files of this hand-aligned code.)
lint: $(STAMP)
	$(PY) -m ruff check postmock_nb tests
	$(PY) -m mypy --strict postmock_nb

bench: $(STAMP)
	bash scripts/install-system-deps.sh --bench
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) node_modules test-artifacts
