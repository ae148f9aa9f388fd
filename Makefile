# The front door: `make lab` opens the course, `make test` runs every test. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | cksum | cut -d' ' -f1)
# nbgrader runs its own scripts (alembic) from PATH; TensorFlow stays quiet.
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0


.PHONY: setup sandbox-tool lab test lint demo bench notebooks data instructor student clean

setup: $(STAMP) sandbox-tool

# The grader confines student code with bubblewrap; install it where we can (root with apt), say so where not.
sandbox-tool:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/dev/null; \
	  else echo "note: bubblewrap (bwrap) is not installed; the grader will run notebooks without isolation"; fi; }

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (nbgrader 0.9.6)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e . || $(BIN)/python -m pip install --quiet --no-deps -e .
	@# A student's own install shows the student view; `make instructor` turns the instructor panels on.
	$(BIN)/python tools/instructor_mode.py off > /dev/null
	rm -f $(VENV)/.installed-*
	touch $@

lab: setup  ## open the course in JupyterLab
	$(BIN)/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: lint  ## run every test (what CI runs)
	$(BIN)/python -m pytest

lint: setup  ## ruff on all the code, and the authoring checks on the source notebooks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autograder rectified tests tools data benchmarks
	$(BIN)/python -m autograder.lint

notebooks: setup  ## regenerate the student notebooks from solutions/
	$(BIN)/python -m autograder.course

data: setup  ## rewrite data/*.csv
	$(BIN)/python data/make_data.py

demo: setup  ## grade a small synthetic class and print the scores
	$(BIN)/python -m autograder.demo

bench: setup  ## speed and memory figures
	$(BIN)/python benchmarks/seed_loop.py
	$(BIN)/python benchmarks/session_memory.py
	$(BIN)/python benchmarks/grading.py --students $(or $(STUDENTS),40)

instructor: setup  ## turn on nbgrader's Formgrader, Create Assignment and Course List (then restart JupyterLab)
	$(BIN)/python tools/instructor_mode.py on

student: setup  ## the student view: those panels off and locked, as on Binder
	$(BIN)/python tools/instructor_mode.py off

clean:
	rm -rf demo-out bench-out artifacts gradebook.db submitted autograded feedback release source
