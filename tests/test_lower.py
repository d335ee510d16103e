"""Lowered JAX functions against hand-written references, autodiff and finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import EXAMPLES, LORENZ, model_text

import symdyn


def lorenz_rhs(x, p):
    σ, ρ, β = p
    return jnp.array([σ * (x[1] - x[0]), x[0] * (ρ - x[2]) - x[1], x[0] * x[1] - β * x[2]])


def lorenz_jac(x, p):
    σ, ρ, β = p
    return jnp.array([[-σ, σ, 0.0], [ρ - x[2], -1.0, -x[0]], [x[1], x[0], -β]])


def two_body_rhs(x):
    r3 = (x[0] ** 2 + x[1] ** 2) ** 1.5
    return jnp.array([x[2], x[3], -x[0] / r3, -x[1] / r3])


def rigid_body_rhs(y, inertia):
    return jnp.cross(y, y / inertia)


@pytest.fixture(scope="module")
def lorenz():
    return symdyn.parse(LORENZ).lower(dtype=jnp.float64)


def test_lorenz_against_hand_written_reference(lorenz, key):
    points = jax.random.normal(key, (20, 3)) * 10
    np.testing.assert_allclose(lorenz.p, [10, 28, 8 / 3])
    np.testing.assert_allclose(lorenz.x0, [1, 1, 1])
    for x in points:
        np.testing.assert_allclose(lorenz.rhs(0.0, x, lorenz.p), lorenz_rhs(x, lorenz.p), rtol=1e-14)
        np.testing.assert_allclose(lorenz.jac(0.0, x, lorenz.p), lorenz_jac(x, lorenz.p), rtol=1e-14)


def test_seed_systems_against_hand_written_references(key):
    two_body = symdyn.load(EXAMPLES / "two_body.sdyn").lower(dtype=jnp.float64)
    rigid = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower(dtype=jnp.float64)
    inertia = jnp.array([1.6, 1.0, 2 / 3])
    for x in jax.random.normal(key, (10, 4)) + 2.0:
        np.testing.assert_allclose(two_body.rhs(0.0, x, two_body.p), two_body_rhs(x), rtol=1e-13)
        y = x[:3]
        np.testing.assert_allclose(rigid.rhs(0.0, y, rigid.p), rigid_body_rhs(y, inertia), rtol=1e-13, atol=1e-14)


def test_batches_broadcast_and_vmap_agree(lorenz, key):
    xs = jax.random.normal(key, (7, 3))
    looped = jnp.stack([lorenz.jac(0.0, x, lorenz.p) for x in xs])
    np.testing.assert_allclose(lorenz.jac(0.0, xs, lorenz.p), looped)
    np.testing.assert_allclose(jax.vmap(lorenz.jac, (None, 0, None))(0.0, xs, lorenz.p), looped)
    ps = lorenz.p * jnp.linspace(0.5, 1.5, 7)[:, None]
    np.testing.assert_allclose(lorenz.rhs(0.0, xs, ps), jax.vmap(lorenz.rhs, (None, 0, 0))(0.0, xs, ps))
    vs = jax.random.normal(jax.random.PRNGKey(1), (7, 3))
    np.testing.assert_allclose(lorenz.jvp(0.0, xs, lorenz.p, vs), jnp.einsum("bij,bj->bi", looped, vs), rtol=1e-13)


def test_gradients_with_respect_to_parameters_match_finite_differences(lorenz):
    x = jnp.array([1.0, -2.0, 3.0])

    def loss(p):
        return jnp.sum(lorenz.rhs(0.0, x, p) ** 2) + jnp.sum(lorenz.jvp(0.0, x, p, x) ** 2)

    gradient = jax.grad(loss)(lorenz.p)
    step = 1e-6
    for i in range(3):
        e = jnp.zeros(3).at[i].set(step)
        finite = (loss(lorenz.p + e) - loss(lorenz.p - e)) / (2 * step)
        assert gradient[i] == pytest.approx(float(finite), rel=1e-7)


def test_jitted_functions_compile_once(lorenz, key):
    rhs = jax.jit(lorenz.rhs)
    xs = jax.random.normal(key, (3, 3))
    for x in xs:
        rhs(0.0, x, lorenz.p).block_until_ready()
    assert rhs._cache_size() == 1


def test_float32_stays_float32():
    low = symdyn.parse(LORENZ).lower(dtype=jnp.float32)
    assert low.p.dtype == jnp.float32 and low.x0.dtype == jnp.float32
    assert low.rhs(0.0, low.x0, low.p).dtype == jnp.float32
    assert low.jac(0.0, low.x0, low.p).dtype == jnp.float32
    constant = symdyn.parse(model_text("@variables x(t) = 1", "D(x) ~ 2")).lower(dtype=jnp.float32)
    assert constant.jac(0.0, constant.x0, constant.p).dtype == jnp.float32
    assert constant.rhs(0.0, jnp.ones((4, 1), jnp.float32), constant.p).shape == (4, 1)


def test_float64_needs_64_bit_jax():
    model = symdyn.parse(LORENZ)
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="jax_enable_x64"):
            model.lower(dtype=jnp.float64)
    with pytest.raises(ValueError, match="float32 or float64"):
        model.lower(dtype=jnp.int32)


def test_time_dependence_broadcasts_over_batches():
    low = symdyn.parse(model_text("@variables x(t) = 0", "D(x) ~ sin(t)")).lower()
    assert low.rhs(0.5, jnp.zeros((5, 1)), low.p).shape == (5, 1)
    np.testing.assert_allclose(low.rhs(0.5, jnp.zeros(1), low.p), [np.sin(0.5)])


def test_initial_state_follows_parameters():
    low = symdyn.load(EXAMPLES / "two_body.sdyn").lower(dtype=jnp.float64)
    eccentricities = jnp.array([[0.5], [0.7]])
    np.testing.assert_allclose(
        low.initial(eccentricities),
        [[0.5, 0, 0, np.sqrt(3)], [0.3, 0, 0, np.sqrt(1.7 / 0.3)]],
        rtol=1e-14,
    )


def test_missing_defaults_and_initial_values_give_none():
    low = symdyn.parse(model_text("@parameters k", "@variables x(t)", "D(x) ~ -k*x")).lower()
    assert low.p is None and low.x0 is None and low.initial is None


def test_unknowns_follow_parameters_in_p():
    low = symdyn.load(EXAMPLES / "lorenz_template.sdyn").lower(dtype=jnp.float64)
    assert low.parameter_names == ("a₁", "a₂", "a₃", "a₄", "a₅", "a₆", "a₇")
    np.testing.assert_array_equal(low.p, np.zeros(7))
    truth = jnp.array([-10, 10, 28, -1, -1, -8 / 3, 1.0])
    lorenz = symdyn.parse(LORENZ).lower(dtype=jnp.float64)
    x = jnp.array([0.3, -1.2, 2.5])
    np.testing.assert_allclose(low.rhs(0.0, x, truth), lorenz.rhs(0.0, x, lorenz.p), rtol=1e-14)


def test_observed_and_conserved_values():
    low = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower(dtype=jnp.float64)
    y = jnp.array([0.3, -0.4, 1.2])
    assert low.conserved_names == ("C", "H")
    np.testing.assert_allclose(
        low.conserved(0.0, y, low.p), [0.5 * (0.09 + 0.16 + 1.44), 0.5 * (0.09 / 1.6 + 0.16 + 1.44 * 1.5)], rtol=1e-14
    )


def test_generated_source_is_readable_and_self_contained(lorenz):
    source = lorenz.source
    assert "def rhs(_t, _x, _p):" in source and "def jvp(_t, _x, _p, _v):" in source
    assert "sigma = _p[..., 0]" in source
    assert "for " not in source[source.index("def rhs") :]  # straight-line code, entry by entry
    namespace: dict = {}
    exec(compile(source, "generated", "exec"), namespace)
    x = jnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(namespace["rhs"](0.0, x, lorenz.p), lorenz.rhs(0.0, x, lorenz.p))
