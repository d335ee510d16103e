"""Training neural ODEs: data, losses against closed forms and exact Jacobians, the loop's guarantees, evaluation."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import re
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import EXAMPLES, tolerance, x64

import symdyn
from symdyn.data import Trajectories, Uniform, generate
from symdyn.train import (
    HISTORY,
    MLP,
    AbstractNetwork,
    Hybrid,
    JacobianAD,
    JacobianFD,
    TrainingDiverged,
    evaluate,
    grid_search,
    load_network,
    read_network_metadata,
    save_network,
    train,
    trajectory_loss,
)
from symdyn.train._checkpoint import read_header

TWO_BODY = symdyn.load(EXAMPLES / "two_body.sdyn")
RIGID_BODY = symdyn.load(EXAMPLES / "rigid_body.sdyn")


@pytest.fixture(scope="module")
def two_body_data():
    return generate(
        TWO_BODY, parameters={"e": Uniform(0.5, 0.7)}, samples=3, duration=0.6, dt=0.01, key=jax.random.PRNGKey(1)
    )


@pytest.fixture(scope="module")
def held_out():
    """Validation trajectories, from other draws than the training data."""
    return generate(
        TWO_BODY, parameters={"e": Uniform(0.5, 0.7)}, samples=2, duration=0.6, dt=0.01, key=jax.random.PRNGKey(2)
    )


def same_arrays(a, b) -> bool:
    """Whether two fields (or any pytrees) hold bit-identical arrays."""
    leaves = [jax.tree.leaves(eqx.filter(tree, eqx.is_array)) for tree in (a, b)]
    return len(leaves[0]) == len(leaves[1]) and all(np.array_equal(u, v) for u, v in zip(*leaves))


def assert_same_arrays(a, b) -> None:
    """That two fields (or any pytrees) hold bit-identical arrays; a failure shows the first leaf that differs."""
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for i, (u, v) in enumerate(zip(*(jax.tree.leaves(eqx.filter(tree, eqx.is_array)) for tree in (a, b)))):
        np.testing.assert_array_equal(u, v, err_msg=f"array {i} of the field")


def exact_field(model: symdyn.Model) -> Hybrid:
    """A hybrid field whose network outputs zero: exactly the model."""
    field = Hybrid(model, key=jax.random.PRNGKey(0))
    last = field.network.network.layers[-1]
    return eqx.tree_at(
        lambda f: (f.network.network.layers[-1].weight, f.network.network.layers[-1].bias),
        field,
        (jnp.zeros_like(last.weight), jnp.zeros_like(last.bias)),
    )


# --- data -------------------------------------------------------------------------------------------------------


def test_rigid_body_draws_phi():
    data = generate(
        RIGID_BODY, parameters={"φ": Uniform(0.5, 1.5)}, samples=4, duration=0.1, dt=0.01, key=jax.random.PRNGKey(0)
    )
    phi = data.parameters[:, data.parameter_names.index("φ")]
    np.testing.assert_allclose(data.states[:, 0], np.stack([np.cos(phi), 0 * phi, np.sin(phi)], axis=-1))
    np.testing.assert_allclose(data.parameters[:, :3], [[1.6, 1.0, 2 / 3]] * 4)


def test_generate_errors():
    with pytest.raises(ValueError, match="draws q, not a parameter of TwoBody"):
        generate(TWO_BODY, parameters={"q": Uniform(0, 1)}, samples=2, duration=1, dt=0.1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="need finite low <= high"):
        Uniform(1.0, 0.0)


# --- losses -----------------------------------------------------------------------------------------------------


def test_trajectory_loss_vanishes_for_the_true_field(two_body_data):
    chunks = two_body_data.chunks(5)
    loss = float(trajectory_loss(exact_field(TWO_BODY), chunks, 0.01, symdyn.integrators.Rk4()))
    assert loss < tolerance(float64=1e-26, float32=1e-14)  # float32: 3.2e-16, a few ulps


def test_hutchinson_estimate_matches_the_exact_jacobian_error(key):
    """Eq. 5: E‖(J_θ − J_F)v‖² = ‖J_θ − J_F‖²_F, for Gaussian and Rademacher probes (many directions, one point)."""
    field = MLP(("x", "y", "vx", "vy"), width=16, key=key)
    low = TWO_BODY.lower()
    x = jnp.array([[0.4, 0.1, 0.2, 1.8]])
    p = jnp.array([[0.6]])
    exact = float(jnp.sum((jax.jacfwd(lambda y: field(0.0, y))(x[0]) - low.jac(0.0, x[0], p[0])) ** 2))
    chunks = symdyn.train.Chunks(jnp.zeros((1, 1)), x[:, None], p)
    for distribution, rel in (("gaussian", 0.03), ("rademacher", 0.02)):
        reg = JacobianAD(TWO_BODY, 1.0, directions=20000, distribution=distribution, jacobian="hutchinson")
        estimate = float(reg(field, chunks, 0.01, jax.random.PRNGKey(3)))
        assert estimate == pytest.approx(exact, rel=rel), distribution
    penalty = float(JacobianAD(TWO_BODY, 1.0)(exact_field(TWO_BODY), chunks, 0.01, key))
    assert penalty < tolerance(float64=1e-20, float32=1e-11)  # float32: 9.6e-13


@pytest.mark.float64
def test_exact_l_ad_is_the_frobenius_error_of_the_jacobians_jacfwd_forms(two_body_data, key):
    """Where the state has no more entries than probes (two-body: 4 ≤ 10) L_AD forms the Jacobians: the mean over
    the points of ‖J_θ − J_F‖²_F, both from `jax.jacfwd` here, to 1e-10; Hutchinson's on request."""
    field = MLP(("x", "y", "vx", "vy"), width=16, key=key)
    low = TWO_BODY.lower()
    chunks = jax.tree.map(lambda a: a[:6], two_body_data.chunks(2, dtype=jnp.float64))
    x, t = chunks.states.reshape(-1, 4), chunks.t.reshape(-1)
    p = jnp.repeat(chunks.p, 3, axis=0)

    def error(t, x, p):
        difference = jax.jacfwd(lambda y: field(t, y))(x) - jax.jacfwd(lambda y: low.rhs(t, y, p))(x)
        return jnp.sum(difference**2)

    expected = float(jnp.mean(jax.vmap(error)(t, x, p)))
    reg = JacobianAD(TWO_BODY, 1.0)
    assert (reg.jacobian, JacobianAD(TWO_BODY, 1.0, directions=3).jacobian) == ("exact", "hutchinson")
    assert float(reg(field, chunks, 0.01, key)) == pytest.approx(expected, rel=1e-10)
    hutchinson = JacobianAD(TWO_BODY, 1.0, jacobian="hutchinson")(field, chunks, 0.01, key)
    assert 0.5 * expected < float(hutchinson) < 2 * expected and float(hutchinson) != expected
    forced = JacobianAD(TWO_BODY, 1.0, directions=2, jacobian="exact")(field, chunks, 0.01, key)
    assert float(forced) == pytest.approx(expected, rel=1e-10)


def test_l_ad_uses_the_models_symbolic_jvp(key):
    """The true term is LoweredModel.jvp (generated from SymPy), equal to autodiff of the rhs."""
    low = TWO_BODY.lower()
    x, v, p = jnp.array([0.4, 0.1, 0.2, 1.8]), jnp.array([0.3, -1.0, 0.5, 2.0]), jnp.array([0.6])
    _, auto = jax.jvp(lambda y: low.rhs(0.0, y, p), (x,), (v,))
    np.testing.assert_allclose(low.jvp(0.0, x, p, v), auto, rtol=tolerance(float64=1e-13, float32=1e-6))  # 1.1e-7


def test_l_fd_is_the_directional_jacobian_error_along_the_trajectory():
    """For F(x) = Ax and exact data x_i = e^{iΔt A}x₀, eq. 8 has a closed form; the true field's L_FD → 0 as O(Δt²)."""
    model = symdyn.parse("model Rot\n @variables x(t) = 1  y(t) = 0\n D(x) ~ y\n D(y) ~ -x\nend\n")
    field = exact_field(model)

    def fd(dt):
        t = dt * np.arange(3)
        states = np.stack([np.cos(t), -np.sin(t)], axis=-1)[None]
        chunks = symdyn.train.Chunks(jnp.asarray(t[None]), jnp.asarray(states), jnp.zeros((1, 0)))
        return float(JacobianFD(1.0)(field, chunks, dt, None)), states[0]

    value, x = fd(0.1)
    f = lambda s: np.array([s[1], -s[0]])  # noqa: E731
    expected = np.sum((f(x[1]) - f(x[0]) - (x[2] - 2 * x[1] + x[0]) / 0.1) ** 2) / np.sum((x[1] - x[0]) ** 2)
    assert value == pytest.approx(expected, rel=tolerance(float64=1e-10, float32=1e-4))  # float32: 3.2e-5
    assert fd(0.05)[0] / fd(0.1)[0] == pytest.approx(1 / 4, rel=0.05)
    with pytest.raises(ValueError, match="at least 2 steps"):
        JacobianFD(1.0)(
            field, symdyn.train.Chunks(jnp.zeros((1, 2)), jnp.zeros((1, 2, 2)), jnp.zeros((1, 0))), 0.1, None
        )


def test_regularizer_arguments_are_checked():
    with pytest.raises(ValueError, match="distribution must be one of gaussian, rademacher"):
        JacobianAD(TWO_BODY, 1.0, distribution="uniform")
    with pytest.raises(ValueError, match="jacobian must be one of auto, exact, hutchinson, not 'dense'"):
        JacobianAD(TWO_BODY, 1.0, jacobian="dense")
    with pytest.raises(ValueError, match="weight must be a number >= 0"):
        JacobianFD(-1.0)


# --- fields -----------------------------------------------------------------------------------------------------


def test_mlp_is_the_seeds_network(key):
    field = MLP(("a", "b", "c"), key=key)
    shapes = [layer.weight.shape for layer in field.network.layers]
    assert shapes == [(200, 3), (200, 200), (3, 200)]
    assert field.network.activation is jax.nn.relu


def test_hybrid_learns_only_the_named_states(key):
    field = Hybrid(TWO_BODY, learned=("vx", "vy"), key=key)
    x = jnp.array([0.4, 0.1, 0.2, 1.8])
    np.testing.assert_allclose(field(0.0, x)[:2], x[2:])
    grads = eqx.filter_grad(lambda f: jnp.sum(f(0.0, x) ** 2))(field)
    assert float(jnp.abs(grads.known.p).sum()) == 0.0
    with pytest.raises(ValueError, match="learned must name states of TwoBody"):
        Hybrid(TWO_BODY, learned=("z",), key=key)


def test_fields_save_and_load(tmp_path, key):
    for field in (MLP(("x", "y"), width=8, key=key), Hybrid(TWO_BODY, learned=("vx",), width=8, key=key)):
        save_network(tmp_path / "f.eqx", field, rollout=2)
        back = load_network(tmp_path / "f.eqx")
        x = jnp.linspace(0.3, 1.0, len(field.state_names))
        np.testing.assert_array_equal(back(0.0, x), field(0.0, x))
    # a field keeps the precision it was trained in, also read back under jax_enable_x64 (as `evaluate --x64` does)
    jax.config.update("jax_enable_x64", True)
    single = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, field)
    save_network(tmp_path / "f32.eqx", single)
    back = load_network(tmp_path / "f32.eqx")
    assert back.dtype == jnp.float32 and back(0.0, x.astype(jnp.float32)).dtype == jnp.float32
    (tmp_path / "bad.eqx").write_text("hello\n")
    with pytest.raises(ValueError, match="not a symdyn network or checkpoint file"):
        load_network(tmp_path / "bad.eqx")


# --- the training loop ----------------------------------------------------------------------------------------


def small_training(data, key, **options):
    field = MLP(data.names, width=16, key=jax.random.PRNGKey(5))
    settings = dict(rollout=2, epochs=3, key=key, batch_size=8, progress=False)
    return train(field, data, **(settings | options))


@pytest.mark.exhaustive
def test_training_is_deterministic_under_a_seed(two_body_data, key):
    reg = JacobianAD(TWO_BODY, 1e-3, directions=2)
    a = small_training(two_body_data, key, regularizer=reg, validation=two_body_data)
    b = small_training(two_body_data, key, regularizer=reg, validation=two_body_data)
    c = small_training(two_body_data, jax.random.PRNGKey(9), regularizer=reg, validation=two_body_data)
    np.testing.assert_array_equal(a.history, b.history)
    leaves = lambda r: jax.tree.leaves(eqx.filter(r.last_network, eqx.is_array))  # noqa: E731
    assert all(np.array_equal(u, v) for u, v in zip(leaves(a), leaves(b)))
    assert not np.array_equal(a.history, c.history)
    assert np.all(np.isfinite(a.history)) and a.history[-1, 1] < a.history[0, 1]
    assert a.best_validation == np.min(a.history[:, 3])


def test_an_epoch_compiles_once(two_body_data, key):
    from symdyn.train import _train

    before = _train._epoch._cached._cache_size()
    small_training(two_body_data, key, epochs=7)  # the state after an epoch has the types of the first
    assert _train._epoch._cached._cache_size() == before + 1
    small_training(two_body_data, jax.random.PRNGKey(1), epochs=7, regularizer=JacobianFD(1e-3))
    small_training(two_body_data, jax.random.PRNGKey(1), epochs=7, regularizer=JacobianFD(1e-5))  # λ is data
    assert _train._epoch._cached._cache_size() == before + 2


def test_resume_gives_the_uninterrupted_result(tmp_path, two_body_data, key, monkeypatch):
    from symdyn.train import _train

    whole = small_training(two_body_data, key, epochs=4, regularizer=JacobianFD(1e-3))
    epoch = _train._epoch

    def interrupted(state, *args):
        if int(state.epoch) == 3:
            raise KeyboardInterrupt
        return epoch(state, *args)

    monkeypatch.setattr(_train, "_epoch", interrupted)
    path = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        small_training(two_body_data, key, epochs=4, regularizer=JacobianFD(1e-3), checkpoint=path, checkpoint_every=2)
    monkeypatch.setattr(_train, "_epoch", epoch)
    resumed = small_training(two_body_data, key, epochs=4, regularizer=JacobianFD(1e-3), checkpoint=path, resume=True)
    np.testing.assert_array_equal(resumed.history, whole.history)
    with pytest.raises(ValueError, match=r"written by another training \(regularizer 'L_FD' -> None"):
        small_training(two_body_data, key, epochs=4, checkpoint=path, resume=True)
    np.testing.assert_array_equal(load_network(path)(0.0, jnp.ones(4)), resumed.network(0.0, jnp.ones(4)))


def nan_after(steps: int) -> optax.GradientTransformation:
    """Adam that starts returning NaN updates after `steps` steps."""
    adam = optax.adam(1e-3)

    def update(grads, state, params=None):
        updates, inner = adam.update(grads, state, params)
        poison = jnp.where(inner[0].count > steps, jnp.nan, 1.0)
        return jax.tree.map(lambda u: u * poison, updates), inner

    return optax.GradientTransformation(adam.init, update)


def test_nan_stops_with_a_message_and_keeps_the_last_good_state(tmp_path, two_body_data, key):
    path = tmp_path / "run.ckpt"
    per_epoch = two_body_data.chunks(2).states.shape[0] // 8
    with pytest.raises(TrainingDiverged, match=r"epoch 3: the training loss is nan .*after epoch 2 is in .*run.ckpt"):
        small_training(two_body_data, key, epochs=5, optimizer=nan_after(2 * per_epoch + 1), checkpoint=path)
    kept = load_network(path)
    assert np.all(np.isfinite(kept(0.0, jnp.ones(4))))
    assert read_header(path)["epoch"] == 2


def test_grid_search_trains_each_weight_and_selects_on_validation(two_body_data, held_out, key):
    """Each λ trains with that weight (its loss column is trajectory + λ·penalty, and the runs differ); each
    validation loss is its field's trajectory loss on the validation chunks; the best is the lowest of those, and
    its field equals a separate `train` at that λ from the same start and key up to round-off (the weights train
    side by side, one compiled epoch mapped over them)."""
    start = MLP(two_body_data.names, width=16, key=jax.random.PRNGKey(5))
    options = dict(validation=held_out, rollout=2, epochs=3, key=key, batch_size=8, progress=False)
    weights = (1.0, 1e-4)  # λ = 1 over-regularizes: the best is not the first
    search = grid_search(start, two_body_data, JacobianFD(0.0), weights, **options)
    for weight, result in zip(weights, search.results):
        loss, trajectory, penalty, _ = result.history.T
        # float64: 3e-16, float32: 9e-8
        np.testing.assert_allclose(loss, trajectory + weight * penalty, rtol=tolerance(float64=1e-14, float32=1e-6))
    first, second = (result.history[:, 1] for result in search.results)
    assert np.all(np.abs(first - second) > 1e-3 * second)  # trajectory losses 0.1-2% apart
    chunks = held_out.chunks(2)
    own = np.array([float(trajectory_loss(r.network, chunks, 0.01, symdyn.integrators.Rk4())) for r in search.results])
    np.testing.assert_allclose(search.validation, own, rtol=tolerance(float64=1e-13, float32=2e-6))  # 2e-16, 2.4e-7
    assert own[1] < 0.99 * own[0]  # 3-4% apart
    assert search.best_index == 1 and search.best_weight == 1e-4 and search.best is search.results[1]
    rows = [row.split() for row in search.table().splitlines()[1:]]
    assert [(float(row[0]), row[-1] == "best") for row in rows] == [(1.0, False), (1e-4, True)]
    alone = train(start, two_body_data, regularizer=JacobianFD(search.best_weight), **options)
    rtol = tolerance(float64=1e-12, float32=2e-6)  # measured 1.3e-16, 2.2e-7
    for u, v in zip(*(jax.tree.leaves(eqx.filter(r.network, eqx.is_array)) for r in (alone, search.best))):
        np.testing.assert_allclose(v, u, rtol=rtol, atol=rtol * float(np.max(np.abs(u))))
    np.testing.assert_allclose(search.best.history, alone.history, rtol=rtol)


def test_training_arguments_are_checked(two_body_data, key):
    with pytest.raises(ValueError, match="data has states"):
        train(MLP(("a", "b"), key=key), two_body_data, rollout=2, epochs=1, key=key)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        small_training(two_body_data, key, epochs=0)
    with pytest.raises(ValueError, match="resume=True needs a checkpoint"):
        small_training(two_body_data, key, resume=True)


# --- evaluation -------------------------------------------------------------------------------------------------


def test_evaluating_the_true_field_gives_zero_errors(two_body_data):
    report = evaluate(exact_field(TWO_BODY), TWO_BODY, two_body_data)
    assert report.relative_error.shape == (3, 61)
    assert np.max(report.relative_error) < 1e-13
    assert report.offline_error < 1e-28
    assert report.jacobian_error < tolerance(float64=1e-26, float32=1e-11)  # float64: 1.2e-30, float32: 6.3e-13
    assert report.conserved_names == ("L", "H") and np.max(report.conserved_error) < 1e-12
    assert report.diverged == 0


class _PlusAffine(AbstractNetwork):
    """The true field plus A x + c: ε_θ and J_e are known in closed form."""

    kind = "plus-affine"
    state_names: tuple[str, ...] = eqx.field(static=True)
    true: Hybrid
    a: jax.Array
    c: jax.Array
    grid: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, state_names, true, a, c):
        self.state_names, self.true, self.a, self.c, self.grid = state_names, true, a, c, ()

    def __call__(self, t, x):
        return self.true(t, x) + self.a @ x + self.c

    @property
    def config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        raise NotImplementedError("evaluated in memory only")


def test_evaluation_errors_are_means_per_entry_as_in_the_seeds_table(two_body_data, key):
    a = jax.random.normal(key, (4, 4)) * 1e-3
    c = jnp.array([1e-3, -2e-3, 0.0, 3e-3])
    field = _PlusAffine(two_body_data.names, exact_field(TWO_BODY), a, c)
    report = evaluate(field, TWO_BODY, two_body_data)
    points = two_body_data.states.reshape(-1, 4).astype(np.float64)
    a64, c64 = np.asarray(a, np.float64), np.asarray(c, np.float64)
    # float32 (J_θ − J_F is a 1e-3 difference of O(1) entries): ε_θ 1.7e-6, J_e 2.4e-5 off; float64: 4e-14
    rel = tolerance(float64=1e-9, float32=1e-5)
    assert report.offline_error == pytest.approx(np.mean((points @ a64.T + c64) ** 2), rel=rel)
    assert report.jacobian_error == pytest.approx(np.mean(a64**2), rel=tolerance(float64=1e-9, float32=2e-4))
    hutchinson = evaluate(field, TWO_BODY, two_body_data, jacobian="hutchinson", directions=512)
    assert hutchinson.jacobian_error == pytest.approx(report.jacobian_error, rel=0.05)
    drift = report.predicted - two_body_data.states
    assert report.trajectory_loss == pytest.approx(float(np.mean(drift.astype(np.float64) ** 2)), rel=rel)


def test_diverged_counts_rollouts_that_leave_the_orbit(two_body_data):
    growing = _PlusAffine(two_body_data.names, exact_field(TWO_BODY), 10 * jnp.eye(4), jnp.zeros(4))
    report = evaluate(growing, TWO_BODY, two_body_data)
    assert np.all(report.final_error > 10) and report.diverged == 3
    assert evaluate(growing, TWO_BODY, two_body_data, diverged_above=1e6).diverged == 0
    with pytest.raises(ValueError, match="diverged_above must be a number > 0"):
        evaluate(growing, TWO_BODY, two_body_data, diverged_above=0)


def test_evaluation_estimates_j_e_by_hutchinson_above_the_exact_limit(two_body_data, key, monkeypatch):
    """jacobian="auto" forms the Jacobians up to EXACT_JACOBIAN_LIMIT states and above it uses the Hutchinson estimate,
    which agrees with the exact J_e given many directions (the limit is lowered here rather than the state raised)."""
    from symdyn.train import _evaluate

    field = MLP(two_body_data.names, width=16, key=key)
    monkeypatch.setattr(_evaluate, "EXACT_JACOBIAN_LIMIT", 4)
    exact = evaluate(field, TWO_BODY, two_body_data)
    monkeypatch.setattr(_evaluate, "EXACT_JACOBIAN_LIMIT", 3)
    estimate = evaluate(field, TWO_BODY, two_body_data, directions=256)
    assert exact.jacobian_estimate == "exact" and estimate.jacobian_estimate == "hutchinson, 256 directions"
    assert estimate.jacobian_error != exact.jacobian_error
    assert estimate.jacobian_error == pytest.approx(exact.jacobian_error, rel=0.05)
    assert exact.offline_error == pytest.approx(estimate.offline_error)
    assert "hutchinson, 256 directions" in estimate.table()


# --- the commands -----------------------------------------------------------------------------------------------


MODEL_FILE = EXAMPLES / "two_body.sdyn"


def cli(*args) -> tuple[int, str]:
    """`symdyn ARGS` as its own process would run it: the exit code and what it printed. Afterwards JAX is back at
    the precision the test runs in (`simulate` and `--x64` switch the process to float64)."""
    from symdyn.cli import main

    precision = x64()
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            code = main([str(arg) for arg in args])
    finally:
        jax.config.update("jax_enable_x64", precision)
    return code, printed.getvalue()


def command_keys(seed: int) -> tuple[jax.Array, jax.Array]:
    """The keys `symdyn train --seed` derives: the initial weights', then the training's."""
    weights_key, train_key = jax.random.split(jax.random.PRNGKey(seed))
    return weights_key, train_key


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, two_body_data, held_out):
    """simulate → train → evaluate as a user runs them: simulated training data (validation and test files from the
    fixtures); an L_AD grid search with its loss plot (ad.eqx); a hybrid field trained with L_FD (hybrid.eqx); both
    evaluated under labels, with plots; ad.eqx evaluated alone in float64 into metrics.npz, with a divergence
    threshold between its two lowest final errors as Python's `evaluate` (`expected`, float64) finds them. What the
    commands printed and handed to the plots is kept."""
    import symdyn.plot

    folder = tmp_path_factory.mktemp("pipeline")
    held_out.save(folder / "val.npz")
    two_body_data.save(folder / "test.npz")
    printed, plotted = {}, {}

    def keep(name, plot):
        def wrapper(*args, **kwargs):
            plotted[name] = args
            return plot(*args, **kwargs)

        return wrapper

    with pytest.MonkeyPatch.context() as patch:
        for name in ("plot_training", "plot_rollouts"):
            patch.setattr(symdyn.plot, name, keep(name, getattr(symdyn.plot, name)))
        draws = ["--t-end", 0.6, "--dt", 0.01, "--trajectories", 3, "--draw", "e=0.5:0.7", "--seed", 4]
        assert cli("simulate", MODEL_FILE, *draws, "-o", folder / "train.npz")[0] == 0
        common = ["--data", folder / "train.npz", "--width", 8, "--quiet"]
        ad = ["--regularizer", "ad", "--weight", 1e-3, 1e-5, "--dt", 0.02, "--epochs", 4, "--batch-size", 10]
        ad += ["--learning-rate", 1e-2]
        code, printed["ad"] = cli(
            "train", MODEL_FILE, *common, *ad, "--validation", folder / "val.npz", "-o", folder / "ad.eqx",
            "--plot", folder / "loss.png",
        )  # fmt: skip
        assert code == 0
        hybrid = ["--known", MODEL_FILE, "--learn", "vx", "vy", "--regularizer", "fd", "--weight", 1e-3, "--epochs", 2]
        code, printed["hybrid"] = cli("train", *common, *hybrid, "-o", folder / "hybrid.eqx")
        assert code == 0
        code, printed["evaluate"] = cli(
            "evaluate", MODEL_FILE, "--network", folder / "hybrid.eqx", folder / "ad.eqx", "--label", "hybrid-fd",
            "mlp-ad", "--data", folder / "test.npz", "--plots", folder / "plots",
        )  # fmt: skip
        assert code == 0
    precision = x64()
    jax.config.update("jax_enable_x64", True)
    expected = evaluate(load_network(folder / "ad.eqx"), TWO_BODY, two_body_data, dt=0.02)
    jax.config.update("jax_enable_x64", precision)
    low, high = np.sort(expected.final_error)[:2]
    assert low < 0.97 * high  # 1.25 and 1.49 (float64 tier), 1.13 and 1.23 (float32): far more than rounding apart
    threshold = float(low + high) / 2
    code, printed["metrics"] = cli(
        "evaluate", MODEL_FILE, "--network", folder / "ad.eqx", "--data", folder / "test.npz", "--diverged-above",
        repr(threshold), "--x64", "-o", folder / "metrics.npz",
    )  # fmt: skip
    assert code == 0
    return SimpleNamespace(folder=folder, printed=printed, plotted=plotted, expected=expected, threshold=threshold)


@pytest.mark.xdist_group("pipeline")  # one worker builds the module fixture, once
def test_simulate_train_evaluate_from_the_command_line(pipeline):
    """The training loss fell over the epochs (the history `train --plot` drew); the printed best λ and validation
    loss are the saved field's; the metrics `evaluate --x64 -o` wrote are float64, and are `symdyn.train.evaluate`
    of the same field file and data in float64."""
    folder = pipeline.folder
    assert Trajectories.load(folder / "train.npz").states.shape == (3, 61, 4)
    metadata = read_network_metadata(folder / "ad.eqx")
    out = pipeline.printed["ad"].splitlines()
    assert [float(row.split()[0]) for row in out if row.endswith("<- best")] == [metadata["weight"]]
    history, columns, path = pipeline.plotted["plot_training"][:3]
    assert tuple(columns) == HISTORY and path == str(folder / "loss.png") and (folder / "loss.png").stat().st_size
    loss, trajectory, penalty, validation = np.asarray(history).T
    np.testing.assert_allclose(loss, trajectory + metadata["weight"] * penalty, rtol=tolerance(1e-14, 1e-6))
    # the penalty's random directions make the loss noisy; the trajectory losses fall at every epoch, by 11% (float64)
    # and 21% (float32) in all
    assert np.all(np.diff(trajectory) < 0) and trajectory[-1] < 0.95 * trajectory[0]
    assert np.all(np.diff(validation) < 0)
    best = metadata["best_epoch"]
    assert validation[best - 1] == np.min(validation)
    chunks = Trajectories.load(folder / "val.npz").chunks(2, dt=0.02)
    own = float(trajectory_loss(load_network(folder / "ad.eqx"), chunks, 0.02, symdyn.integrators.Rk4()))
    [summary] = [row for row in out if row.startswith("trained 4 epochs in ")]
    assert f"; epoch {best}: " in summary
    numbers = dict(re.findall(r"(\w+) ([-+.\deE]+)", summary.split(";")[1]))
    assert float(numbers["validation"]) == pytest.approx(own, rel=6e-4)  # printed to 4 digits: at most 5e-4 off
    expected = dataclasses.replace(pipeline.expected, diverged_above=pipeline.threshold)
    with np.load(folder / "metrics.npz") as saved:
        assert saved["relative_error"].dtype == np.float64
        for name, value in expected.summary().items():
            assert float(saved[name]) == pytest.approx(value, rel=1e-12), name
        for name in ("relative_error", "t"):
            np.testing.assert_allclose(saved[name], getattr(expected, name), rtol=1e-12)
        assert expected.conserved_names and all(expected.conserved_relative)
        for i, name in enumerate(expected.conserved_names):
            np.testing.assert_allclose(
                saved[f"conserved_{name}_relative_error"], expected.conserved_error[..., i], rtol=1e-12
            )


@pytest.mark.xdist_group("pipeline")  # one worker builds the module fixture, once
def test_evaluate_diverged_above_counts_the_final_errors_beyond_it(pipeline):
    """The three test rollouts end at known final errors (Python's `evaluate`); with the threshold between the two
    lowest, two count as diverged; with the default of 10, above all three, none."""
    errors = np.sort(pipeline.expected.final_error)
    assert errors[0] < pipeline.threshold < errors[1] and errors[2] < 10
    with np.load(pipeline.folder / "metrics.npz") as saved:
        assert int(saved["diverged"]) == 2
    assert re.search(r"^diverged +2$", pipeline.printed["metrics"], re.MULTILINE)
    assert pipeline.plotted["plot_rollouts"][0]["mlp-ad"].diverged == 0


@pytest.mark.xdist_group("pipeline")  # one worker builds the module fixture, once
def test_evaluate_labels_name_the_fields_in_order(pipeline, capsys):
    """`--label` names the fields in the order given: in the printed tables, and in what the plots (and so their
    legends) are handed, each label with its own field's evaluation (ad.eqx was trained at Δt 0.02, hybrid.eqx at
    0.01). A label short is an error."""
    evaluations = pipeline.plotted["plot_rollouts"][0]
    assert list(evaluations) == ["hybrid-fd", "mlp-ad"]
    assert len(evaluations["hybrid-fd"].t) == 61 and len(evaluations["mlp-ad"].t) == 31
    # the float64 `expected`: equal in float64, 2.8e-7 off in float32; the hybrid's are 79-97% off
    rtol = tolerance(float64=1e-12, float32=3e-6)
    np.testing.assert_allclose(evaluations["mlp-ad"].relative_error, pipeline.expected.relative_error, rtol=rtol)
    out = pipeline.printed["evaluate"]
    assert 0 <= out.index("hybrid-fd: 3 rollouts to t = 0.6") < out.index("mlp-ad: 3 rollouts to t = 0.6")
    # one table, a column per network in the order given (it was a table per network)
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "hybrid-fd", "mlp-ad"] and out.count("metric") == 1
    row = next(line for line in out.splitlines() if line.startswith("jacobian_error")).split()[1:]
    expected = [f"{evaluations[label].jacobian_error:.4g}" for label in ("hybrid-fd", "mlp-ad")]
    assert row == expected
    plots = pipeline.folder / "plots"
    assert (plots / "rollouts.png").stat().st_size > 0 and (plots / "conserved.png").stat().st_size > 0
    fields = [pipeline.folder / "ad.eqx", pipeline.folder / "hybrid.eqx"]
    code, _ = cli(
        "evaluate", MODEL_FILE, "--network", *fields, "--label", "one", "--data", pipeline.folder / "test.npz"
    )
    assert code == 2 and "1 --label values for 2 --network files" in capsys.readouterr().err


@pytest.mark.xdist_group("pipeline")  # one worker builds the module fixture, once
def test_train_known_learn_fits_a_hybrid_whose_known_states_follow_the_model(pipeline):
    """`--known MODEL --learn vx vy` trains a hybrid field: ẋ and ẏ are the model's (vx, vy) exactly, v̇ is the
    model's plus the network, and training moved the network from its initial weights."""
    field = load_network(pipeline.folder / "hybrid.eqx")
    assert isinstance(field, Hybrid) and field.learned == ("vx", "vy")
    x = jnp.asarray(Trajectories.load(pipeline.folder / "train.npz").states.reshape(-1, 4), field.dtype)
    f = jax.vmap(lambda y: field(0.0, y))(x)
    np.testing.assert_array_equal(f[:, :2], x[:, 2:])
    low = TWO_BODY.lower()
    true = jax.vmap(lambda y: low.rhs(0.0, y, low.p))(x)
    network = jax.vmap(lambda y: field.network(0.0, y))(x)
    assert np.min(np.abs(network)) > 0.01  # 0.16 (float64), 0.19 (float32)
    np.testing.assert_allclose(f[:, 2:], true[:, 2:] + network, rtol=tolerance(1e-14, 1e-6))  # 1.1e-16, 9.9e-8
    initial = Hybrid(TWO_BODY, learned=("vx", "vy"), width=8, key=command_keys(0)[0]).network
    assert jax.tree.structure(initial) == jax.tree.structure(field.network) and not same_arrays(initial, field.network)


# every training option away from its default (without validation data the field is the last epoch's)
OPTIONS = (
    "--regularizer", "ad", "--weight", 0.1, "--directions", 3, "--distribution", "rademacher", "--width", 8,
    "--depth", 1, "--batch-size", 4, "--learning-rate", 1e-2, "--seed", 7, "--epochs", 3, "--x64",
)  # fmt: skip


def test_train_options_reach_the_training(two_body_data, tmp_path):
    """The field `symdyn train` saves with OPTIONS is float64 and bit for bit Python's `train` with those settings:
    L_AD with 3 Rademacher directions, one hidden layer, minibatches of 4, Adam at 1e-2, seed 7, in float64 (each
    default gives another field: other probes, another network, other minibatches, other steps; in the float32
    tier, float32 weights)."""
    two_body_data.save(tmp_path / "train.npz")
    args = ["--data", tmp_path / "train.npz", *OPTIONS, "-o", tmp_path / "f.eqx", "--quiet"]
    assert cli("train", MODEL_FILE, *args)[0] == 0
    jax.config.update("jax_enable_x64", True)
    assert read_header(tmp_path / "f.eqx")["network"]["dtype"] == "float64"
    field = load_network(tmp_path / "f.eqx")
    assert field.dtype == jnp.float64
    assert [layer.weight.shape for layer in field.network.layers] == [(8, 4), (4, 8)]  # --depth 1: two linear layers
    weights_key, train_key = command_keys(7)
    expected = train(
        MLP(two_body_data.names, width=8, depth=1, key=weights_key),
        two_body_data,
        rollout=2,
        epochs=3,
        key=train_key,
        regularizer=JacobianAD(TWO_BODY, 0.1, directions=3, distribution="rademacher"),
        batch_size=4,
        optimizer=optax.adam(1e-2),
        progress=False,
    )
    assert_same_arrays(field, expected.network)


RESUMABLE = ("--regularizer", "fd", "--weight", 1e-3, "--width", 8, "--epochs", 3, "--batch-size", 20)


def test_train_resume_continues_a_stopped_run_to_the_uninterrupted_result(two_body_data, tmp_path, monkeypatch, capsys):
    """A run stopped by a NaN at epoch 2 keeps the state after epoch 1 in --checkpoint; rerun with --resume it trains
    epochs 2 and 3 only, and saves the uninterrupted run's field, bit for bit."""
    from symdyn.train import _train

    # the command builds optax.adam(lr) on each run, so each compiles its epoch anew; built once, the runs share one
    monkeypatch.setattr(optax, "adam", functools.cache(optax.adam))
    two_body_data.save(tmp_path / "train.npz")
    args = ["train", "--data", tmp_path / "train.npz", *RESUMABLE, "--quiet"]
    assert cli(*args, "-o", tmp_path / "whole.eqx")[0] == 0
    epoch, ran, poison = _train._epoch, [], [True]

    def counted(state, *args):
        state = epoch(state, *args)
        ran.append(int(state.epoch))
        if poison[0] and int(state.epoch) == 2:
            return eqx.tree_at(lambda s: s.history, state, state.history.at[1, 0].set(jnp.nan))
        return state

    monkeypatch.setattr(_train, "_epoch", counted)
    args += ["--checkpoint", tmp_path / "run.ckpt", "-o", tmp_path / "field.eqx"]
    assert cli(*args)[0] == 1
    assert "epoch 2: the training loss is nan" in capsys.readouterr().err and ran == [1, 2]
    assert read_header(tmp_path / "run.ckpt")["epoch"] == 1
    ran.clear()
    poison[0] = False
    assert cli(*args, "--resume")[0] == 0
    assert ran == [2, 3]
    assert_same_arrays(load_network(tmp_path / "field.eqx"), load_network(tmp_path / "whole.eqx"))


def test_command_line_errors_name_the_fault(tmp_path, capsys):
    from symdyn.cli import main

    model = str(EXAMPLES / "two_body.sdyn")
    generate(TWO_BODY, parameters={"e": 0.6}, duration=0.2, dt=0.01, key=jax.random.PRNGKey(0)).save(tmp_path / "d.npz")
    base = ["train", "--data", str(tmp_path / "d.npz"), "-o", str(tmp_path / "f.eqx"), "--quiet"]
    assert main([*base, "--regularizer", "ad"]) == 2
    assert "--regularizer ad needs the true MODEL file" in capsys.readouterr().err
    assert main([*base, "--weight", "1e-3", "1e-4", "--regularizer", "fd"]) == 2
    assert "grid-searched on --validation" in capsys.readouterr().err
    assert (
        main(["simulate", model, "--t-end", "1", "--dt", "0.1", "--draw", "q=0:1", "-o", str(tmp_path / "x.npz")]) == 2
    )
    assert "--draw 'q=0:1': expected NAME=LOW:HIGH with NAME one of e" in capsys.readouterr().err
    assert main(["evaluate", model, "--network", str(tmp_path / "d.npz"), "--data", str(tmp_path / "d.npz")]) == 2
    assert "not a symdyn network or checkpoint file" in capsys.readouterr().err


def test_train_on_data_without_parameters_and_from_csv(tmp_path):
    """A model with no @parameters: simulate, then train, works (numpy's reshape of an empty array failed); a CSV
    with a header `t,x,y` trains as the same single trajectory does."""
    rotation = tmp_path / "np.sdyn"
    rotation.write_text("model Rot\n    @variables x(t) = 1  y(t) = 0\n    D(x) ~ y\n    D(y) ~ -x\nend\n")
    assert cli("simulate", rotation, "--t-end", "2", "--dt", "0.05", "-o", tmp_path / "np.npz")[0] == 0
    base = ["--rollout", "2", "--epochs", "2", "--width", "8", "--seed", "3", "--quiet"]
    assert cli("train", "--data", tmp_path / "np.npz", *base, "-o", tmp_path / "a.eqx")[0] == 0
    data = Trajectories.load(tmp_path / "np.npz")
    assert data.parameters.shape == (1, 0)
    np.savetxt(tmp_path / "np.csv", np.column_stack([data.t, data.states[0]]), delimiter=",", header="t,x,y",
               comments="", fmt="%.17g")  # fmt: skip
    assert cli("train", "--data", tmp_path / "np.csv", *base, "-o", tmp_path / "b.eqx")[0] == 0
    assert_same_arrays(load_network(tmp_path / "a.eqx"), load_network(tmp_path / "b.eqx"))
