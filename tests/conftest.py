"""Shared test setup: float64 JAX, example files, and model helpers."""

from __future__ import annotations

from pathlib import Path

import jax
import pytest

jax.config.update("jax_enable_x64", True)

import symdyn  # noqa: E402

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
