# The two commands a new user needs: `make demo` and `make test`.
# Each creates .venv and installs symdyn into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-slow lint bench install clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	mkdir -p out
	$(BIN)/symdyn show examples/lorenz.sdyn --jacobian
	$(BIN)/symdyn simulate examples/lorenz.sdyn --t-end 40 --dt 0.01 --method rk4 -o out/lorenz.npz --plot out/lorenz.png

test: $(INSTALLED)
	$(BIN)/python -m pytest -q

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -q -m slow

lint: $(INSTALLED)
	$(BIN)/ruff check symdyn tests benchmarks examples
	$(BIN)/ruff format --check symdyn tests benchmarks examples

bench: $(INSTALLED)
	$(BIN)/python benchmarks/lorenz_pipeline.py

clean:
	rm -rf $(VENV) out .pytest_cache
