"""Fixed-step integrators: exact stability functions and measured convergence orders."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from symdyn import integrators

z = sp.Symbol("z")
EXPECTED_R = {
    "euler": 1 + z,
    "heun": 1 + z + z**2 / 2,
    "midpoint": 1 + z + z**2 / 2,
    "rk3": 1 + z + z**2 / 2 + z**3 / 6,
    "rk4": 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24,
}


@pytest.mark.parametrize("name", integrators.available())
def test_stability_function_is_derived_exactly_from_the_tableau(name):
    method = integrators.get(name)
    assert sp.expand(method.stability_function() - EXPECTED_R[name].subs(z, sp.Symbol("z"))) == 0


@pytest.mark.parametrize("name", integrators.available())
def test_measured_order_of_convergence(name):
    """x' = cos(t) x, x(0) = 1 has x = exp(sin t); the error slope over halved steps is the order."""
    method = integrators.get(name)
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    errors = []
    for dt in steps:
        n = int(round(2.0 / dt))
        xs = integrators.integrate(lambda t, x: jnp.cos(t) * x, jnp.array([1.0]), 0.0, float(dt), n, method=method)
        errors.append(abs(float(xs[-1, 0]) - np.exp(np.sin(2.0))))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - method.order) < 0.2, (slope, errors)


def test_integrate_shapes_batches_and_arguments():
    xs = integrators.integrate(lambda t, x: -x, jnp.ones((5, 2)), 0.0, 0.1, 10, method="euler")
    assert xs.shape == (11, 5, 2)
    np.testing.assert_allclose(xs[-1], 0.9**10 * np.ones((5, 2)))
    with pytest.raises(ValueError, match="n_steps"):
        integrators.integrate(lambda t, x: -x, jnp.ones(1), 0.0, 0.1, 0)
    with pytest.raises(ValueError, match="did you mean 'rk4'"):
        integrators.get("rk5")
    with pytest.raises(ValueError, match="b sum to"):
        integrators.ButcherTableau(a=((0,),), b=(2,), c=(0,))
    with pytest.raises(ValueError, match="row 0 of a sums"):
        integrators.ButcherTableau(a=((0, 0), (1, 0)), b=(1, 0), c=(1, 1))
