# The front door: `make lab` opens the course, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
# nbgrader runs its own scripts (alembic) from PATH; TensorFlow stays quiet.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup lab test lint demo bench notebooks data instructor student clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (nbgrader 0.9.6)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . || $(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

lab: setup  ## open the course in JupyterLab
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks

test: setup  ## run every test (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder rectified tests tools data benchmarks
	$(BIN)/python -m pytest

notebooks: setup  ## regenerate the student notebooks from solutions/
	$(BIN)/python -m autograder.course

data: setup  ## rewrite data/*.csv
	$(BIN)/python data/make_data.py

demo: setup  ## grade a small synthetic class and print the scores
	$(BIN)/python -m autograder.demo

bench: setup  ## speed and memory figures
	$(BIN)/python benchmarks/seed_loop.py

clean:
	rm -rf demo-out bench-out artifacts gradebook.db submitted autograded feedback release source
