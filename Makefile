# Two commands on a fresh machine with python3 and make:
#   make demo   - create .venv, install, run the built-in default job
#   make test   - install the test dependencies and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip

.PHONY: demo test install install-test bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

install: $(VENV)/bin/activate
	$(PIP) install -q -e ".[all]"

install-test: $(VENV)/bin/activate
	$(PIP) install -q -e ".[test]"

demo: install
	$(VENV)/bin/currentforces demo

test: install-test
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/bench_coefficients.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info demo-output .pytest_cache
