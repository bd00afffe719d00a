# Two commands a fresh machine needs: `make sandbox` and `make test`.
# Each creates .venv with Python 3.11 and installs the project on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: sandbox test lint format bench constraints clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

sandbox: $(STAMP)
	$(BIN)/solti sandbox

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Re-pin constraints.txt (the Docker image's versions) after changing dependencies.
constraints: $(STAMP)
	$(BIN)/python scripts/lock_constraints.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
