# accel_edu: build the book and run the tests. Each target sets itself up first.
#
#   make book    build the HTML book into _build/html/ (warnings are errors)
#   make test    run the whole suite: tests/ and every chapter notebook (pytest --nbval)
#   make clean   remove build outputs and caches; `make distclean` removes .venv as well
#
# By default everything runs in a local virtual environment, .venv/, created on first use and
# reinstalled when pyproject.toml changes. To use the environment you are in instead (one
# where `pip install -e ".[dev]"` has been run):
#
#   make test VENV= PYTHON=python3
#
# Options: PYTEST_ARGS="-k gemm -x" passes arguments to pytest; PYTEST_WORKERS=0 runs the
# tests in one process (default: one worker per core through pytest-xdist, when installed).

PYTHON ?= python3
VENV ?= .venv
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=

ifeq ($(strip $(VENV)),)
PY := $(PYTHON)
JUPYTER_BOOK := jupyter-book
ENV_READY :=
else
PY := $(VENV)/bin/python
JUPYTER_BOOK := $(VENV)/bin/jupyter-book
ENV_READY := $(VENV)/.installed
endif

# The chapters nbval re-executes; tests/ may hold notebooks that are test data, not chapters.
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --ignore-glob='tests/*.ipynb'

# pytest-xdist runs the tests on every core; --dist loadscope keeps each notebook's cells
# (and each test module) on one worker, in order. Looked up when `make test` runs, after set-up.
XDIST = $(shell [ "$(PYTEST_WORKERS)" != 0 ] && $(PY) -c "import xdist" 2>/dev/null && \
          echo "-n $(PYTEST_WORKERS) --dist loadscope")

.PHONY: help book test notebooks clean distclean
.DEFAULT_GOAL := help

help:
	@echo "make book       build the book into _build/html/ (open _build/html/index.html)"
	@echo "make test       run the whole test suite, notebooks included"
	@echo "make notebooks  regenerate book/*.ipynb from book/_src/ and execute them (then commit)"
	@echo "make clean      remove build outputs and caches (distclean: and .venv)"
	@echo "Use your own environment: make test VENV= PYTHON=python3"

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || \
	  { echo "could not create $(VENV): on Debian, apt-get install python3-venv" >&2; exit 1; }
	$(VENV)/bin/python -m pip install --disable-pip-version-check --no-input \
	  --progress-bar off -e ".[dev]"
	touch $@

# --all rebuilds every page, so a warning is never hidden by an up-to-date cached page.
book: $(ENV_READY)
	$(JUPYTER_BOOK) build . --all -W -n --keep-going
	@echo "The book is in _build/html/index.html"

# One pytest run for everything, so that one summary line counts every test. pytest exits
# with 5 when it collected no test: a failure for the whole suite (it would mean a broken
# suite), but not for a run whose PYTEST_ARGS simply matched nothing.
test: $(ENV_READY)
	$(PY) -m pytest tests $(NOTEBOOKS) $(NBVAL_FLAGS) $(XDIST) $(PYTEST_ARGS) || { status=$$?; \
	  if [ $$status -eq 5 ] && [ -n "$(strip $(PYTEST_ARGS))" ]; then \
	    echo "make test: no test matched PYTEST_ARGS=$(PYTEST_ARGS)"; else exit $$status; fi; }

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# The chapter notebooks are written by book/_src/build_*.py (prose and code reviewed as one
# Python file) and executed in place, so their outputs can be committed and checked by nbval.
notebooks: $(ENV_READY)
	for script in book/_src/build_*.py; do $(PY) $$script || exit 1; done
	$(PY) book/_src/execute.py book/[0-9]*.ipynb
