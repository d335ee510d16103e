# The two commands a new user needs: `make demo` and `make test`.
# Each creates .venv and installs symdyn into it on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test test-all test-slow lint bench figures install clean

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
	$(BIN)/symdyn discover examples/lorenz_template.sdyn --data out/lorenz.npz -o out/lorenz_found.sdyn --plot out/lorenz_found.png

# the fast tier, in float64, on two worker processes
test: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# what `make test` leaves out (CI runs both): the exhaustive tier, and the fast tier again in float32,
# the configuration users run (tests marked float64 run in float64 in both tiers: not repeated)
test-all: $(INSTALLED)
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup -m "exhaustive and not slow"
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --x64 off -m "not slow and not exhaustive and not float64"

test-slow: $(INSTALLED)
	$(BIN)/python -m pytest -q -m slow

lint: $(INSTALLED)
	$(BIN)/ruff check symdyn tests benchmarks examples
	$(BIN)/ruff format --check symdyn tests benchmarks examples

# the references benchmarks/ measures against (scipy, diffrax, exponax): the `bench` extra
BENCH_INSTALLED := $(VENV)/.bench-installed
$(BENCH_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $(BENCH_INSTALLED)

bench: $(BENCH_INSTALLED)
	$(BIN)/python benchmarks/lorenz_pipeline.py
	$(BIN)/python benchmarks/integrate.py
	$(BIN)/python benchmarks/smnn.py
	$(BIN)/python benchmarks/discovery.py
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/pde.py

# the figures of docs/: the demonstrations and two commands
figures: $(INSTALLED)
	$(BIN)/python examples/damped_oscillator_artifacts.py --out docs/figures
	$(BIN)/python examples/leapfrog_parasitic.py --out docs/figures
	$(BIN)/python examples/lotka_volterra_artifacts.py --out docs/figures
	$(BIN)/symdyn stability euler rk3 rk4 implicit_euler implicit_midpoint leapfrog --plot docs/figures/stability_regions.png
	$(BIN)/symdyn audit examples/damped_oscillator.sdyn --method euler --h 1 --steps 20 --plot docs/figures/audit_euler.png
	$(BIN)/python examples/smnn_validation.py --out docs/figures
	$(BIN)/python examples/lorenz_discovery.py --out docs/figures
	$(BIN)/python examples/two_body.py --out docs/figures
	$(BIN)/python examples/rigid_body.py --out docs/figures

clean:
	rm -rf $(VENV) out .pytest_cache
