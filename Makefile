# prunerec — every target bootstraps .venv (once) and never reinstalls from scratch.
#   make lab        open the course in JupyterLab (prints the URL; no browser needed)
#   make test       everything CI checks: lint, unit tests, doctests, notebooks, exercises
#   make course     execute every notebook headless and write HTML to build/
#   make exercises  regenerate exercises/ from solutions/
#   make check EX=03   self-grade your exercise notebook exercises/ex03_*.ipynb
#   make bench      run the benchmarks in bench/, writing results/

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.prunerec-installed
PORT   ?= 8888
EX     ?= 03
# Jupyter refuses to run as root unless told to (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
export TQDM_DISABLE ?= 1

.PHONY: lab test lint unit notebooks course exercises check bench clean venv

venv: $(STAMP)

# The stamp depends on pyproject.toml: the install is redone (incrementally, by pip)
# only when the dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "prunerec needs Python >= 3.10"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@# MovieLens-100K ships inside this wheel; its own dependencies are heavy and unneeded.
	$(BIN)/python -m pip install --quiet --no-deps recbole==1.2.1
	@touch $@

lab: $(STAMP)
	@echo "Starting JupyterLab on port $(PORT); open the http://127.0.0.1:$(PORT)/lab?token=... URL it prints."
	TQDM_DISABLE= $(BIN)/jupyter lab --no-browser --ip=127.0.0.1 --port=$(PORT) $(ROOT_FLAG) \
		--ServerApp.root_dir="$(CURDIR)" chapters/00_start_here.ipynb

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint $(STAMP)
	$(BIN)/python -m pytest --doctest-modules lib tests \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		--nbval-cell-timeout=900 chapters solutions

course: $(STAMP)
	$(BIN)/prunerec-nb html --out build chapters/*.ipynb solutions/*.ipynb
	@echo "HTML written to build/"

exercises: $(STAMP)
	$(BIN)/prunerec-nb generate solutions exercises

check: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg exercises/ex$(EX)_*.ipynb

bench: $(STAMP)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
