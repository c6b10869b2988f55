# Two commands do all set-up: `make demo` (the main job) and `make test`.
# Each (re)creates the virtualenv in .venv from Python 3.10 when pyproject.toml changes.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean-venv

$(STAMP): pyproject.toml
	@bash .ci/find_python310.sh >/dev/null || { bash .ci/find_python310.sh; exit 1; }
	@test -x $(PY) || $$(bash .ci/find_python310.sh) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lava-init demo

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check lava_init netx_export tests benchmarks

clean-venv:
	rm -rf $(VENV)
