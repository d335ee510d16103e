"""Training neural ODEs: data, losses against closed forms and exact Jacobians, the loop's guarantees, evaluation."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import EXAMPLES

import symdyn
from symdyn.integrators import integrate
from symdyn.train import (
    MLP,
    AbstractField,
    Dataset,
    Hybrid,
    JacobianAD,
    JacobianFD,
    TrainingDiverged,
    Uniform,
    evaluate,
    generate,
    grid_search,
    load_field,
    save_field,
    train,
    trajectory_loss,
)

TWO_BODY = symdyn.load(EXAMPLES / "two_body.sdyn")
RIGID_BODY = symdyn.load(EXAMPLES / "rigid_body.sdyn")


@pytest.fixture(scope="module")
def two_body_data():
    return generate(
        TWO_BODY, {"e": Uniform(0.5, 0.7)}, trajectories=3, duration=0.6, dt=0.01, key=jax.random.PRNGKey(1)
    )


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


def test_generate_uses_the_seeds_initial_conditions(two_body_data):
    e = two_body_data.parameters[:, 0]
    assert np.all((e >= 0.5) & (e <= 0.7))
    x0 = two_body_data.states[:, 0]
    np.testing.assert_allclose(x0, np.stack([1 - e, 0 * e, 0 * e, np.sqrt((1 + e) / (1 - e))], axis=-1))
    step = np.asarray(integrate(TWO_BODY.lower(), x0[0], 0.0, 0.01, 60, p=two_body_data.parameters[0]))
    np.testing.assert_allclose(two_body_data.states[0], step, rtol=1e-12)


def test_rigid_body_draws_phi():
    data = generate(
        RIGID_BODY, {"φ": Uniform(0.5, 1.5)}, trajectories=4, duration=0.1, dt=0.01, key=jax.random.PRNGKey(0)
    )
    phi = data.parameters[:, data.parameter_names.index("φ")]
    np.testing.assert_allclose(data.states[:, 0], np.stack([np.cos(phi), 0 * phi, np.sin(phi)], axis=-1))
    np.testing.assert_allclose(data.parameters[:, :3], [[1.6, 1.0, 2 / 3]] * 4)


def test_chunks_are_non_overlapping_pieces_at_the_model_step(two_body_data):
    chunks = two_body_data.chunks(2, dt=0.02)
    per = 31 // 3  # 61 points at 0.01 -> 31 at 0.02 -> 10 chunks of 3
    assert chunks.states.shape == (3 * per, 3, 4) and chunks.p.shape == (3 * per, 1)
    np.testing.assert_allclose(chunks.states[1], two_body_data.states[0, 6:12:2])
    np.testing.assert_allclose(chunks.t[1], [0.06, 0.08, 0.10])
    with pytest.raises(ValueError, match="multiple of the data's step 0.01"):
        two_body_data.chunks(2, dt=0.015)
    with pytest.raises(ValueError, match="n_steps must be a positive int"):
        two_body_data.chunks(0)


def test_dataset_round_trip_and_simulate_files(tmp_path, two_body_data):
    two_body_data.save(tmp_path / "d.npz")
    back = Dataset.load(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.states, two_body_data.states)
    assert back.parameter_names == ("e",) and back.model_name == "TwoBody"
    assert not list(tmp_path.glob("*.partial*"))
    with pytest.raises(ValueError, match="not a trajectory file"):
        np.savez(tmp_path / "x.npz", a=np.ones(3))
        Dataset.load(tmp_path / "x.npz")


def test_generate_errors():
    with pytest.raises(ValueError, match="draws q, not a parameter of TwoBody"):
        generate(TWO_BODY, {"q": Uniform(0, 1)}, trajectories=2, duration=1, dt=0.1, key=jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="need finite low <= high"):
        Uniform(1.0, 0.0)


# --- losses -----------------------------------------------------------------------------------------------------


def test_trajectory_loss_vanishes_for_the_true_field(two_body_data):
    chunks = two_body_data.chunks(5)
    assert float(trajectory_loss(exact_field(TWO_BODY), chunks, 0.01, symdyn.integrators.Rk4())) < 1e-26


def test_hutchinson_estimate_matches_the_exact_jacobian_error(key):
    """Eq. 5: E‖(J_θ − J_F)v‖² = ‖J_θ − J_F‖²_F, for Gaussian and Rademacher probes (many directions, one point)."""
    field = MLP(("x", "y", "vx", "vy"), width=16, key=key)
    low = TWO_BODY.lower()
    x = jnp.array([[0.4, 0.1, 0.2, 1.8]])
    p = jnp.array([[0.6]])
    exact = float(jnp.sum((jax.jacfwd(lambda y: field(0.0, y))(x[0]) - low.jac(0.0, x[0], p[0])) ** 2))
    chunks = symdyn.train.Chunks(jnp.zeros((1, 1)), x[:, None], p)
    for distribution, tolerance in (("gaussian", 0.03), ("rademacher", 0.02)):
        reg = JacobianAD(TWO_BODY, 1.0, directions=20000, distribution=distribution)
        estimate = float(reg(field, chunks, 0.01, jax.random.PRNGKey(3)))
        assert estimate == pytest.approx(exact, rel=tolerance), distribution
    assert float(JacobianAD(TWO_BODY, 1.0)(exact_field(TWO_BODY), chunks, 0.01, key)) < 1e-20


def test_l_ad_uses_the_models_symbolic_jvp(key):
    """The true term is LoweredModel.jvp (generated from SymPy), equal to autodiff of the rhs."""
    low = TWO_BODY.lower()
    x, v, p = jnp.array([0.4, 0.1, 0.2, 1.8]), jnp.array([0.3, -1.0, 0.5, 2.0]), jnp.array([0.6])
    _, auto = jax.jvp(lambda y: low.rhs(0.0, y, p), (x,), (v,))
    np.testing.assert_allclose(low.jvp(0.0, x, p, v), auto, rtol=1e-13)


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
    assert value == pytest.approx(expected, rel=1e-10)
    assert fd(0.05)[0] / fd(0.1)[0] == pytest.approx(1 / 4, rel=0.05)
    with pytest.raises(ValueError, match="at least 2 steps"):
        JacobianFD(1.0)(
            field, symdyn.train.Chunks(jnp.zeros((1, 2)), jnp.zeros((1, 2, 2)), jnp.zeros((1, 0))), 0.1, None
        )


def test_regularizer_arguments_are_checked():
    with pytest.raises(ValueError, match="distribution must be one of gaussian, rademacher"):
        JacobianAD(TWO_BODY, 1.0, distribution="uniform")
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
        save_field(tmp_path / "f.eqx", field, rollout=2)
        back = load_field(tmp_path / "f.eqx")
        x = jnp.linspace(0.3, 1.0, len(field.state_names))
        np.testing.assert_array_equal(back(0.0, x), field(0.0, x))
    # a field keeps the precision it was trained in (the tests run under jax_enable_x64)
    single = jax.tree.map(lambda a: a.astype(jnp.float32) if eqx.is_inexact_array(a) else a, field)
    save_field(tmp_path / "f32.eqx", single)
    back = load_field(tmp_path / "f32.eqx")
    assert back.dtype == jnp.float32 and back(0.0, x.astype(jnp.float32)).dtype == jnp.float32
    (tmp_path / "bad.eqx").write_text("hello\n")
    with pytest.raises(ValueError, match="not a symdyn field or checkpoint file"):
        load_field(tmp_path / "bad.eqx")


# --- the training loop ----------------------------------------------------------------------------------------


def small_training(data, key, **options):
    field = MLP(data.state_names, width=16, key=jax.random.PRNGKey(5))
    settings = dict(rollout=2, epochs=3, key=key, batch_size=8, progress=False)
    return train(field, data, **(settings | options))


def test_training_is_deterministic_under_a_seed(two_body_data, key):
    reg = JacobianAD(TWO_BODY, 1e-3, directions=2)
    a = small_training(two_body_data, key, regularizer=reg, validation=two_body_data)
    b = small_training(two_body_data, key, regularizer=reg, validation=two_body_data)
    c = small_training(two_body_data, jax.random.PRNGKey(9), regularizer=reg, validation=two_body_data)
    np.testing.assert_array_equal(a.history, b.history)
    leaves = lambda r: jax.tree.leaves(eqx.filter(r.last_field, eqx.is_array))  # noqa: E731
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
    np.testing.assert_array_equal(load_field(path)(0.0, jnp.ones(4)), resumed.field(0.0, jnp.ones(4)))


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
    kept = load_field(path)
    assert np.all(np.isfinite(kept(0.0, jnp.ones(4))))
    assert symdyn.train._checkpoint.read_header(path)["epoch"] == 2


def test_grid_search_selects_on_validation(two_body_data, key):
    search = grid_search(
        MLP(two_body_data.state_names, width=16, key=key),
        two_body_data,
        JacobianFD(0.0),
        [1e-1, 1e-3],
        validation=two_body_data,
        rollout=2,
        epochs=2,
        key=key,
        batch_size=8,
        progress=False,
    )
    assert search.best_index == int(np.argmin(search.validation))
    assert search.best_weight in (1e-1, 1e-3) and "<- best" in search.table()


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
    assert report.offline_error < 1e-28 and report.jacobian_error < 1e-26
    assert report.conserved_names == ("L", "H") and np.max(report.conserved_error) < 1e-12
    assert report.diverged == 0


class _PlusAffine(AbstractField):
    """The true field plus A x + c: ε_θ and J_e are known in closed form."""

    state_names: tuple[str, ...] = eqx.field(static=True)
    true: Hybrid
    a: jax.Array
    c: jax.Array

    def __call__(self, t, x):
        return self.true(t, x) + self.a @ x + self.c

    @property
    def config(self) -> dict:
        return {}


def test_evaluation_errors_are_means_per_entry_as_in_the_seeds_table(two_body_data, key):
    a = jax.random.normal(key, (4, 4), jnp.float64) * 1e-3
    c = jnp.array([1e-3, -2e-3, 0.0, 3e-3])
    field = _PlusAffine(two_body_data.state_names, exact_field(TWO_BODY), a, c)
    report = evaluate(field, TWO_BODY, two_body_data)
    points = two_body_data.states.reshape(-1, 4)
    assert report.offline_error == pytest.approx(np.mean((points @ np.asarray(a).T + np.asarray(c)) ** 2), rel=1e-9)
    assert report.jacobian_error == pytest.approx(float(jnp.mean(a**2)), rel=1e-9)
    hutchinson = evaluate(field, TWO_BODY, two_body_data, jacobian="hutchinson", directions=512)
    assert hutchinson.jacobian_error == pytest.approx(report.jacobian_error, rel=0.05)
    drift = report.predicted - two_body_data.states
    assert report.trajectory_loss == pytest.approx(float(np.mean(drift**2)), rel=1e-9)


def test_diverged_counts_rollouts_that_leave_the_orbit(two_body_data):
    growing = _PlusAffine(two_body_data.state_names, exact_field(TWO_BODY), 10 * jnp.eye(4), jnp.zeros(4))
    report = evaluate(growing, TWO_BODY, two_body_data)
    assert np.all(report.final_error > 10) and report.diverged == 3
    assert evaluate(growing, TWO_BODY, two_body_data, diverged_above=1e6).diverged == 0
    with pytest.raises(ValueError, match="diverged_above must be a number > 0"):
        evaluate(growing, TWO_BODY, two_body_data, diverged_above=0)


def test_evaluation_jacobian_error_exact_and_hutchinson_agree(two_body_data, key):
    field = MLP(two_body_data.state_names, width=16, key=key)
    exact = evaluate(field, TWO_BODY, two_body_data, jacobian="exact")
    estimate = evaluate(field, TWO_BODY, two_body_data, jacobian="hutchinson", directions=256)
    assert estimate.jacobian_error == pytest.approx(exact.jacobian_error, rel=0.05)
    assert exact.offline_error == pytest.approx(estimate.offline_error)
    assert "hutchinson, 256 directions" in estimate.table()


# --- the commands -----------------------------------------------------------------------------------------------


def test_simulate_train_evaluate_from_the_command_line(tmp_path, capsys):
    from symdyn.cli import main

    model = str(EXAMPLES / "two_body.sdyn")
    for name, count, seed, t_end in (("train", 3, 1, 0.6), ("val", 2, 2, 0.6), ("test", 2, 3, 1.0)):
        args = ["simulate", model, "--t-end", str(t_end), "--dt", "0.01", "--trajectories", str(count)]
        assert main([*args, "--draw", "e=0.5:0.7", "--seed", str(seed), "-o", str(tmp_path / f"{name}.npz")]) == 0
    assert Dataset.load(tmp_path / "train.npz").states.shape == (3, 61, 4)
    common = ["--data", str(tmp_path / "train.npz"), "--epochs", "2", "--width", "16", "--quiet"]
    assert (
        main(
            [
                "train",
                model,
                *common,
                "--validation",
                str(tmp_path / "val.npz"),
                "--regularizer",
                "ad",
                "--weight",
                "1e-3",
                "1e-5",
                "--dt",
                "0.02",
                "-o",
                str(tmp_path / "ad.eqx"),
                "--plot",
                str(tmp_path / "loss.png"),
            ]
        )
        == 0
    )
    assert "<- best" in capsys.readouterr().out
    assert main(["train", *common, "--regularizer", "fd", "-o", str(tmp_path / "fd.eqx")]) == 0
    assert symdyn.train.read_field_metadata(tmp_path / "ad.eqx")["dt"] == pytest.approx(0.02)
    assert (
        main(
            [
                "evaluate",
                model,
                "--field",
                str(tmp_path / "ad.eqx"),
                str(tmp_path / "fd.eqx"),
                "--data",
                str(tmp_path / "test.npz"),
                "--plots",
                str(tmp_path / "plots"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ad: 2 rollouts to t = 1" in out and "jacobian_error" in out
    assert (tmp_path / "plots" / "rollouts.png").stat().st_size > 0
    assert (tmp_path / "plots" / "conserved.png").stat().st_size > 0 and (tmp_path / "loss.png").exists()


def test_command_line_errors_name_the_fault(tmp_path, capsys):
    from symdyn.cli import main

    model = str(EXAMPLES / "two_body.sdyn")
    generate(TWO_BODY, {"e": 0.6}, trajectories=1, duration=0.2, dt=0.01, key=jax.random.PRNGKey(0)).save(
        tmp_path / "d.npz"
    )
    base = ["train", "--data", str(tmp_path / "d.npz"), "-o", str(tmp_path / "f.eqx"), "--quiet"]
    assert main([*base, "--regularizer", "ad"]) == 2
    assert "--regularizer ad needs the true MODEL file" in capsys.readouterr().err
    assert main([*base, "--weight", "1e-3", "1e-4", "--regularizer", "fd"]) == 2
    assert "grid-searched on --validation" in capsys.readouterr().err
    assert (
        main(["simulate", model, "--t-end", "1", "--dt", "0.1", "--draw", "q=0:1", "-o", str(tmp_path / "x.npz")]) == 2
    )
    assert "--draw 'q=0:1': expected NAME=LOW:HIGH with NAME one of e" in capsys.readouterr().err
    assert main(["evaluate", model, "--field", str(tmp_path / "d.npz"), "--data", str(tmp_path / "d.npz")]) == 2
    assert "not a symdyn field or checkpoint file" in capsys.readouterr().err
