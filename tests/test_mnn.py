"""Mechanistic networks: the S-MNN layer, encoders and forecasters, forecasting windows and metrics, `symdyn mnn`."""

from __future__ import annotations

import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from conftest import tolerance

from symdyn.data import Trajectories
from symdyn.smnn import (
    DenseLeastSquares,
    DenseMNN,
    DirectForecaster,
    LinearDecoder,
    MechanisticForecaster,
    MechanisticLayer,
    MLPEncoder,
    ResNet1D,
    forecaster_from_config,
    mechanistic_forecaster,
)
from symdyn.train import (
    forecast,
    load_forecaster,
    nmse,
    persistence,
    save_forecaster,
    score_forecaster,
    train_forecaster,
)

# --- the layer ------------------------------------------------------------------------------------------------


def test_layer_solves_the_ode_its_features_describe():
    """y' + y = 0, y(0) = 1 from features c_0 = 1, d = 0: the solution is e^{-t}."""
    layer = MechanisticLayer(1, 101, step=0.01)
    assert layer.parts == {"c": (101, 1, 1, 1), "d": (101, 1), "u": (1, 1, 0), "s": (0,)}
    features = jnp.concatenate([jnp.ones((2, 101)), jnp.zeros((2, 101))], axis=1)
    y = layer(features, jnp.array([[1.0], [2.0]]))
    t = np.linspace(0, 1, 101)
    np.testing.assert_allclose(y[:, :, 0, 0], np.array([1.0, 2.0])[:, None] * np.exp(-t), atol=tolerance(1e-4, 1e-4))
    np.testing.assert_allclose(y[:, :, 0, 1], -y[:, :, 0, 0], atol=tolerance(1e-4, 1e-4))


def test_layer_predicts_what_is_not_fixed():
    free = MechanisticLayer(2, 5, leading=None, given_value=False)
    assert free.parts == {"c": (5, 1, 1, 3), "d": (5, 1), "u": (1, 1, 2), "s": (4,)} and free.size == 26
    y = free(jax.random.normal(jax.random.PRNGKey(0), (3, 26)))
    assert y.shape == (3, 5, 1, 3)
    with pytest.raises(ValueError, match=r"features have shape \(3, 25\); expected \(B, 26\)"):
        free(jnp.zeros((3, 25)))
    with pytest.raises(ValueError, match="exactly when the layer has given_value=True"):
        MechanisticLayer(2, 5)(jnp.zeros((3, 20)))
    assert MechanisticLayer.from_config(free.config) == free


@pytest.mark.float64
@pytest.mark.exhaustive  # the solver's own gradients are checked against the dense solve in tests/test_smnn.py
def test_layer_gradients_match_the_dense_solver_path():
    """The S-MNN layer (block solver, analytic backward) and the same layer on the dense least squares agree in
    value and in the gradients of a loss with respect to the features and the given values."""
    key = jax.random.PRNGKey(3)
    value = jax.random.normal(jax.random.PRNGKey(4), (6, 1))

    def loss(layer, features, value):
        y = layer(features, value)
        return jnp.sum(jnp.sin(y[..., 0]) + y[..., 1] ** 2)

    smnn = MechanisticLayer(2, 12, step=None)
    dense = MechanisticLayer(2, 12, step=None, solver=DenseLeastSquares())
    features = 0.3 * jax.random.normal(key, (6, smnn.size))
    a = jax.value_and_grad(loss, argnums=(1, 2))(smnn, features, value)
    b = jax.value_and_grad(loss, argnums=(1, 2))(dense, features, value)
    np.testing.assert_allclose(a[0], b[0], rtol=1e-10)
    for x, y in zip(a[1], b[1]):
        np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-10)


@pytest.mark.exhaustive
@pytest.mark.float64
def test_forecaster_parameter_gradients_match_the_dense_solver_path():
    key = jax.random.PRNGKey(0)
    net = mechanistic_forecaster("resnet1d", context=3, horizon=4, fields=1, step=0.2, width=4, blocks=1, key=key)
    dense = eqx.tree_at(lambda n: n.layer.solver, net, DenseLeastSquares())
    x = jax.random.normal(key, (2, 3, 1, 16))

    def loss(n):
        return jnp.mean(n(x) ** 2)

    a, b = eqx.filter_grad(loss)(net), eqx.filter_grad(loss)(dense)
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(u, v, rtol=1e-7, atol=1e-12)


# --- encoders and forecasters ---------------------------------------------------------------------------------


@pytest.mark.exhaustive
def test_encoders_give_features_per_field_and_point(key):
    assert ResNet1D(5, 2, 7, width=4, blocks=1, key=key)(jnp.zeros((5, 2, 16))).shape == (2, 16, 7)
    assert MLPEncoder(5, 3, 7, width=8, key=key)(jnp.zeros((5, 3))).shape == (3, 7)
    assert MLPEncoder(5, 1, 7, grid=(6,), width=8, key=key)(jnp.zeros((5, 1, 6))).shape == (1, 6, 7)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ResNet1D(5, 2, 7, kernel_size=4, key=key)


def test_resnet_is_periodic_in_space(key):
    """Shifting the context along the periodic axis shifts the features."""
    encoder = ResNet1D(3, 1, 2, width=4, blocks=2, key=key)
    x = jax.random.normal(key, (3, 1, 16))
    np.testing.assert_allclose(encoder(jnp.roll(x, 5, -1)), jnp.roll(encoder(x), 5, 1), atol=tolerance(1e-12, 1e-5))


@pytest.mark.exhaustive
def test_forecasters_start_from_the_last_frame(key):
    """With zero features, the mechanistic forecast is the last frame held (y'' = 0, y'_0 = 0); the direct one too."""
    layer = MechanisticLayer(2, 4, step=0.2)
    zero = lambda tree: jax.tree.map(jnp.zeros_like, tree)  # noqa: E731
    mnn = MechanisticForecaster(zero(ResNet1D(3, 1, layer.size, width=4, blocks=1, key=key)), layer, LinearDecoder(2))
    direct = DirectForecaster(zero(ResNet1D(3, 1, 3, width=4, blocks=1, key=key)))
    x = jax.random.normal(key, (2, 3, 1, 8))
    for net in (mnn, direct):
        assert (net.context, net.horizon) == (3, 3)
        np.testing.assert_allclose(net(x), jnp.broadcast_to(x[:, -1:], (2, 3, 1, 8)), atol=tolerance(1e-9, 1e-5))
        assert forecaster_from_config(net.config).config == net.config


def test_mlp_forecaster_on_ode_states(key):
    net = mechanistic_forecaster("mlp", context=4, horizon=3, fields=2, step=0.1, solver=DenseMNN(), key=key)
    assert net(jnp.ones((5, 4, 2))).shape == (5, 3, 2)
    assert forecaster_from_config(net.config).config == net.config


# --- windows, metrics and training ----------------------------------------------------------------------------


def waves(samples: int = 4, frames: int = 24, points: int = 16, seed: int = 0) -> Trajectories:
    """Travelling sine waves on a periodic grid: u(t, x) = a sin(x − t) + b cos(2x + t)."""
    rng = np.random.default_rng(seed)
    t, x = np.arange(frames) * 0.25, np.linspace(0, 2 * np.pi, points, endpoint=False)
    a, b = rng.uniform(0.5, 1.5, (2, samples, 1, 1))
    u = a * np.sin(x - t[:, None]) + b * np.cos(2 * x + t[:, None])
    return Trajectories(t, u[:, :, None], ("u",), np.zeros((samples, 0)), (), (x,), ("x",))


def test_windows_cut_context_and_future():
    data = waves(samples=2, frames=10)
    windows = data.windows(3, 2, stride=2)
    assert windows.context.shape == (2 * 3, 3, 1, 16) and windows.future.shape == (6, 2, 1, 16)
    np.testing.assert_allclose(windows.context[1], data.states[0, 2:5])
    np.testing.assert_allclose(windows.future[1], data.states[0, 5:7])
    assert data.windows(3, 2).context.shape[0] == 2 * 2  # no overlap by default
    assert data.windows(3, 7, stride=100).context.shape[0] == 2
    with pytest.raises(ValueError, match="a window of 3 \\+ 8 frames is longer than the 10"):
        data.windows(3, 8)


def test_nmse_is_the_seeds_eq_17_and_persistence_repeats_the_last_frame():
    truth = jnp.stack([jnp.ones((2, 4)), 2 * jnp.ones((2, 4))], axis=1)  # (B=2, F=2, 4)
    guess = truth.at[:, 1].set(1.0)
    # frame 1 exact; frame 2: Σ(2 − 1)² / Σ1² = 1 by the prediction, 1/4 by the truth; mean over frames
    assert nmse(truth, guess) == pytest.approx(0.5)
    assert nmse(truth, guess, by="truth") == pytest.approx(0.125)
    np.testing.assert_array_equal(persistence(truth, 3), jnp.repeat(truth[:, 1:], 3, axis=1))


def test_forecast_rolls_forward_past_the_horizon(key):
    """A direct forecaster whose increments are zero holds the last frame for any number of frames."""
    net = DirectForecaster(jax.tree.map(jnp.zeros_like, ResNet1D(3, 1, 2, width=4, blocks=1, key=key)))
    context = jax.random.normal(key, (2, 3, 1, 8))
    out = forecast(net, context, 5)
    assert out.shape == (2, 5, 1, 8)
    np.testing.assert_allclose(out, persistence(context, 5))


def tiny_net(solver=None, seed: int = 5):
    return mechanistic_forecaster(
        "resnet1d",
        context=4,
        horizon=3,
        fields=1,
        step=0.25,
        solver=solver,
        width=8,
        blocks=1,
        kernel_size=3,
        key=jax.random.PRNGKey(seed),
    )


def tiny_training(key, **options):
    settings = dict(epochs=3, key=key, batch_size=8, stride=2, progress=False, optimizer=ADAM_3)
    return train_forecaster(tiny_net(), waves(), **(settings | options))


ADAM_3 = optax.adam(3e-3)


@pytest.mark.exhaustive
def test_forecaster_training_is_deterministic_and_learns(key):
    a = tiny_training(key, validation=waves(seed=1))
    b = tiny_training(key, validation=waves(seed=1))
    np.testing.assert_array_equal(a.history, b.history)
    leaves = lambda r: jax.tree.leaves(eqx.filter(r.last_network, eqx.is_array))  # noqa: E731
    assert all(np.array_equal(u, v) for u, v in zip(leaves(a), leaves(b)))
    assert np.all(np.isfinite(a.history)) and a.history[-1, 0] < a.history[0, 0]
    assert a.settings["windows"] == 4 * 9


def test_forecaster_resume_gives_the_uninterrupted_result(tmp_path, key, monkeypatch):
    from symdyn.train import _train

    whole = tiny_training(key, epochs=4)
    epoch = _train._epoch

    def interrupted(state, *args):
        if int(state.epoch) == 3:
            raise KeyboardInterrupt
        return epoch(state, *args)

    monkeypatch.setattr(_train, "_epoch", interrupted)
    path = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        tiny_training(key, epochs=4, checkpoint=path, checkpoint_every=2)
    monkeypatch.setattr(_train, "_epoch", epoch)
    resumed = tiny_training(key, epochs=4, checkpoint=path, resume=True)
    np.testing.assert_array_equal(resumed.history, whole.history)
    x = waves().windows(4, 3).context
    np.testing.assert_array_equal(load_forecaster(path)(x), resumed.network(x))
    save_forecaster(tmp_path / "net.eqx", resumed.network, note="x")
    np.testing.assert_array_equal(load_forecaster(tmp_path / "net.eqx")(x), resumed.network(x))


def test_scores_beside_persistence(key):
    scores = score_forecaster(tiny_net(), waves(frames=20), (3, 10))
    assert scores.horizons == (3, 10) and scores.truth.shape == (4, 10, 1, 16) == scores.prediction.shape
    assert set(scores.metrics()) == {"horizons", "nmse", "nmse_truth", "persistence_nmse", "persistence_nmse_truth"}
    assert all(np.isfinite(v).all() for v in scores.metrics().values())
    assert scores.persistence_nmse[0] < scores.persistence_nmse[1]  # the waves move on


# --- the command line -----------------------------------------------------------------------------------------


def test_mnn_train_and_evaluate_round_trip(tmp_path, capsys):
    from symdyn.cli import main

    waves().save(tmp_path / "train.npz")
    waves(seed=1).save(tmp_path / "val.npz")
    waves(frames=20, seed=2).save(tmp_path / "test.npz")
    common = ["--data", tmp_path / "train.npz", "--validation", tmp_path / "val.npz", "--context", "4"]
    common += ["--horizon", "3", "--width", "4", "--blocks", "1", "--kernel-size", "3", "--epochs", "2", "--quiet"]
    assert main(["mnn", "train", *map(str, common), "-o", str(tmp_path / "net.eqx")]) == 0
    assert "forecaster -> " in capsys.readouterr().out
    metrics_path, plots = tmp_path / "metrics.json", tmp_path / "plots"
    args = ["mnn", "evaluate", str(tmp_path / "net.eqx"), "--data", str(tmp_path / "test.npz"), "--horizons", "5", "9"]
    assert main([*args, "--plots", str(plots), "-o", str(metrics_path)]) == 0
    metrics = json.loads(metrics_path.read_text())
    assert metrics["horizons"] == [5, 9] and len(metrics["nmse"]) == len(metrics["persistence_nmse"]) == 2
    assert len(metrics["nmse_truth"]) == 2 and (plots / "forecast.png").exists()
    assert "persistence" in capsys.readouterr().out
    scores = score_forecaster(load_forecaster(tmp_path / "net.eqx"), Trajectories.load(tmp_path / "test.npz"), (5, 9))
    np.testing.assert_allclose(metrics["nmse"], scores.nmse)


def test_mnn_train_errors(tmp_path, capsys):
    from symdyn.cli import main

    waves().save(tmp_path / "train.npz")
    args = ["mnn", "train", "--data", str(tmp_path / "train.npz"), "--context", "4", "--horizon", "30"]
    assert main([*args, "-o", str(tmp_path / "net.eqx"), "--quiet"]) == 2
    assert "a window of 4 + 30 frames is longer than the 24" in capsys.readouterr().err
