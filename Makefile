# Engagement Toolkit — two commands on a fresh machine:
#   make reproduce   set everything up, then run every notebook headless into reports/
#   make test        set everything up, then run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LOCK    := requirements.lock

# Real datasets are read from a mirror folder when one exists beside the project (never copied in).
ifneq ($(wildcard ../shared/datasets),)
export TOOLKIT_DATA_MIRROR ?= $(abspath ../shared/datasets)
endif
# Many small fits on 2 cores: one BLAS thread per process (see ../shared/PERFORMANCE.md).
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MPLBACKEND ?= Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

BROWSER := $(VENV)/.browser

.PHONY: help env browser test test-fast reproduce reproduce-check lab dashboard bench git-hooks clean

help:
	@echo "make reproduce  - create .venv if missing and run every notebook headless into reports/"
	@echo "make test       - create .venv if missing and run all tests (unit, reference, notebooks)"
	@echo "make test-fast  - the tests without notebooks and slow (> ~10 s) tests, for quick checks while editing"
	@echo "make lab        - open JupyterLab on 127.0.0.1 (token authentication on)"
	@echo "make dashboard  - serve the explorer dashboard (Voila) on http://127.0.0.1:8866 (token authentication on)"
	@echo "make bench      - run the benchmark scripts in benchmarks/"

env: $(STAMP)

$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (toolkit)" > /dev/null
	touch $(STAMP)

# Headless Chromium from Debian's packages for the dashboard's end-to-end test (needs root or sudo).
$(BROWSER): scripts/install_browser.sh | $(STAMP)
	bash scripts/install_browser.sh
	touch $(BROWSER)

browser: $(BROWSER)

test: $(STAMP) $(BROWSER)
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 tests
	$(BIN)/python -m pytest -p no:cacheprovider --doctest-modules toolkit -q

# Everything but the notebooks and the tests marked slow (> ~10 s each: calibration rates, the browser test).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 -m "not notebook and not slow" tests

# Runs every notebook, collects headline numbers into reports/results.json, compares them with
# notebooks/expected_results.json and exits non-zero on drift; writes reports/manifest.json.
reproduce: $(STAMP)
	$(BIN)/python scripts/reproduce.py --output reports

reproduce-check: $(STAMP)
	$(BIN)/python scripts/reproduce.py --output reports --compare-only

# Jupyter refuses to run as root unless told; this machine and CI run as root.
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 --no-browser --notebook-dir notebooks $(LAB_ROOT)

# Voila leaves authentication off unless asked: --token makes it generate a token and print the URL with it.
dashboard: $(STAMP)
	$(BIN)/voila dashboard/explorer.ipynb --no-browser --port=8866 --Voila.ip=127.0.0.1 --token

bench: $(STAMP)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

git-hooks: $(STAMP)
	$(BIN)/nbstripout --install --attributes .gitattributes

clean:
	rm -rf $(VENV) reports/*.html reports/*/ .pytest_cache
