"""Integrators: exact stability functions, measured orders, invariants, implicit solves and their gradients."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, LORENZ

import symdyn
from symdyn import integrators
from symdyn.integrators import ZETA, Z, integrate

EXPECTED_R = {
    "euler": 1 + Z,
    "heun": 1 + Z + Z**2 / 2,
    "midpoint": 1 + Z + Z**2 / 2,
    "rk3": 1 + Z + Z**2 / 2 + Z**3 / 6,
    "rk4": 1 + Z + Z**2 / 2 + Z**3 / 6 + Z**4 / 24,
    "implicit_euler": 1 / (1 - Z),
    "implicit_midpoint": (2 + Z) / (2 - Z),
    "trapezoid": (2 + Z) / (2 - Z),
    "gauss_legendre4": (1 + Z / 2 + Z**2 / 12) / (1 - Z / 2 + Z**2 / 12),
}
ONE_STEP = sorted(EXPECTED_R)


@pytest.mark.parametrize("name", ONE_STEP)
def test_stability_function_is_derived_exactly_from_the_tableau(name):
    method = integrators.get(name)
    assert sp.simplify(method.stability_function() - EXPECTED_R[name]) == 0
    (root,) = method.characteristic_roots()
    assert sp.simplify(root - EXPECTED_R[name]) == 0


def test_leapfrog_has_a_characteristic_polynomial_and_a_parasitic_root():
    leapfrog = integrators.get("leapfrog")
    assert leapfrog.stability_function() == ZETA**2 - 2 * Z * ZETA - 1
    roots = leapfrog.characteristic_roots()
    assert {sp.simplify(r) for r in roots} == {Z - sp.sqrt(Z**2 + 1), Z + sp.sqrt(Z**2 + 1)}
    assert sp.simplify(roots[0] * roots[1]) == -1  # the parasitic root is −1/(physical root)


@pytest.mark.parametrize("name", integrators.available(split=False))
def test_measured_order_of_convergence(name):
    """x' = cos(t) x, x(0) = 1 has x = exp(sin t); the error slope over halved steps is the order."""
    method = integrators.get(name)
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    errors = []
    for dt in steps:
        n = int(round(2.0 / dt))
        xs = integrate(lambda t, x: jnp.cos(t) * x, jnp.array([1.0]), 0.0, float(dt), n, method=method)
        errors.append(abs(float(xs[-1, 0]) - np.exp(np.sin(2.0))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - method.order) < 0.2, (slope, errors)


@pytest.mark.parametrize("name", ["implicit_euler", "implicit_midpoint", "gauss_legendre4"])
def test_implicit_methods_with_the_exact_jacobian_converge_on_a_closed_form(name):
    low = symdyn.load(EXAMPLES / "damped_harmonic_oscillator.sdyn").lower(dtype=jnp.float64)
    method = integrators.get(name)
    steps = (0.02, 0.01, 0.005)
    errors = []
    for dt in steps:
        n = int(round(4.0 / dt))
        xs = integrate(low, low.x0, 0.0, dt, n, method=method)
        exact = low.observed(4.0, xs[-1], low.p)[0]
        errors.append(abs(float(xs[-1, 0] - exact)))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - method.order) < 0.2, (slope, errors)


def test_symplectic_runge_kutta_conserves_the_rigid_body_casimir():
    low = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower(dtype=jnp.float64)

    def drift(method: str) -> float:
        xs = integrate(low, low.x0, 0.0, 0.1, 2000, method=method)
        casimir = low.conserved(0.0, xs, low.p)[:, 0]
        return float(jnp.max(jnp.abs(casimir / casimir[0] - 1)))

    assert drift("implicit_midpoint") < 1e-13  # round-off: quadratic invariants are kept exactly
    assert drift("gauss_legendre4") < 1e-13
    assert drift("rk4") > 1e-8  # a non-symplectic method drifts


def test_leapfrog_started_from_the_datas_own_pair_reproduces_the_data():
    """Lu & Tsai: with λ̂ = sinh(hλ)/h and (z0, z1) from the data, Leap Frog lands on every sample."""
    alpha, omega, h = 0.1, 2.0, 0.5
    true = np.array([[-alpha, -omega], [omega, -alpha]])
    eigenvalues, vectors = np.linalg.eig(true)
    learned = (vectors @ np.diag(np.sinh(h * eigenvalues) / h) @ np.linalg.inv(vectors)).real
    step = (vectors @ np.diag(np.exp(h * eigenvalues)) @ np.linalg.inv(vectors)).real
    z0 = np.array([1.0, 0.0])
    data = [z0]
    for _ in range(40):
        data.append(step @ data[-1])
    xs = integrate(lambda t, z: jnp.asarray(learned) @ z, z0, 0.0, h, 40, method="leapfrog", x1=data[1])
    np.testing.assert_allclose(xs, np.array(data), atol=1e-13)


def test_implicit_steps_differentiate_by_the_implicit_function_theorem():
    """One implicit midpoint step of x' = a x is x1 = (1 + ha/2)/(1 − ha/2) x0."""
    h, x0 = 0.3, 1.7

    def one_step(a):
        return integrate(lambda t, x: a * x, jnp.array([x0]), 0.0, h, 1, method="implicit_midpoint")[-1, 0]

    a = 0.8
    expected = x0 * h / (1 - h * a / 2) ** 2  # d/da of the closed form
    assert float(jax.grad(one_step)(a)) == pytest.approx(expected, rel=1e-12)
    assert float(jax.jacfwd(one_step)(a)) == pytest.approx(expected, rel=1e-12)


def test_gradients_through_many_implicit_steps_match_finite_differences():
    low = symdyn.parse(LORENZ).lower(dtype=jnp.float64)

    def final_x(p):
        return integrate(low, low.x0, 0.0, 0.01, 50, method="gauss_legendre4", p=p)[-1, 0]

    gradient = jax.grad(final_x)(low.p)
    for i in range(3):
        e = jnp.zeros(3).at[i].set(1e-6)
        finite = (final_x(low.p + e) - final_x(low.p - e)) / 2e-6
        assert float(gradient[i]) == pytest.approx(float(finite), rel=1e-6)


def test_newton_failure_is_reported():
    """x' = x² from x = 1 with h = 1: the implicit Euler stage equation K = (1 + K)² has no real root.

    Outside `jit` the failure is a SymdynRuntimeError naming the step; inside, the compiled program raises it."""
    message = "implicit_euler: Newton's method did not converge in an implicit step \\(step 0, t = 0\\)"
    with pytest.raises(symdyn.SymdynRuntimeError, match=message):
        integrate(lambda t, x: x**2, jnp.array([1.0]), 0.0, 1.0, 3, method="implicit_euler")
    starts = jnp.array([[0.1], [1.0]])  # the first trajectory converges, the second fails
    with pytest.raises(symdyn.SymdynRuntimeError, match="trajectory 1, step 0"):
        integrate(
            symdyn.parse("model Q\n @variables x(t)\n D(x) ~ x^2\nend").lower(),
            starts,
            0.0,
            1.0,
            3,
            method="implicit_euler",
        )
    with pytest.raises(eqx.EquinoxRuntimeError, match="Newton's method did not converge"):
        eqx.filter_jit(lambda x: integrate(lambda t, y: y**2, x, 0.0, 1.0, 3, method="implicit_euler"))(
            jnp.array([1.0])
        )
    xs = integrate(lambda t, x: x**2, jnp.array([1.0]), 0.0, 1.0, 3, method="implicit_euler", throw=False)
    assert float(xs[0, 0]) == 1.0 and bool(jnp.all(jnp.isnan(xs[1:])))


def test_batches_of_initial_states_and_parameters():
    low = symdyn.parse(LORENZ).lower(dtype=jnp.float64)
    starts = jnp.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0], [3.0, 0.0, 20.0], [1.0, 2.0, 3.0]]).reshape(2, 2, 3)
    batched = integrate(low, starts, 0.0, 0.01, 100)
    assert batched.shape == (2, 2, 101, 3)
    single = integrate(low, starts[1, 0], 0.0, 0.01, 100)
    np.testing.assert_allclose(batched[1, 0], single, rtol=1e-13)
    two_body = symdyn.load(EXAMPLES / "two_body.sdyn").lower(dtype=jnp.float64)
    eccentricities = jnp.array([[0.5], [0.6], [0.7]])
    orbits = integrate(two_body, two_body.initial(eccentricities), 0.0, 0.01, 200, p=eccentricities)
    assert orbits.shape == (3, 201, 4)
    np.testing.assert_allclose(orbits[:, 0, 0], [0.5, 0.4, 0.3])


def test_save_every_and_argument_errors():
    xs = integrate(lambda t, x: -x, jnp.ones((5, 2)), 0.0, 0.1, 10, method="euler", save_every=5)
    assert xs.shape == (3, 5, 2)
    np.testing.assert_allclose(xs[-1], 0.9**10 * np.ones((5, 2)))
    low = symdyn.parse(LORENZ).lower()
    with pytest.raises(ValueError, match="n_steps"):
        integrate(lambda t, x: -x, jnp.ones(1), 0.0, 0.1, 0)
    with pytest.raises(ValueError, match="must divide n_steps"):
        integrate(lambda t, x: -x, jnp.ones(1), 0.0, 0.1, 10, save_every=3)
    with pytest.raises(ValueError, match=r"x0 has shape \(2,\); Lorenz has 3 states"):
        integrate(low, jnp.ones(2), 0.0, 0.1, 10)
    with pytest.raises(ValueError, match="one-step method"):
        integrate(low, low.x0, 0.0, 0.1, 10, x1=low.x0)
    with pytest.raises(ValueError, match="did you mean 'rk4'"):
        integrators.get("rk5")
    with pytest.raises(ValueError, match="b sum to"):
        integrators.ButcherTableau(a=((0,),), b=(2,), c=(0,))
    with pytest.raises(ValueError, match="row 0 of a sums"):
        integrators.ButcherTableau(a=((0, 0), (1, 0)), b=(1, 0), c=(1, 1))


def test_integrate_compiles_once_for_a_model(monkeypatch):
    low = symdyn.parse(LORENZ).lower(dtype=jnp.float64)
    integrate(low, low.x0, 0.0, 0.01, 20)
    calls = []
    original = jax.lax.scan

    def counting_scan(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(jax.lax, "scan", counting_scan)
    integrate(low, low.x0 + 1.0, 0.0, 0.02, 20)  # new values, same shapes: no new trace
    assert calls == []


@pytest.mark.parametrize("method", integrators.available())
def test_a_float32_model_stays_float32_under_x64(method):
    # the tests run with jax_enable_x64: no tableau or spectral constant may promote the state
    if method in ("etd1", "etd2", "etdrk4", "imex_euler", "imex_trapezoid"):
        lowered = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn").lower(np.float32)
        x0 = jnp.asarray(np.sin(np.arange(256) * 2 * np.pi / 256)[None], jnp.float32)
    else:
        lowered = symdyn.parse(LORENZ).lower(np.float32)
        x0 = jnp.ones(3, jnp.float32)
    xs = integrate(lowered, x0, 0.0, 1e-3, 4, method=method)
    assert xs.dtype == jnp.float32 and bool(jnp.isfinite(xs).all())


@pytest.mark.parametrize("method", ["rk4", "heun", "leapfrog"])
def test_spectral_derivatives_keep_float32_under_x64(method):
    lowered = symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn").lower(np.float32)
    x0 = jnp.asarray(np.sin(np.arange(256) * 2 * np.pi / 256)[None], jnp.float32)
    assert integrate(lowered, x0, 0.0, 1e-3, 4, method=method).dtype == jnp.float32
