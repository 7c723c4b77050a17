# The two entry points of the README: `make book` (install + build the book, full sweeps) and
# `make test` (install + every test, quick sweeps). Everything runs inside .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHAPTERS := $(wildcard book/*.py)
NOTEBOOKS := $(CHAPTERS:.py=.ipynb)

.PHONY: install book test lint unit thorough notebooks nbval build-quick browser clean

# the scripts the pages load (MathJax, the widget manager), pinned npm releases served from
# _assets/vendor, served as the book's _static, so it renders offline (see _ext/offline_assets.py)
OFFLINE_ASSETS := _assets/vendor/.complete

install: $(VENV)/.installed $(OFFLINE_ASSETS)

$(OFFLINE_ASSETS): _ext/offline_assets.py
	$(PYTHON) _ext/offline_assets.py

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

notebooks: install
	$(BIN)/jupytext --quiet --to ipynb $(CHAPTERS)

book: notebooks
	$(BIN)/jupyter-book build . -W --keep-going

lint: install
	$(BIN)/ruff check .

unit: install
	SYMSHARING_HYPOTHESIS_PROFILE=ci $(BIN)/pytest tests -q

thorough: install
	SYMSHARING_HYPOTHESIS_PROFILE=thorough $(BIN)/pytest tests -q

nbval: notebooks
	SYMSHARING_QUICK=1 $(BIN)/pytest --nbval-lax -q -p no:cacheprovider $(NOTEBOOKS)

build-quick: notebooks
	SYMSHARING_QUICK=1 $(BIN)/jupyter-book build . -W --keep-going

# headless Chromium reads every page of the built book (tests/browser; skipped without Chromium
# outside CI, failed in CI): run after build-quick
browser: install
	$(BIN)/pytest tests/browser -q -p no:cacheprovider

test: lint unit nbval build-quick browser

clean:
	rm -rf _build $(NOTEBOOKS)
