# Two commands on a fresh machine with python3 and make:
#   make demo   - create .venv, install, run the built-in default job
#   make test   - install the test dependencies and run the test suite
#   make lint   - ruff (lint and format) and mypy (types)
#   make docs   - build the documentation site (warnings are errors)
#                 into docs/_build/html
#   make test-kwant - build the separate Kwant environment (numpy<2) and run
#                     the Kwant adapter tests there (DEVELOPERS.md)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
KWANT_VENV ?= .venv-kwant
KPY    := $(KWANT_VENV)/bin/python

.PHONY: demo test test-kwant install install-test install-docs docs lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# [all] includes the xtb extra (tblite wheels), so the xTB tests run and never skip in CI
install: $(VENV)/bin/activate
	$(PIP) install -q -e ".[all]"

install-test: $(VENV)/bin/activate
	$(PIP) install -q -e ".[test]"

demo: install
	$(VENV)/bin/currentforces demo

test: install-test
	$(PY) -m pytest -q

install-docs: $(VENV)/bin/activate
	$(PIP) install -q -e ".[all,docs]"

# The Sphinx site: API reference, theory, units and tutorials; -W makes every
# warning (a broken docstring, a dangling reference) an error.
docs: install-docs
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

# ruff (lint, format) and mypy (types) as configured in pyproject.toml
lint: install-test
	$(PIP) install -q -e ".[lint]"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Kwant 1.5 needs numpy<2 and cython<3 and builds without build isolation.
$(KWANT_VENV)/bin/activate:
	$(PYTHON) -m venv $(KWANT_VENV)
	$(KPY) -m pip install -q --upgrade pip
	$(KPY) -m pip install -q "numpy<2" "cython<3" setuptools wheel
	$(KPY) -m pip install -q --no-build-isolation kwant
	$(KPY) -m pip install -q -e . pytest ase

test-kwant: $(KWANT_VENV)/bin/activate
	$(KPY) -m pytest -q tests/kwant_env

# Benchmarks print tables; they are not tests (timings depend on the machine).
bench: install
	$(PY) benchmarks/bench_coefficients.py
	$(PY) benchmarks/bench_jellium.py
	$(PY) benchmarks/bench_rgf.py --sizes 1000 10000
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_low_bias.py
	$(PY) benchmarks/bench_transmission.py

clean:
	rm -rf $(VENV) $(KWANT_VENV) build dist src/*.egg-info demo-output .pytest_cache docs/_build
