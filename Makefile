# The two commands a fresh machine needs (each does its own set-up):
#   make lab    JupyterLab, opened on the quickstart notebook (installs the `lab` extra only)
#   make test   the whole test suite (installs the `test` extra, Chromium and newman where it can)
# Also: make demo [PORT=8000] (postmock serve on a sample collection), make bench (benchmarks/, with its peers).
# Root or not: system packages go through apt-get (sudo -n when not root); where that is not
# possible the tests that need them are skipped with the reason, and the rest still run.

VENV    ?= .venv
PYTHON  ?= python3
PY       = $(VENV)/bin/python
PORT    ?= 8000
# pytest-xdist workers for `make test` (three on two cores: most tests wait on sockets and processes, and the
# suite took 255 s with three against 292 s with two); WORKERS=0 runs in one process
WORKERS ?= 3
PYTEST_ARGS ?=

# one stamp per set of extras, so `make lab` never installs the test tools
BASE_STAMP = $(VENV)/.installed-base
LAB_STAMP  = $(VENV)/.installed-lab
TEST_STAMP = $(VENV)/.installed-test

.PHONY: lab demo test lint bench system-deps clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# each extra installs the package too, so `make demo` after `make lab` or `make test` installs nothing again
$(BASE_STAMP): pyproject.toml | $(PY)
	@if [ $(LAB_STAMP) -nt pyproject.toml ] || [ $(TEST_STAMP) -nt pyproject.toml ]; then \
	  echo "the package is installed already (with an extra)"; else $(PY) -m pip install -q -e .; fi
	touch $@

$(LAB_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[lab]"
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[test]"
	touch $@

system-deps:
	bash scripts/install-system-deps.sh

# Jupyter refuses to start as root without --allow-root (containers, CI-like machines).
LAB_FLAGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)
# The URL JupyterLab prints opens the quickstart itself, not the Launcher (the same path as the Binder link).
LAB_URL   ?= /lab/tree/notebooks/01-quickstart.ipynb

lab: $(LAB_STAMP)
	$(VENV)/bin/jupyter lab $(LAB_FLAGS) --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=$(LAB_URL)

demo: $(BASE_STAMP)
	$(VENV)/bin/postmock serve notebooks/data/users.postman_collection.json --port $(PORT)

test: $(TEST_STAMP) system-deps
	$(PY) -m pytest $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadgroup) $(PYTEST_ARGS)

# ruff (lint) and mypy --strict, configured in pyproject.toml; CI runs this before the tests.
# (`ruff format` is not enforced: it would rewrite most files of this hand-aligned code.)
# benchmarks/ are scripts that import each other (and tests/support/: fuzzkit, bombkit): a mypy run of their own.
# The shape of the package (docs/architecture.md), each check printing its figures:
#   lint-imports            the layer contract ([tool.importlinter] in pyproject.toml)
#   scripts/import_graph.py no import cycle between any two modules (function-local and TYPE_CHECKING imports too)
#   scripts/imports_alone.py every module imports alone, in a fresh interpreter
#   scripts/top_level.py    at most 12 modules at the package's top level
#   scripts/local_imports.py every import inside a function says why it waits (# deferred: <reason>)
#   scripts/complexity.py   no function above cyclomatic complexity 20 (radon)
lint: $(TEST_STAMP)
	$(PY) -m ruff check postmock_nb tests benchmarks scripts
	$(PY) -m mypy --strict postmock_nb
	$(VENV)/bin/lint-imports
	$(PY) scripts/import_graph.py
	$(PY) scripts/top_level.py
	$(PY) scripts/local_imports.py
	$(PY) scripts/complexity.py
	$(PY) scripts/imports_alone.py
	MYPYPATH=tests $(PY) -m mypy --strict benchmarks
	$(PY) -m mypy --strict scripts

bench: $(BASE_STAMP)
	bash scripts/install-system-deps.sh --bench
	bash benchmarks/setup_peers.sh
	$(PY) benchmarks/run_all.py
	$(PY) benchmarks/servers_bench.py
	$(PY) benchmarks/state_ab.py

clean:
	rm -rf $(VENV) node_modules test-artifacts
