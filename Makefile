# Two commands do all set-up: `make demo` (the main job) and `make test`.
# Each (re)creates the virtualenv in .venv from Python 3.10 when pyproject.toml changes.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast rerun lint tutorials tutorials-check bench clean-venv

$(STAMP): pyproject.toml
	@bash .ci/find_python310.sh >/dev/null || { bash .ci/find_python310.sh; exit 1; }
	@test -x $(PY) || $$(bash .ci/find_python310.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lava-init demo

# Two pytest-xdist workers share the 2 cores: subprocess, kernel and Lava tests overlap. The
# demo and the long notebooks run at a short budget here; `make rerun` holds their full budget
# to the published numbers.
test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist worksteal -m "not rerun"

# The fast tier alone (math, single blocks, layout, doctests of the math layer): two workers,
# so that the collection (torch and lava-dl imported) and the tests share the 2 cores.
test-fast: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist worksteal -m "not integration"

# Run every tutorial notebook top to bottom and store its outputs (after a library change).
tutorials: $(STAMP)
	$(PY) tutorials/execute.py

# Rerun every tutorial at its full budget and compare with its stored headlines (the test suite
# runs the long ones in a short mode); stores nothing.
tutorials-check: $(STAMP)
	$(PY) tutorials/execute.py --check

# The full-budget reruns of the published numbers: the demo (README) and every tutorial.
rerun: $(STAMP)
	$(PY) -m pytest -q -m rerun
	$(PY) tutorials/execute.py --check

lint: $(STAMP)
	$(VENV)/bin/ruff check lava_init netx_export tests benchmarks tutorials

clean-venv:
	rm -rf $(VENV)
