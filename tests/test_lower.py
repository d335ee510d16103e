"""Lowered JAX functions against hand-written references, autodiff of them and finite differences.

Every test but the finite-difference one runs at the tier's precision, to a few times the
round-off measured (`tight()`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import EXAMPLES, LORENZ, model_text, tolerance

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


def pendulum_rhs(x, length):
    return jnp.array([x[1], -9.81 / length * jnp.sin(x[0])])


def tight() -> float:
    """rtol for a lowered function against a hand-written one: round-off (4e-16 / 2.5e-7 measured)."""
    return tolerance(2e-15, 1e-6)


def check_against(low, reference, xs, p):
    """rhs, jac and jvp of `low` at the points xs against a hand-written rhs, `jax.jacfwd` and `jax.jvp` of it."""
    f = lambda y: reference(y, p)

    @jax.jit  # one compilation rather than one per operation
    def compare(xs, vs):
        expected = {
            "rhs": jax.vmap(f)(xs),
            "jac": jax.vmap(jax.jacfwd(f))(xs),
            "jvp": jax.vmap(lambda x, v: jax.jvp(f, (x,), (v,))[1])(xs, vs),
        }
        found = {"rhs": low.rhs(0.0, xs, low.p), "jac": low.jac(0.0, xs, low.p), "jvp": low.jvp(0.0, xs, low.p, vs)}
        return expected, found

    expected, found = compare(xs, jnp.cos(jnp.arange(xs.size, dtype=xs.dtype).reshape(xs.shape) + 1.0))  # no zeros
    for name, value in expected.items():
        atol = tight() * float(jnp.max(jnp.abs(value)))
        np.testing.assert_allclose(found[name], value, rtol=tight(), atol=atol, err_msg=f"{low.name} {name}")


@pytest.fixture
def lorenz():
    return symdyn.parse(LORENZ).lower()


def test_lorenz_against_hand_written_reference(lorenz, key):
    """rhs and jac against the hand-written ones; jvp against `jax.jvp` of the hand-written rhs."""
    points = jax.random.normal(key, (20, 3)) * 10
    np.testing.assert_allclose(lorenz.p, [10, 28, 8 / 3], rtol=tight())
    np.testing.assert_array_equal(lorenz.x0, [1, 1, 1])
    for x in points:
        np.testing.assert_allclose(lorenz.rhs(0.0, x, lorenz.p), lorenz_rhs(x, lorenz.p), rtol=tight())
        np.testing.assert_allclose(lorenz.jac(0.0, x, lorenz.p), lorenz_jac(x, lorenz.p), rtol=tight())
    check_against(lorenz, lorenz_rhs, points, lorenz.p)


def test_seed_systems_against_hand_written_references(key):
    """Two-body, rigid body and the (second-order) pendulum: rhs, jac and jvp against hand-written rhs."""
    two_body = symdyn.load(EXAMPLES / "two_body.sdyn").lower()
    rigid = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower()
    pendulum = symdyn.load(EXAMPLES / "pendulum.sdyn").lower()
    inertia = jnp.array([1.6, 1.0, 2 / 3])
    xs = jax.random.normal(key, (10, 4)) + 2.0
    check_against(two_body, lambda y, p: two_body_rhs(y), xs, two_body.p)
    check_against(rigid, rigid_body_rhs, xs[:, :3], inertia)
    check_against(pendulum, pendulum_rhs, xs[:, :2], 1.0)


def test_batches_broadcast_and_vmap_agree(lorenz, key):
    """Batched rhs, jac and jvp against `vmap` of the hand-written rhs and of `jax.jacfwd` of it."""
    xs = jax.random.normal(key, (7, 3))
    ps = lorenz.p * jnp.linspace(0.5, 1.5, 7)[:, None]
    vs = jax.random.normal(jax.random.PRNGKey(1), (7, 3))
    expected_jac = jax.vmap(jax.jacfwd(lorenz_rhs), (0, None))(xs, lorenz.p)
    np.testing.assert_allclose(lorenz.jac(0.0, xs, lorenz.p), expected_jac, rtol=tight())
    np.testing.assert_allclose(jax.vmap(lorenz.jac, (None, 0, None))(0.0, xs, lorenz.p), expected_jac, rtol=tight())
    expected_rhs = jax.vmap(lorenz_rhs)(xs, ps)
    np.testing.assert_allclose(lorenz.rhs(0.0, xs, ps), expected_rhs, rtol=tight(), atol=tight())
    expected_jvp = jnp.einsum("bij,bj->bi", expected_jac, vs)
    np.testing.assert_allclose(lorenz.jvp(0.0, xs, lorenz.p, vs), expected_jvp, rtol=tight(), atol=tight() * 30)


@pytest.mark.float64
def test_gradients_with_respect_to_parameters_match_finite_differences(lorenz):
    x = jnp.array([1.0, -2.0, 3.0])

    def loss(p):
        return jnp.sum(lorenz.rhs(0.0, x, p) ** 2) + jnp.sum(lorenz.jvp(0.0, x, p, x) ** 2)

    gradient = jax.grad(loss)(lorenz.p)
    step = 1e-6
    for i in range(3):
        e = jnp.zeros(3).at[i].set(step)
        finite = (loss(lorenz.p + e) - loss(lorenz.p - e)) / (2 * step)
        assert gradient[i] == pytest.approx(float(finite), rel=3e-9)  # round-off of the difference: 8e-10


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
    """An rhs of t alone, at one time and over a batch of states, against sin(t)."""
    low = symdyn.parse(model_text("@variables x(t) = 0", "D(x) ~ sin(t)")).lower()
    np.testing.assert_allclose(low.rhs(0.5, jnp.zeros((5, 1)), low.p), np.full((5, 1), np.sin(0.5)), rtol=tight())
    np.testing.assert_allclose(low.rhs(0.5, jnp.zeros(1), low.p), [np.sin(0.5)], rtol=tight())
    times = jnp.linspace(0.0, 1.0, 5)  # a time per batch entry
    np.testing.assert_allclose(low.rhs(times, jnp.zeros((5, 1)), low.p), np.sin(times)[:, None], rtol=tight())


def test_initial_state_follows_parameters():
    low = symdyn.load(EXAMPLES / "two_body.sdyn").lower()
    eccentricities = jnp.array([[0.5], [0.7]])
    np.testing.assert_allclose(
        low.initial(eccentricities),
        [[0.5, 0, 0, np.sqrt(3)], [0.3, 0, 0, np.sqrt(1.7 / 0.3)]],
        rtol=tight(),
    )


def test_missing_defaults_and_initial_values_give_none():
    low = symdyn.parse(model_text("@parameters k", "@variables x(t)", "D(x) ~ -k*x")).lower()
    assert low.p is None and low.x0 is None and low.initial is None


def test_unknowns_follow_parameters_in_p():
    """The template at the Lorenz coefficients is the hand-written Lorenz rhs."""
    low = symdyn.load(EXAMPLES / "lorenz_template.sdyn").lower()
    assert low.parameter_names == ("a₁", "a₂", "a₃", "a₄", "a₅", "a₆", "a₇")
    np.testing.assert_array_equal(low.p, np.zeros(7))
    truth = jnp.array([-10, 10, 28, -1, -1, -8 / 3, 1.0])
    x = jnp.array([0.3, -1.2, 2.5])
    np.testing.assert_allclose(low.rhs(0.0, x, truth), lorenz_rhs(x, jnp.array([10, 28, 8 / 3])), rtol=tight())


def test_observed_and_conserved_values():
    low = symdyn.load(EXAMPLES / "rigid_body.sdyn").lower()
    y = jnp.array([0.3, -0.4, 1.2])
    assert low.conserved_names == ("C", "H")
    np.testing.assert_allclose(
        low.conserved(0.0, y, low.p), [0.5 * (0.09 + 0.16 + 1.44), 0.5 * (0.09 / 1.6 + 0.16 + 1.44 * 1.5)], rtol=tight()
    )
    oscillator = symdyn.load(EXAMPLES / "damped_oscillator.sdyn").lower()
    np.testing.assert_allclose(oscillator.observed(0.0, jnp.array([3.0, -4.0]), oscillator.p), [5.0], rtol=tight())


def test_generated_source_is_readable_and_self_contained(lorenz):
    """The printed source, run on its own, gives the hand-written rhs, jac and (by `jax.jvp`) jvp."""
    source = lorenz.source
    assert "def rhs(_t, _x, _p):" in source and "def jvp(_t, _x, _p, _v):" in source
    assert "sigma = _p[..., 0]" in source
    assert "for " not in source[source.index("def rhs") :]  # straight-line code, entry by entry
    namespace: dict = {}
    exec(compile(source, "generated", "exec"), namespace)
    x, v = jnp.array([1.0, 2.0, 3.0]), jnp.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(namespace["rhs"](0.0, x, lorenz.p), lorenz_rhs(x, lorenz.p), rtol=tight())
    np.testing.assert_allclose(namespace["jac"](0.0, x, lorenz.p), lorenz_jac(x, lorenz.p), rtol=tight())
    _, along = jax.jvp(lambda y: lorenz_rhs(y, lorenz.p), (x,), (v,))
    np.testing.assert_allclose(namespace["jvp"](0.0, x, lorenz.p, v), along, rtol=tight())
