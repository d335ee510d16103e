"""Integrators: exact stability functions, measured orders, invariants, implicit solves and their gradients.

Measured orders, round-off-level invariants and finite differences are double-precision checks
(marked float64); the rest runs at the tier's precision, tolerances a few times the error measured.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, LORENZ, tolerance

import symdyn
from symdyn import integrators
from symdyn.integrators import ZETA, AbstractExplicitRungeKutta, ButcherTableau, Z, integrate

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

EXHAUSTIVE = pytest.mark.exhaustive


class Ralston(AbstractExplicitRungeKutta):
    """Ralston's second-order method, defined from its tableau as a user would: not in the registry."""

    name = "ralston"
    order = 2
    tableau = ButcherTableau(
        a=((0, 0), (sp.Rational(2, 3), 0)), b=(sp.Rational(1, 4), sp.Rational(3, 4)), c=(0, sp.Rational(2, 3))
    )


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


@pytest.mark.float64
@pytest.mark.parametrize("name", [*integrators.available(split=False), Ralston()], ids=str)
def test_measured_order_of_convergence(name):
    """x' = cos(t) x, x(0) = 1 has x = exp(sin t); the error slope over halved steps is the order.

    Measured within 0.09 of it (midpoint; Ralston's: 0.06); float32 round-off would hide the slopes of order 3 and 4.
    """
    method = integrators.get(name)
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    errors = []
    for dt in steps:
        n = int(round(2.0 / dt))
        xs = integrate(lambda t, x: jnp.cos(t) * x, jnp.array([1.0]), 0.0, float(dt), n, method=method)
        errors.append(abs(float(xs[-1, 0]) - np.exp(np.sin(2.0))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - method.order) < 0.2, (slope, errors)


def test_a_user_defined_tableau_steps_through_integrate():
    """Ralston's method: its exact R(z), and steps through `integrate` against the tableau applied by hand."""
    method = Ralston()
    assert sp.expand(method.stability_function() - (1 + Z + Z**2 / 2)) == 0
    assert method.characteristic_roots() == [1 + Z + Z**2 / 2]
    h, x0, t0 = 0.3, 1.7, 0.2
    f = lambda t, x: np.cos(t) * x  # time-dependent, so that c₂ = 2/3 matters
    k1 = f(t0, x0)
    k2 = f(t0 + 2 * h / 3, x0 + 2 * h / 3 * k1)
    by_hand = x0 + h * (k1 / 4 + 3 * k2 / 4)
    xs = integrate(lambda t, x: jnp.cos(t) * x, jnp.array([x0]), t0, h, 1, method=method)
    assert float(xs[1, 0]) == pytest.approx(by_hand, rel=tolerance(1e-15, 3e-7))  # 0 / 4.5e-9 measured (ulp 6e-8)
    lam = complex(-0.4, 1.5)  # x' = λx as a real 2-vector: each step multiplies by R(hλ)
    a = jnp.array([[lam.real, -lam.imag], [lam.imag, lam.real]])
    xs = integrate(lambda t, x: a @ x, jnp.array([1.0, 0.0]), 0.0, h, 10, method=method)
    expected = (1 + h * lam + (h * lam) ** 2 / 2) ** np.arange(11)
    np.testing.assert_allclose(
        np.asarray(xs[:, 0]) + 1j * np.asarray(xs[:, 1]), expected, rtol=tolerance(2e-15, 1e-6)
    )  # 5e-16 / 2.9e-7


@pytest.mark.float64
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


@pytest.mark.float64
def test_symplectic_runge_kutta_conserves_the_rigid_body_casimir():
    low = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower(dtype=jnp.float64)

    def drift(method: str) -> float:
        xs = integrate(low, low.x0, 0.0, 0.1, 2000, method=method)
        casimir = low.conserved(0.0, xs, low.p)[:, 0]
        return float(jnp.max(jnp.abs(casimir / casimir[0] - 1)))

    assert drift("implicit_midpoint") < 1e-14  # round-off (2.7e-15): quadratic invariants are kept exactly
    assert drift("gauss_legendre4") < 1e-14  # 3.8e-15
    assert drift("rk4") > 1e-7  # a non-symplectic method drifts: 2.7e-7


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
    np.testing.assert_allclose(xs, np.array(data), atol=tolerance(5e-15, 5e-6))  # 1.2e-15 / 1.2e-6 measured


def test_implicit_steps_differentiate_by_the_implicit_function_theorem():
    """One implicit midpoint step of x' = a x is x1 = (1 + ha/2)/(1 − ha/2) x0."""
    h, x0 = 0.3, 1.7

    def one_step(a):
        return integrate(lambda t, x: a * x, jnp.array([x0]), 0.0, h, 1, method="implicit_midpoint")[-1, 0]

    a = 0.8
    expected = x0 * h / (1 - h * a / 2) ** 2  # d/da of the closed form
    rel = tolerance(1e-14, 1.5e-7)  # 0 / 3.4e-8 measured
    assert float(jax.grad(one_step)(a)) == pytest.approx(expected, rel=rel)
    assert float(jax.jacfwd(one_step)(a)) == pytest.approx(expected, rel=rel)


@pytest.mark.float64
def test_gradients_through_many_implicit_steps_match_finite_differences():
    low = symdyn.parse(LORENZ).lower(dtype=jnp.float64)

    def final_x(p):
        return integrate(low, low.x0, 0.0, 0.01, 50, method="gauss_legendre4", p=p)[-1, 0]

    gradient = jax.grad(final_x)(low.p)
    for i in range(3):
        e = jnp.zeros(3).at[i].set(1e-6)
        finite = (final_x(low.p + e) - final_x(low.p - e)) / 2e-6
        assert float(gradient[i]) == pytest.approx(float(finite), rel=2e-8)  # 3.9e-9 measured


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
    """Batched integrations against one integration per initial state and per parameter."""
    low = symdyn.parse(LORENZ).lower()
    starts = jnp.array([[1.0, 1.0, 1.0], [0.5, -1.0, 2.0], [3.0, 0.0, 20.0], [1.0, 2.0, 3.0]]).reshape(2, 2, 3)
    batched = integrate(low, starts, 0.0, 0.01, 100)
    assert batched.shape == (2, 2, 101, 3)
    for i, j in np.ndindex(2, 2):  # the same operations: equal (0 measured), or apart by round-off grown over 100 steps
        single = integrate(low, starts[i, j], 0.0, 0.01, 100)
        np.testing.assert_allclose(batched[i, j], single, rtol=tolerance(1e-13, 1e-5), atol=tolerance(1e-13, 1e-5))
    two_body = symdyn.load(EXAMPLES / "two_body.sdyn").lower()
    eccentricities = jnp.array([[0.5], [0.6], [0.7]])
    orbits = integrate(two_body, two_body.initial(eccentricities), 0.0, 0.01, 200, p=eccentricities)
    assert orbits.shape == (3, 201, 4)
    np.testing.assert_allclose(orbits[:, 0, 0], [0.5, 0.4, 0.3], rtol=tolerance(1e-15, 1e-6))
    for orbit, e in zip(orbits, eccentricities):  # each orbit at its own eccentricity
        single = integrate(two_body, two_body.initial(e), 0.0, 0.01, 200, p=e)
        np.testing.assert_allclose(orbit, single, rtol=tolerance(1e-13, 1e-5), atol=tolerance(1e-13, 1e-5))


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
    low = symdyn.parse(LORENZ).lower()
    integrate(low, low.x0, 0.0, 0.01, 20)
    calls = []
    original = jax.lax.scan

    def counting_scan(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(jax.lax, "scan", counting_scan)
    integrate(low, low.x0 + 1.0, 0.0, 0.02, 20)  # new values, same shapes: no new trace
    assert calls == []


WAVE = np.sin(np.arange(256) * 2 * np.pi / 256)[None]  # a state of the Kuramoto-Sivashinsky grid


def in_both_precisions(model, x0, dt, method):
    """Four steps of the same model, from the same state, lowered to float32 and to float64."""
    return [integrate(model.lower(d), jnp.asarray(x0, d), 0.0, dt, 4, method=method) for d in (np.float32, np.float64)]


@pytest.mark.float64
@pytest.mark.parametrize(
    "method",
    [
        m
        if m in ("rk4", "implicit_midpoint", "leapfrog", "etdrk4", "imex_trapezoid")
        else pytest.param(m, marks=EXHAUSTIVE)
        for m in integrators.available()
    ],
)
def test_a_float32_model_stays_float32_under_x64(method):
    """Under jax_enable_x64 no tableau or spectral constant may promote the state, and the steps are float64's."""
    if method in ("etd1", "etd2", "etdrk4", "imex_euler", "imex_trapezoid"):
        single, double = in_both_precisions(symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn"), WAVE, 1e-3, method)
    else:
        single, double = in_both_precisions(symdyn.parse(LORENZ), np.ones(3), 1e-3, method)
    assert single.dtype == jnp.float32
    relative = float(jnp.max(jnp.abs(single.astype(double.dtype) - double)) / jnp.max(jnp.abs(double)))
    assert relative < 1e-6  # float32 round-off: at most 3.0e-7 measured (the states move by 2e-4 to 9e-2)


@pytest.mark.float64
@pytest.mark.parametrize("method", ["rk4", "heun", "leapfrog"])
def test_spectral_derivatives_keep_float32_under_x64(method):
    """Explicit steps of a PDE in float32 stay float32 and follow float64 (a step of 1e-5, inside the stable range)."""
    single, double = in_both_precisions(symdyn.load(EXAMPLES / "kuramoto_sivashinsky.sdyn"), WAVE, 1e-5, method)
    assert single.dtype == jnp.float32
    assert (
        float(jnp.max(jnp.abs(single.astype(double.dtype) - double))) < 5e-7
    )  # 1.3e-7 measured; the state moves by 2.2e-6


def test_a_method_that_leaves_out_a_declaration_is_refused_when_it_is_defined():
    """name, order and the tableau are declared by every concrete method: a class without them cannot be defined
    (it used to fail only inside `integrate`); an explicit method's tableau must be explicit."""
    euler = ButcherTableau(a=((0,),), b=(1,), c=(0,))
    with pytest.raises(TypeError, match="NoOrder must set the class variable `order`"):

        class NoOrder(integrators.AbstractExplicitRungeKutta):
            name = "no_order"
            tableau = euler

    with pytest.raises(TypeError, match="NoTableau must set the class variable `tableau`"):

        class NoTableau(integrators.AbstractExplicitRungeKutta):
            name, order = "no_tableau", 1

    with pytest.raises(TypeError, match="Backward: an explicit method needs a strictly lower triangular a"):

        class Backward(integrators.AbstractExplicitRungeKutta):
            name, order = "backward", 1
            tableau = ButcherTableau(a=((1,),), b=(1,), c=(1,))

    with pytest.raises(TypeError, match="NoName must set the class variable `name`"):

        class NoName(integrators.AbstractMultistepIntegrator):
            order, steps = 2, 2

    assert isinstance(integrators.get("leapfrog"), integrators.AbstractMultistepIntegrator)
    assert isinstance(integrators.get("etdrk4"), integrators.AbstractOneStepIntegrator)
