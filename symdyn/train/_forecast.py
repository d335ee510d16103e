"""Forecasters trained and scored: the windowed loss through `fit`, rollouts past the horizon, NMSE (seed 004
eq. 17) beside the persistence forecast, and forecaster files."""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..data import Trajectories
from ..smnn import AbstractForecaster, forecaster_from_config
from ._checkpoint import read_header, read_tree, write_atomically
from ._losses import AbstractObjective
from ._train import Trained, fit


class ForecastObjective(AbstractObjective):
    """The mean squared error of the forecast of each window's future from its context."""

    def __call__(self, model, batch, key):
        error = self.validation(model, batch)
        return error, (error, jnp.zeros_like(error))

    def validation(self, model, samples):
        return jnp.mean((model(samples.context) - samples.future) ** 2)


def train_forecaster(
    forecaster: AbstractForecaster,
    data: Trajectories,
    *,
    epochs: int,
    key: jax.Array,
    validation: Trajectories | None = None,
    stride: int = 1,
    batch_size: int = 32,
    optimizer: optax.GradientTransformation | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    devices: int | None = None,
) -> Trained:
    """Fit `forecaster` to windows of C frames in and H out, cut from `data` every `stride` frames (seed Algorithm 5).

    Validation windows do not overlap. The loop, its determinism, checkpoints, NaN stop and `devices` are `fit`'s.

    Example:
        >>> net = mechanistic_forecaster("resnet1d", context=10, horizon=9, fields=1, step=data.dt, key=k1)
        >>> trained = train_forecaster(net, data, epochs=20, key=k2, validation=val)
    """
    if not isinstance(forecaster, AbstractForecaster):
        raise TypeError(f"forecaster must be a symdyn.smnn forecaster, not {type(forecaster).__name__}")
    dtype = forecaster.dtype
    windows = data.windows(forecaster.context, forecaster.horizon, stride=stride, dtype=dtype)
    held_out = None
    if validation is not None:
        held_out = validation.windows(forecaster.context, forecaster.horizon, dtype=dtype)
    settings = {
        "context": forecaster.context,
        "horizon": forecaster.horizon,
        "stride": stride,
        "epochs": epochs,
        "batch_size": min(batch_size, windows.context.shape[0]),
        "windows": int(windows.context.shape[0]),
        "dt": data.dt,
    }
    return fit(
        forecaster,
        ForecastObjective(),
        windows,
        epochs=epochs,
        key=key,
        validation=held_out,
        batch_size=batch_size,
        optimizer=optimizer,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        devices=devices,
        config=_config(forecaster),
        settings=settings,
    )


@eqx.filter_jit
def forecast(forecaster: AbstractForecaster, context: jax.Array, frames: int) -> jax.Array:
    """The next `frames` frames after `context` (B, C, *state), rolling the forecaster forward H frames at a time
    on its own output (seed Algorithm 6): (B, frames, *state)."""
    window, out = context, []
    for _ in range(math.ceil(frames / forecaster.horizon)):
        step = forecaster(window)
        out.append(step)
        window = jnp.concatenate([window, step], axis=1)[:, -forecaster.context :]
    return jnp.concatenate(out, axis=1)[:, :frames]


def persistence(context: jax.Array, frames: int) -> jax.Array:
    """The last context frame repeated `frames` times: the floor any forecaster should beat."""
    return jnp.repeat(context[:, -1:], frames, axis=1)


def nmse(truth: jax.Array, prediction: jax.Array, *, by: str = "prediction") -> float:
    """Seed 004 eq. 17: per frame Σ_x (y − ŷ)² / Σ_x ŷ², averaged over frames and samples; `by="truth"` divides
    by Σ_x y² instead (the usual normalization, finite for a forecast that collapses to zero).

    Args:
        truth, prediction: (B, F, *state).
    """
    if by not in ("prediction", "truth"):
        raise ValueError(f"by must be 'prediction' or 'truth', not {by!r}")
    axes = tuple(range(2, truth.ndim))
    scale = prediction if by == "prediction" else truth
    return float(jnp.mean(jnp.sum((truth - prediction) ** 2, axes) / jnp.sum(scale**2, axes)))


@dataclasses.dataclass(frozen=True)
class ForecastScores:
    """NMSE at each horizon (frames after the context), of a forecaster and of persistence, both normalizations.

    `truth` and `prediction` (B, max horizon, *state) are kept for figures.
    """

    horizons: tuple[int, ...]
    nmse: tuple[float, ...]
    nmse_truth: tuple[float, ...]
    persistence_nmse: tuple[float, ...]
    persistence_nmse_truth: tuple[float, ...]
    truth: np.ndarray
    prediction: np.ndarray

    def metrics(self) -> dict[str, Any]:
        """The scores as JSON-ready lists."""
        names = ("horizons", "nmse", "nmse_truth", "persistence_nmse", "persistence_nmse_truth")
        return {name: list(getattr(self, name)) for name in names}


def score_forecaster(
    forecaster: AbstractForecaster, data: Trajectories, horizons: tuple[int, ...], *, batch_size: int = 64
) -> ForecastScores:
    """NMSE of the forecast from each trajectory's first C frames, over the first h frames after them, per h.

    Raises:
        ValueError: a horizon that the trajectories are too short for.
    """
    horizons = tuple(int(h) for h in horizons)
    if not horizons or min(horizons) < 1:
        raise ValueError(f"horizons must be positive frame counts, not {horizons}")
    longest = max(horizons)
    windows = data.windows(forecaster.context, longest, stride=data.t.size, dtype=forecaster.dtype)
    parts = [
        forecast(forecaster, windows.context[i : i + batch_size], longest)
        for i in range(0, windows.context.shape[0], batch_size)
    ]
    prediction = jnp.concatenate(parts)
    still = persistence(windows.context, longest)

    def scores(guess, by):
        return tuple(nmse(windows.future[:, :h], guess[:, :h], by=by) for h in horizons)

    return ForecastScores(
        horizons,
        scores(prediction, "prediction"),
        scores(prediction, "truth"),
        scores(still, "prediction"),
        scores(still, "truth"),
        np.asarray(windows.future),
        np.asarray(prediction),
    )


def save_forecaster(path: str | os.PathLike, forecaster: AbstractForecaster, **metadata: Any) -> None:
    """Write a forecaster (structure, weights, JSON-ready `metadata`) atomically."""
    write_atomically(path, {"kind": "forecaster", "network": _config(forecaster), "metadata": metadata}, forecaster)


def _config(forecaster: AbstractForecaster) -> dict:
    """The structure and the precision: a float32 forecaster reads back as float32 under jax_enable_x64."""
    return forecaster.config | {"dtype": np.dtype(forecaster.dtype).name}


def load_forecaster(path: str | os.PathLike) -> AbstractForecaster:
    """Read a forecaster written by `save_forecaster`, or the best one so far of a training checkpoint."""
    header = read_header(path)
    config = header["network"]
    if "kind" not in config or config["kind"] not in ("mechanistic", "direct") or "encoder" not in config:
        raise ValueError(f"{os.fspath(path)}: not a forecaster file (a {config.get('kind', 'unknown')} network)")
    like = forecaster_from_config(config)
    dtype = config.get("dtype")
    if dtype is not None:
        like = jax.tree.map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, like)
    return read_tree(path, like)


def read_forecaster_metadata(path: str | os.PathLike) -> dict:
    """The metadata stored with a forecaster (or a checkpoint's training settings)."""
    header = read_header(path)
    return header.get("metadata", header.get("settings", {}))
