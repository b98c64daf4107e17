# Two commands for a newcomer: `make demo` and `make test`. While editing: `make check`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CORE   := $(VENV)/.core-installed
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint types install bench clean

# Keep compiled modules between runs (some shells set PYTHONDONTWRITEBYTECODE): without them every
# test run compiles the whole project and its libraries again, ~5 s of `make check`.
unexport PYTHONDONTWRITEBYTECODE

# What the demo needs, and nothing more: a film within two minutes of `make demo` on a fresh machine.
$(CORE): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	# --no-compile: byte-compiling every installed module is a good part of the install; Python
	# compiles the few the demo imports on first use
	$(PY) -m pip install -q --no-compile -e .
	touch $(CORE)

# Everything the tests exercise: video models, LLM brains, hosted APIs, bots, and the local brain
# (llama-cpp-python builds from source, ~5 min on 2 cores: never on the demo's path).
$(STAMP): $(CORE) pyproject.toml
	$(PY) -m pip install -q -e '.[all,test,local,ray,postgres]'
	touch $(STAMP)

install: $(STAMP)

demo: $(CORE)
	$(VENV)/bin/director make "A 12-second film: a lighthouse keeper at dusk watches a storm roll in over the sea, then lights the lamp. Moody, cinematic, with a narrator." --out demo-film
	@echo "Your film: demo-film/final.mp4  (storyboard, critique, manifest and contact sheet beside it)"

# ruff (lint) and mypy (types on storyboards/, tools/, agent/): config in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check .

types: $(STAMP)
	$(VENV)/bin/mypy

# The edit-test loop: lint, types and the fast tests (not marked slow or browser).
check: lint types
	$(PY) -m pytest -q -m "not slow and not browser" $(PYTEST_ARGS)

# What CI runs: lint, types, then the whole suite.
test: lint types
	$(PY) -m pytest $(PYTEST_ARGS)

# Every bench prints its ratio, its baseline and its goal; a missed goal fails the target, and every
# bench still runs, so the summary shows everything that fell short.
bench: $(STAMP)
	@failed=""; for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || failed="$$failed $$b"; done; \
	if [ -n "$$failed" ]; then echo "goals missed in:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) demo-film
