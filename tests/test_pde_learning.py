"""Learning on PDE grids: the regularizers, networks, training and evaluation on fields `(n_fields, *grid)`,
checked against dense Jacobians, `jax.jvp` of the lowered right-hand side, and the same computation on
the flattened state."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import EXAMPLES, tolerance

import symdyn
from symdyn.cli import main
from symdyn.data import SumOfSines, Trajectories, generate
from symdyn.train import (
    MLP,
    AbstractNetwork,
    Hybrid,
    JacobianAD,
    JacobianFD,
    PeriodicCNN,
    evaluate,
    load_network,
    save_network,
    train,
    trajectory_loss,
)

KS = """model KS
    @domain x ∈ Periodic(0, 22; points = 16)
    @variables u(t, x) = cos(2π*x/22)
    @conserved mass = ∫(u, x)
    D(u) ~ -u*∂x(u) - ∂x^2(u) - ∂x^4(u)
end
"""


@pytest.fixture(scope="module")
def ks():
    return symdyn.parse(KS)


@pytest.fixture(scope="module")
def ks_data(ks):
    initial = SumOfSines(terms=3, wavenumbers=(1, 2))
    return generate(ks, duration=1.0, dt=0.05, key=jax.random.PRNGKey(0), samples=4, initial=initial, progress=False)


class _InMemory(AbstractNetwork):
    """A test network that is evaluated in memory only, never saved."""

    @property
    def config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError


class _Flat(_InMemory):
    """A grid network seen as an ODE network on the flattened state, for comparing the two."""

    kind = "flat"
    inner: AbstractNetwork
    state_names: tuple[str, ...] = eqx.field(static=True)
    grid: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, inner):
        self.inner, self.grid = inner, ()
        self.state_names = tuple(f"e{i}" for i in range(int(np.prod(inner.state_shape))))

    def __call__(self, t, x):
        return self.inner(t, x.reshape(self.inner.state_shape)).ravel()


@pytest.mark.exhaustive  # the fast tier checks Hutchinson's estimate on ODEs (tests/test_train.py)
def test_l_ad_on_a_grid_is_hutchinsons_estimate_of_the_dense_jacobian_error(ks, ks_data):
    """The penalty with many probes against ‖J_θ − J_F‖²_F from `jax.jacfwd` and the dense exact Jacobian."""
    low = ks.lower()
    network = MLP(("u",), grid=(16,), width=32, key=jax.random.PRNGKey(1))
    chunks = ks_data.chunks(2, dtype=jnp.result_type(float))
    one = jax.tree.map(lambda a: a[:1], chunks)
    estimate = JacobianAD(low, 1.0, directions=4000, distribution="rademacher", jacobian="hutchinson")(
        network, one, 0.05, jax.random.PRNGKey(2)
    )

    def dense(t, x):
        learned = jax.jacfwd(lambda y: network(t, y))(x).reshape(16, 16)
        return jnp.sum((learned - low.jac(t, x, low.p).reshape(16, 16)) ** 2)

    # measured: 0.35 % off with 4000 Rademacher probes
    np.testing.assert_allclose(estimate, np.mean(jax.vmap(dense)(one.t[0], one.states[0])), rtol=0.02)


@pytest.mark.float64
def test_l_ad_uses_the_exact_operator_jvp(ks, ks_data):
    """The product L_AD compares with is `jax.jvp` of the lowered rhs to 1e-10."""
    low = ks.lower()
    x = jnp.asarray(ks_data.states[0, 3])
    v = jax.random.normal(jax.random.PRNGKey(3), x.shape)
    exact = low.jvp(0.0, x, low.p, v)
    auto = jax.jvp(lambda y: low.rhs(0.0, y, low.p), (x,), (v,))[1]
    np.testing.assert_allclose(exact, auto, atol=1e-10 * float(jnp.max(jnp.abs(auto))))
    # and a network equal to the model has no penalty
    exact_network = Hybrid(ks, key=jax.random.PRNGKey(0), width=4)
    exact_network = eqx.tree_at(lambda h: h.network, exact_network, _Zero(exact_network.network))
    chunks = ks_data.chunks(2, dtype=jnp.float64)
    assert JacobianAD(ks, 1.0)(exact_network, chunks, 0.05, jax.random.PRNGKey(4)) < 1e-20


class _Zero(_InMemory):
    kind = "zero"
    inner: AbstractNetwork

    @property
    def state_names(self):
        return self.inner.state_names

    @property
    def grid(self):
        return self.inner.grid

    def __call__(self, t, x):
        return jnp.zeros((self.inner.outputs, *self.grid), x.dtype)


@pytest.mark.exhaustive
def test_grid_losses_equal_the_flattened_states(ks, ks_data):
    """Trajectory loss, L_AD and L_FD on (1, 16) fields equal the same on the flattened (16,) states."""
    dtype = jnp.result_type(float)
    chunks = ks_data.chunks(2, dtype=dtype)
    flat = chunks._replace(states=chunks.states.reshape(*chunks.states.shape[:2], -1))
    network = MLP(("u",), grid=(16,), width=32, key=jax.random.PRNGKey(1))
    integrator = symdyn.integrators.get("rk4")
    key = jax.random.PRNGKey(5)
    low = ks.lower()

    class FlatModel(eqx.Module):  # the model on flattened states, for L_AD
        def jvp(self, t, x, p, v):
            return low.jvp(t, x.reshape(1, 16), p, v.reshape(1, 16)).ravel()

    flat_ad = eqx.tree_at(lambda r: r.model, JacobianAD(low, 1.0), FlatModel())
    rtol = tolerance(1e-12, 1e-5)
    pairs = [
        (trajectory_loss(network, chunks, 0.05, integrator), trajectory_loss(_Flat(network), flat, 0.05, integrator)),
        (JacobianAD(low, 1.0)(network, chunks, 0.05, key), flat_ad(_Flat(network), flat, 0.05, key)),
        (JacobianFD(1.0)(network, chunks, 0.05, key), JacobianFD(1.0)(_Flat(network), flat, 0.05, key)),
    ]
    for grid_value, flat_value in pairs:
        assert float(grid_value) > 0
        np.testing.assert_allclose(grid_value, flat_value, rtol=rtol)


@pytest.mark.exhaustive
def test_the_periodic_cnn_commutes_with_shifts():
    network = PeriodicCNN(("u", "v"), grid=(16,), width=8, key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 16))
    np.testing.assert_allclose(network(0.0, jnp.roll(x, 3, axis=-1)), jnp.roll(network(0.0, x), 3, axis=-1), atol=1e-5)
    square = PeriodicCNN(("u",), grid=(8, 8), width=4, depth=1, key=jax.random.PRNGKey(0))
    y = jax.random.normal(jax.random.PRNGKey(2), (1, 8, 8))
    shifted = jnp.roll(y, (2, 5), axis=(-2, -1))
    np.testing.assert_allclose(square(0.0, shifted), jnp.roll(square(0.0, y), (2, 5), axis=(-2, -1)), atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda ks: MLP(("u",), grid=(16,), width=8, key=jax.random.PRNGKey(0)),
        pytest.param(
            lambda ks: PeriodicCNN(("u",), grid=(16,), width=4, key=jax.random.PRNGKey(0)),
            marks=pytest.mark.exhaustive,
        ),
        pytest.param(
            lambda ks: Hybrid(ks, network="cnn", width=4, depth=1, key=jax.random.PRNGKey(0)),
            marks=pytest.mark.exhaustive,
        ),
    ],
    ids=["mlp", "cnn", "hybrid cnn"],
)
def test_grid_networks_train_and_read_back(tmp_path, ks, ks_data, make):
    network = make(ks)
    trained = train(
        network,
        ks_data,
        rollout=2,
        epochs=30,
        key=jax.random.PRNGKey(1),
        regularizer=JacobianAD(ks, 1e-6, directions=2),
        progress=False,
    )
    assert trained.history[-1, 1] < 0.75 * trained.history[0, 1]  # the trajectory loss; cnn measured: 0.59×
    save_network(tmp_path / "net.eqx", trained.network)
    back = load_network(tmp_path / "net.eqx")
    assert type(back) is type(network) and back.state_shape == (1, 16)
    x = jnp.asarray(ks_data.states[0, 0])
    np.testing.assert_array_equal(back(0.0, x), trained.network(0.0, x))


def test_training_refuses_data_of_another_grid(ks_data):
    with pytest.raises(ValueError, match=r"data has states of shape \(1, 16\); the network takes \(1, 32\)"):
        train(
            MLP(("u",), grid=(32,), key=jax.random.PRNGKey(0)), ks_data, rollout=2, epochs=1, key=jax.random.PRNGKey(0)
        )


class _PlusScaled(_InMemory):
    """The true field plus a·u + c: ε_θ = mean((a u + c)²) and J_e = a²/n in closed form."""

    kind = "plus-scaled"
    true: AbstractNetwork
    a: float
    c: float

    @property
    def state_names(self):
        return self.true.state_names

    @property
    def grid(self):
        return self.true.grid

    def __call__(self, t, x):
        return self.true(t, x) + self.a * x + self.c


def test_evaluation_on_a_grid_has_the_closed_form_errors(ks, ks_data):
    exact = Hybrid(ks, key=jax.random.PRNGKey(0), width=4)
    exact = eqx.tree_at(lambda h: h.network, exact, _Zero(exact.network))
    a, c = 1e-3, 2e-3
    network = _PlusScaled(exact, a, c)
    report = evaluate(network, ks, ks_data, jacobian="hutchinson", directions=400)
    assert report.predicted.shape == ks_data.states.shape
    states = np.asarray(ks_data.states)
    # ε_θ over the test points (the network is evaluated on the data, not on its rollout)
    np.testing.assert_allclose(report.offline_error, np.mean((a * states + c) ** 2), rtol=tolerance(1e-9, 1e-4))
    np.testing.assert_allclose(report.jacobian_error, a**2 / 16, rtol=0.05)  # Hutchinson, 400 probes: 1 % measured
    exact_j = evaluate(network, ks, ks_data, jacobian="exact")
    # float32 measured: 1.5e-4 (a² = 1e-6 against Jacobian entries of order 10)
    np.testing.assert_allclose(exact_j.jacobian_error, a**2 / 16, rtol=tolerance(1e-9, 1e-3))
    # KS mass of zero-mean sines is zero: compared absolutely, and the model itself keeps it to round-off
    assert report.conserved_relative == (False,)
    truth_report = evaluate(exact, ks, ks_data, jacobian="exact")
    assert np.max(truth_report.conserved_error) < tolerance(1e-12, 1e-5)
    # rk4 rollouts of the data made by etdrk4 at the same step: 1.6e-8 measured
    assert np.max(truth_report.relative_error) < tolerance(1e-7, 1e-4)
    # c adds c·22 of mass per unit time: the absolute error grows like 22·c·t
    drift = report.conserved_error[:, :, 0]
    np.testing.assert_allclose(drift[:, -1], 22 * c * (report.t[-1] - report.t[0]), rtol=0.2)


@pytest.mark.exhaustive
def test_the_cli_chain_on_a_pde_model_file(tmp_path, capsys):
    """simulate → train (L_AD, cnn) → evaluate with metrics and the space-time plot, on a 32-point KS file."""
    model = tmp_path / "ks.sdyn"
    model.write_text(
        (EXAMPLES / "kuramoto_sivashinsky.sdyn").read_text(encoding="utf-8").replace("points = 256", "points = 32"),
        encoding="utf-8",
    )
    common = ["--t-end", "1", "--dt", "0.2", "--initial-field", "sines", "--trajectories", "3"]
    assert main(["simulate", str(model), *common, "-o", str(tmp_path / "train.npz")]) == 0
    assert main(["simulate", str(model), *common, "--seed", "1", "-o", str(tmp_path / "test.npz")]) == 0
    net = tmp_path / "net.eqx"
    assert (
        main(
            [
                "train",
                str(model),
                "--data",
                str(tmp_path / "train.npz"),
                "--regularizer",
                "ad",
                "--weight",
                "1e-3",
                "--architecture",
                "cnn",
                "--width",
                "4",
                "--epochs",
                "5",
                "--quiet",
                "-o",
                str(net),
            ]
        )
        == 0
    )
    assert isinstance(load_network(net), PeriodicCNN)
    metrics, plots = tmp_path / "metrics.npz", tmp_path / "plots"
    assert (
        main(
            [
                "evaluate",
                str(model),
                "--network",
                str(net),
                "--data",
                str(tmp_path / "test.npz"),
                "-o",
                str(metrics),
                "--plots",
                str(plots),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "space_time.png" in out
    saved = np.load(metrics)
    report = evaluate(load_network(net), symdyn.load(model), Trajectories.load(tmp_path / "test.npz"))
    np.testing.assert_allclose(saved["jacobian_error"], report.jacobian_error, rtol=1e-5)
    assert str(saved["jacobian_estimate"]) == "exact"  # 32 entries: at most EXACT_JACOBIAN_LIMIT
    assert saved["relative_error"].shape == (3, 6)
    assert (plots / "space_time.png").stat().st_size > 10_000
