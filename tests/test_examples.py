"""Every example parses, prints, round-trips and (ODEs) lowers; the seed systems behave as they should."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLE_FILES, EXAMPLES, ODE_FILES, PDE_FILES

import symdyn
from symdyn.integrators import integrate


def test_the_examples_cover_every_seed_system():
    names = {p.stem for p in EXAMPLE_FILES}
    seeds = {
        "lorenz", "lorenz_template", "two_body", "rigid_body", "lotka_volterra", "damped_oscillator",
        "rc_circuit", "population_growth", "language_death", "harmonic_oscillator",
        "damped_harmonic_oscillator", "third_order", "kuramoto_sivashinsky", "kdv",
    }  # fmt: skip
    assert seeds <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_example_parses_prints_and_round_trips(path):
    model = symdyn.load(path)
    text = str(model)
    again = symdyn.parse(text)
    assert again == model
    assert str(again) == text
    reduced = model.first_order()
    assert symdyn.parse(str(reduced)) == reduced
    assert reduced.rhs() == model.rhs()


@pytest.mark.parametrize("path", ODE_FILES, ids=lambda p: p.stem)
def test_every_ode_example_lowers_with_exact_derivatives(path):
    model = symdyn.load(path)
    low = model.lower(dtype=jnp.float64)
    n = len(model.state_vector)
    p = low.p
    x = low.x0 if low.x0 is not None else jnp.linspace(0.5, 1.5, n)
    x = x + 0.1 * jnp.arange(1, n + 1)  # off the initial state, where some entries vanish
    jacobian = low.jac(0.3, x, p)
    assert jacobian.shape == (n, n)
    np.testing.assert_allclose(jacobian, jax.jacfwd(low.rhs, argnums=1)(0.3, x, p), rtol=1e-12, atol=1e-12)
    v = jnp.cos(jnp.arange(n) + 1.0)
    _, tangent = jax.jvp(lambda y: low.rhs(0.3, y, p), (x,), (v,))
    np.testing.assert_allclose(low.jvp(0.3, x, p, v), tangent, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("path", PDE_FILES, ids=lambda p: p.stem)
def test_pde_examples_lower_to_their_grid(path):
    low = symdyn.load(path).lower()
    assert low.x0.shape == low.state_shape == (len(low.state_names), *low.domain.shape)
    assert bool(jnp.isfinite(low.rhs(0.0, low.x0, low.p)).all())


@pytest.mark.parametrize(
    "name",
    [
        "rc_circuit",
        "population_growth",
        "language_death",
        "harmonic_oscillator",
        "damped_harmonic_oscillator",
        "third_order",
    ],
)
def test_smnn_linear_odes_match_their_closed_forms(name):
    """The closed form in each file solves its equation, meets its initial values, and matches RK4."""
    model = symdyn.load(EXAMPLES / f"{name}.sdyn")
    exact = model.observed[0].expression
    (state,) = model.states
    t = model.time
    # symbolically: the closed form satisfies the equation and the initial values
    y = sp.Function(state.name, real=True)(t)
    (equation,) = model.equations
    solution = exact.xreplace(model.defaults)
    residual = (equation.lhs - equation.rhs).xreplace(model.defaults)
    residual = residual.subs({sp.Derivative(y, (t, k)): sp.diff(solution, t, k) for k in range(3, 0, -1)})
    assert abs(float(residual.subs(y, solution).subs(t, 0.7))) < 1e-12
    for initial in model.initial_values:
        order = initial.target.derivative_count if isinstance(initial.target, sp.Derivative) else 0
        value = sp.diff(solution, t, order).subs(t, 0)
        assert float(value) == pytest.approx(float(initial.value.xreplace(model.defaults)), abs=1e-12)
    # numerically: RK4 at the S-MNN step 0.01 over T = 1000 steps
    low = model.lower(dtype=jnp.float64)
    xs = integrate(low, low.x0, 0.0, 0.01, 1000)
    times = 0.01 * jnp.arange(1001)
    reference = low.observed(times, xs, low.p)[:, 0]
    assert jnp.max(jnp.abs(xs[:, 0] - reference)) < 1e-8 * jnp.max(jnp.abs(reference))  # RK4: O(h⁴)


@pytest.mark.parametrize(
    ("name", "dt", "steps", "tolerance"),
    [
        ("two_body", 0.01, 800, 1e-6),
        ("rigid_body", 0.01, 1500, 1e-10),
        ("lotka_volterra", 0.01, 1000, 1e-9),
        ("pendulum", 0.001, 2000, 1e-10),
    ],
)
def test_conserved_quantities_are_conserved_by_the_true_flow(name, dt, steps, tolerance):
    low = symdyn.load(EXAMPLES / f"{name}.sdyn").lower(dtype=jnp.float64)
    xs = integrate(low, low.x0, 0.0, dt, steps)
    values = low.conserved(0.0, xs, low.p)
    drift = jnp.max(jnp.abs(values - values[0]) / jnp.abs(values[0]))
    assert drift < tolerance


def test_damped_oscillator_has_the_seed_eigenvalues():
    model = symdyn.load(EXAMPLES / "damped_oscillator.sdyn")
    eigenvalues = sorted(
        (complex(e) for e in model.jacobian().xreplace(model.defaults).eigenvals()), key=lambda z: z.imag
    )
    assert eigenvalues == [complex(-0.1, -2.0), complex(-0.1, 2.0)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    ["damped_oscillator_artifacts.py", "leapfrog_parasitic.py", "lotka_volterra_artifacts.py", "smnn_validation.py"],
)
def test_demonstration_scripts_run_and_write_their_figures(script, tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert list(tmp_path.glob("*.png"))


@pytest.mark.slow
def test_lorenz_discovery_meets_the_papers_table_4(tmp_path):
    """Both methods reach every coefficient within the paper's S-MNN error; the library keeps the 7 terms."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "lorenz_discovery.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("S-MNN, R = 3 (ours)", "sparse, FD4 (ours)"):
        assert any(line.startswith(name) and line.endswith("meets the target") for line in result.stdout.splitlines())
    assert result.stdout.count("kept 7 terms") == 2


@pytest.mark.slow
@pytest.mark.parametrize("script", ["two_body.py", "rigid_body.py"])
def test_jacobian_regularization_experiments_write_their_table_and_figures(script, tmp_path):
    """The reduced configurations of the seed's Section 4 (about 10-20 minutes each on 2 cores)."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=3000
    )
    assert result.returncode == 0, result.stderr[-2000:]
    name = script.removesuffix(".py")
    table = (tmp_path / f"{name}_table.md").read_text()
    assert table.count("| N=") == 4
    for figure in ("rollouts", "conserved", "lambda"):
        assert (tmp_path / f"{name}_{figure}.png").stat().st_size > 0
