"""Stability regions, the inverse problem and the audit, against closed forms and the seed's numbers."""

from __future__ import annotations

import cmath
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES, tolerance
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn
from symdyn import integrators
from symdyn.integrators import Z, integrate
from symdyn.stability import Characteristic, audit, preimages, region_summary

DAMPED = cmath.exp(complex(-0.1, 2.0))  # the damped oscillator's multiplier at H = 1


@pytest.mark.parametrize("name", [m for m in integrators.available(split=False) if m != "leapfrog"])
def test_every_preimage_solves_r_of_z_equals_mu(name):
    r = sp.lambdify(Z, integrators.get(name).stability_function(), "numpy")
    found = preimages(name, DAMPED, 1.0)
    degree = max(sp.degree(part, Z) for part in sp.fraction(sp.together(integrators.get(name).stability_function())))
    assert len(found) == degree
    for p in found:
        assert abs(r(p.z) - DAMPED) < 1e-13
        assert p.eigenvalue == p.z  # h = 1


def test_rk4_has_the_seeds_anti_damped_solution():
    """Lu & Tsai: RK4 at h = 1 fits the damped oscillator with λ̂ ≈ 0.105 + 1.927i among four solutions."""
    found = preimages("rk4", DAMPED, 1.0)
    assert len(found) == 4
    closest = found[0]
    assert abs(closest.eigenvalue - complex(0.105, 1.927)) < 1e-3
    assert closest.anti_damped and not closest.opposite_rotation
    assert sum(p.anti_damped for p in found) == 2
    assert sum(p.opposite_rotation for p in found) == 2


def test_closed_form_preimages():
    h = 0.5
    mu = cmath.exp(h * complex(-0.3, 1.1))
    (euler,) = preimages("euler", mu, h)
    assert abs(euler.z - (mu - 1)) < 1e-14
    (backward,) = preimages("implicit_euler", mu, h)
    assert abs(backward.z - (1 - 1 / mu)) < 1e-14
    (midpoint,) = preimages("implicit_midpoint", mu, h)
    assert abs(midpoint.z - 2 * (mu - 1) / (mu + 1)) < 1e-14
    (leapfrog,) = preimages("leapfrog", mu, h)
    lam = cmath.log(mu) / h
    assert abs(leapfrog.eigenvalue - cmath.sinh(h * lam) / h) < 1e-14
    (parasitic,) = leapfrog.parasitic
    assert abs(parasitic - (-cmath.exp(-h * lam))) < 1e-14
    assert leapfrog.parasitic_growth == pytest.approx(math.exp(0.3 * h), rel=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.05, 0.999), st.floats(-3.1, 3.1), st.floats(0.01, 2.0))
def test_implicit_midpoint_preserves_the_sign_of_damping(radius, angle, h):
    for method in ("implicit_midpoint", "gauss_legendre4"):
        for sign, mu in ((-1, radius * cmath.exp(1j * angle)), (1, cmath.exp(1j * angle) / radius)):
            for p in preimages(method, mu, h):
                assert np.sign(p.eigenvalue.real) == sign, (method, mu, p)


def test_region_summaries():
    rk4 = region_summary("rk4")
    assert rk4.imaginary_interval == pytest.approx(2 * math.sqrt(2), rel=1e-12)
    x, y = np.meshgrid(np.linspace(0, 0.5, 1001), np.linspace(0, 3.2, 2001))
    brute = x[np.abs(1 + (z := x + 1j * y) + z**2 / 2 + z**3 / 6 + z**4 / 24) <= 1].max()
    assert rk4.reach == pytest.approx(brute, abs=1e-3)
    assert not rk4.a_stable
    assert region_summary("rk3").imaginary_interval == pytest.approx(math.sqrt(3), rel=1e-12)
    euler = region_summary("euler")
    assert (euler.reach, euler.imaginary_interval, euler.a_stable) == (0.0, 0.0, False)
    midpoint = region_summary("implicit_midpoint")
    assert (midpoint.reach, midpoint.imaginary_interval, midpoint.a_stable) == (0.0, math.inf, True)
    backward = region_summary("implicit_euler")
    assert (backward.reach, backward.a_stable) == (math.inf, True)
    assert region_summary("gauss_legendre4").a_stable
    leapfrog = region_summary("leapfrog")
    assert leapfrog.imaginary_interval == pytest.approx(1.0, abs=1e-3)
    assert (leapfrog.reach, leapfrog.a_stable) == (0.0, False)


def test_leapfrog_multipliers_are_its_two_roots():
    z = np.array([0.3j, -0.2 + 0.1j])
    roots = Characteristic("leapfrog").multipliers(z)
    for zi, pair in zip(z, roots):
        expected = sorted([zi + np.sqrt(zi**2 + 1), zi - np.sqrt(zi**2 + 1)], key=abs)
        np.testing.assert_allclose(sorted(pair, key=abs), expected, atol=1e-14)


def test_audit_flags_instability_hidden_by_rk4():
    anti = preimages("rk4", DAMPED, 1.0)[0].eigenvalue
    learned = jnp.array([[anti.real, -anti.imag], [anti.imag, anti.real]])
    report = audit(lambda t, x: learned @ x, jnp.array([[1.0, 0.0], [0.0, 2.0]]), "rk4", 1.0, n_steps=30)
    assert report.hidden_instability.all() and not report.made_unstable.any()
    # the learned matrix in the tier's float: 0 / 4.3e-8 and 2.2e-16 / 2.5e-8 measured
    expected = [anti.conjugate(), anti]
    np.testing.assert_allclose(np.sort_complex(report.eigenvalues[0]), expected, atol=tolerance(1e-12, 2e-7))
    np.testing.assert_allclose(report.amplification, abs(DAMPED), rtol=tolerance(1e-12, 1e-7))
    assert (report.gap > 0.5).all()  # at h/100 the learned system grows, the data's decays
    assert "HIDDEN INSTABILITY" in str(report)


def test_audit_of_the_true_model_and_of_a_step_too_large():
    low = symdyn.load(EXAMPLES / "damped_oscillator.sdyn").lower()
    report = audit(low, low.x0, "implicit_midpoint", 1.0, n_steps=20)
    assert not report.flagged
    stiff = audit(lambda t, x: -3.0 * x, jnp.ones(1), "euler", 1.0, n_steps=10)
    assert stiff.made_unstable.all()  # |1 + hλ| = 2: Euler turns decay into growth
    assert stiff.gap[0] == pytest.approx(2.0**10, rel=1e-6)  # (-2)¹⁰ against a fine trajectory that decays


def test_fitting_through_rk4_lands_on_a_predicted_preimage():
    """Demonstration 1 in small: gradient descent through RK4 finds what the inverse problem predicts."""
    lam = complex(-0.1, 2.0)
    truth = jnp.array([[lam.real, -lam.imag], [lam.imag, lam.real]])
    data = integrate(lambda t, x: truth @ x, jnp.array([1.0, 0.0]), 0.0, 1e-3, 10_000, save_every=1000)

    def loss(a):
        step = jax.vmap(lambda x: integrate(lambda t, y: a @ y, x, 0.0, 1.0, 1)[-1])
        return jnp.mean((step(data[:-1]) - data[1:]) ** 2)

    a = jnp.array([[0.0, -2.0], [2.0, 0.0]])
    gradient = jax.jit(jax.grad(loss))
    for _ in range(300):  # Gauss-Newton would be faster; plain gradient descent is what training does
        a = a - 0.5 * gradient(a)
    learned = max(np.linalg.eigvals(np.asarray(a)), key=lambda e: e.imag)
    mu = max(np.linalg.eigvals(np.linalg.lstsq(data[:-1], data[1:], rcond=None)[0].T), key=lambda e: e.imag)
    predicted = min((p.eigenvalue for p in preimages("rk4", mu, 1.0)), key=lambda e: abs(e - learned))
    assert abs(learned - predicted) < 1e-3
    assert learned.real > 0  # the anti-damped solution, from a start that knew the frequency
