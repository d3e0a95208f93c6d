# scamsim: the two commands of the README's quick start, and a few helpers.
#   make run    create .venv if needed, install, run the baseline scenario with a plot
#   make test   create .venv if needed, install with test extras, run the test suite
#   make app    create .venv if needed, install with the app extra, serve the teaching demo
#   make calibration / make validation   the shipped calibration and its hindcasts (hours)
PYTHON ?= python3.12
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
BASE    = $(VENV)/.installed-base
APP     = $(VENV)/.installed-app

.PHONY: run app test test-slow lint bench sensitivity world calibration validation clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.12+ (see README)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# make test: the package with every extra its tests use.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,ema,app,calibrate]"
	@touch $(STAMP) $(BASE) $(APP)

# make run: the package alone.
$(BASE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $(BASE)

# make app: the package and the app extra only (a lighter install for a classroom).
$(APP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[app]"
	@touch $(APP) $(BASE)

run: $(BASE)
	$(BIN)/scamsim scenario=baseline world=world seed=1

app: $(APP)
	$(BIN)/scamsim app

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist loadfile

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments hydra_plugins

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_scaling.py
	$(BIN)/python benchmarks/bench_sweep.py

sensitivity: $(STAMP)
	$(BIN)/scamsim sensitivity

# make calibration: the shipped calibration (hours on 2 cores; run it again to resume), then
# ship it: posterior sample, posterior medians as the defaults, report.
calibration: $(STAMP)
	$(BIN)/scamsim calibrate
	$(BIN)/scamsim calibrate --install --set-defaults --report

# make validation: the out-of-time calibration (record to 2024-06) and both hindcasts.
validation: $(STAMP)
	$(BIN)/scamsim calibrate --until 2024-06 --population 500 --generations 12
	$(BIN)/scamsim hindcast --draws 200
	$(BIN)/scamsim hindcast --until 2024-06 --draws 200 \
	    --posterior results/calibration_until_2024-06/posterior.csv

world: $(STAMP)
	@test -n "$(DATA)" || { echo "usage: make world DATA=path/to/raw/data"; exit 2; }
	$(BIN)/python -m sim.data.build_world --data-dir $(DATA) --out sim/data/world.csv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
