# alkit — two commands do all the set-up: `make demo` and `make test` (both idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.alkit-installed
TORCH := torch==2.14.1 torchvision==0.29.1
export HF_HUB_OFFLINE ?= 1
export MPLBACKEND ?= Agg

.PHONY: install demo lab gallery test test-fast test-notebooks bench bench-quick lint format clean

install: $(STAMP)

# Reinstalls only when pyproject.toml changes (or the venv is missing).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH)
	$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

demo: install
	$(PY) -m alkit.demo --out outputs/demo

# JupyterLab on the lessons. transport_encryption=auto gives kernels CurveZMQ keys, so ipykernel
# does not warn "Kernel is running over TCP without encryption" on every start. LAB_ARGS passes
# more options, e.g. make lab LAB_ARGS="--no-browser --port 8890".
LAB_ARGS ?=
lab: install
	$(VENV)/bin/jupyter lab notebooks/ --KernelManager.transport_encryption=auto $(LAB_ARGS)

# docs/gallery.md's figures, from the demo's results (runs the demo first when they are missing)
gallery: install
	@test -d outputs/demo/sweep || $(PY) -m alkit.demo --out outputs/demo
	$(PY) docs/gallery.py --demo outputs/demo --out docs/img/gallery

# The whole suite; tests/notebooks executes every notebook (quick=True) with pytest --nbval-lax
# on a copy of notebooks/, so a test run writes nothing into the repository.
test: install
	$(PY) -m pytest -q -p no:cacheprovider tests

test-fast: install
	$(PY) -m pytest -q -x tests -m "not slow"

test-notebooks: install
	OMP_NUM_THREADS=1 $(PY) -m pytest -q --nbval-lax --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

bench: install  # the committed current figures
	$(PY) benchmarks/run.py --out benchmarks/results/latest

bench-quick: install  # git-ignored: never overwrites the committed set
	$(PY) benchmarks/run.py --quick --out benchmarks/results/quick

lint: install
	$(VENV)/bin/ruff check alkit tests benchmarks notebooks/*.py
	$(VENV)/bin/ruff format --check alkit tests benchmarks notebooks/*.py

format: install
	$(VENV)/bin/ruff format alkit tests benchmarks notebooks/*.py
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.py

clean:
	rm -rf outputs results runs figures .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
