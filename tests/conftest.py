"""Shared test setup: the precision tiers, example files, and model helpers.

The suite runs twice in CI: with `--x64 on` (the default: float64 JAX, where the numerics
are compared at their full accuracy) and with `--x64 off`, the configuration users run
(float32 by default). Tests marked `float64` check double-precision numerics and run in
float64 in both tiers; every other test runs at the tier's precision. Each test starts
from the tier's setting, whatever an earlier test (a CLI command that switches to float64)
changed. JAX's dtype promotion is strict.
"""

from __future__ import annotations

from pathlib import Path

import jax
import pytest

import symdyn


def pytest_addoption(parser):
    parser.addoption(
        "--x64",
        choices=("on", "off"),
        default="on",
        help="run JAX in float64 (on, the default) or in its default float32 (off)",
    )


def pytest_configure(config):
    jax.config.update("jax_enable_x64", config.getoption("--x64") == "on")
    # as diffrax's tests do: a float32 model that silently computes in float64 (or mixes in a weak int
    # where a float belongs) fails instead of passing at the wrong precision
    jax.config.update("jax_numpy_dtype_promotion", "strict")


@pytest.fixture(autouse=True)
def _precision(request):
    """The tier's precision for every test (float64 for tests marked so), restored afterwards."""
    tier = request.config.getoption("--x64") == "on"
    wanted = tier or request.node.get_closest_marker("float64") is not None
    jax.config.update("jax_enable_x64", wanted)
    yield
    jax.config.update("jax_enable_x64", tier)


def x64() -> bool:
    """Whether this test runs in float64."""
    return bool(jax.config.read("jax_enable_x64"))


def tolerance(float64: float, float32: float) -> float:
    """The tolerance for the precision this test runs in."""
    return float64 if x64() else float32


EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.sdyn"))
ODE_FILES = [p for p in EXAMPLE_FILES if not symdyn.load(p).is_pde]
PDE_FILES = [p for p in EXAMPLE_FILES if symdyn.load(p).is_pde]

LORENZ = """# Lorenz system
model Lorenz
    @parameters σ = 10  ρ = 28  β = 8/3
    @variables x(t) = 1  y(t) = 1  z(t) = 1
    D(x) ~ σ*(y - x)
    D(y) ~ x*(ρ - z) - y
    D(z) ~ x*y - β*z
end
"""


def model_text(*body: str, name: str = "M") -> str:
    """A model file holding the given lines."""
    return "\n".join([f"model {name}", *(f"    {line}" for line in body), "end", ""])


@pytest.fixture
def key():
    return jax.random.PRNGKey(0)
