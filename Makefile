# The two commands a fresh machine needs (each does its own set-up):
#   make lab    JupyterLab on the quickstart notebook
#   make test   the whole test suite
# Also: make demo (postmock serve on a sample collection), make bench (benchmarks/, with its peers).

VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: lab demo test bench system-deps clean

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

bench: $(STAMP)
	bash scripts/install-system-deps.sh --bench
	bash benchmarks/setup_peers.sh
	$(PY) benchmarks/run_all.py
	$(PY) benchmarks/servers_bench.py

clean:
	rm -rf $(VENV) node_modules test-artifacts
