# `make run`: set up and open the app on the demo space.  `make test`: set up and run the tests.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SPACES  ?= spaces
PORT    ?= 8501

.PHONY: setup demo run test test-fast check bench

$(STAMP): requirements.txt requirements-dev.txt requirements-scale.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first: otherwise a CUDA build of several GB is pulled in.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -r requirements-dev.txt
	# Compile UMAP's numba code once into the on-disk cache: first maps start fast.
	$(PY) -m explorer warmup
	touch $(STAMP)

setup: $(STAMP)

# The demo space and its default map are made once, so the first page opens at once.
demo: setup
	@$(PY) -m explorer info $(SPACES)/words-glove >/dev/null 2>&1 || \
		$(PY) -m explorer build --sample words-glove --out $(SPACES)/words-glove --overwrite
	@$(PY) -m explorer project $(SPACES)/words-glove --method umap
	@$(PY) -m explorer cluster $(SPACES)/words-glove >/dev/null

run: demo
	EXPLORER_SPACES=$(SPACES) $(PY) -m streamlit run app.py --server.port $(PORT)

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

check: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy explorer

bench: setup
	$(PY) -m bench --quick
