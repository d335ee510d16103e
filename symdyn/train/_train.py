"""`fit`: Adam (optax) on any model and objective, in minibatches under one compiled scan per epoch, with
validation, checkpoints that resume exactly, and a clear stop on NaN; `train`, the neural ODE case."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec

from .._distributed import AXIS, WEIGHTS, check_split, device_mesh, from_processes, replicate, split, to_host
from .._progress import ProgressBar
from ..data import ProcessPart, Trajectories
from ..integrators import AbstractIntegrator, get
from ._checkpoint import read_header, read_tree, write_atomically
from ._losses import AbstractObjective, AbstractRegularizer, TrajectoryObjective
from ._networks import AbstractNetwork

# history columns, one row per epoch
HISTORY = ("loss", "trajectory", "penalty", "validation")

# the seed's optimizer; one object, so that trainings share compiled epochs
ADAM = optax.adam(1e-3, b1=0.9, b2=0.999)


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the message says when, and where the last good state was kept."""


class TrainState(eqx.Module):
    """Everything a resumed training needs; `best_network` comes first so a checkpoint reads as a network file."""

    best_network: eqx.Module
    network: eqx.Module
    opt_state: Any
    epoch: jax.Array
    best_validation: jax.Array
    best_epoch: jax.Array
    history: jax.Array  # (epochs, len(HISTORY)), NaN beyond `epoch`


@dataclasses.dataclass(frozen=True)
class Trained:
    """The result of `train`.

    Attributes:
        network: the network at the epoch of lowest validation trajectory loss (the seed's choice),
            or the last one without validation data.
        last_network: the network after the last epoch.
        history: (epochs, 4) per-epoch means of the loss, its data term (the trajectory loss), the
            penalty, and the validation score (`symdyn.train.HISTORY` names the columns).
        best_epoch: the epoch of `network` (1-based). seconds: wall time of this call.
        settings: what the training was (for `train`: rollout, dt, method, epochs, batch_size, regularizer,
            weight, chunks): what a checkpoint checks before resuming, and what is saved with the network.
    """

    network: eqx.Module
    last_network: eqx.Module
    history: np.ndarray
    best_epoch: int
    seconds: float
    settings: dict

    @property
    def best_validation(self) -> float:
        return float(self.history[self.best_epoch - 1, 3])


def train(
    network: AbstractNetwork,
    data: Trajectories | ProcessPart,
    *,
    rollout: int,
    epochs: int,
    key: jax.Array,
    dt: float | None = None,
    method: str | AbstractIntegrator = "rk4",
    regularizer: AbstractRegularizer | None = None,
    validation: Trajectories | None = None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    devices: int | None = None,
) -> Trained:
    """Fit `network` to `data` cut into chunks of `rollout` model steps (seed Section 2.1 and eq. 4).

    Each epoch visits the chunks in a fresh random order, in minibatches, all under one
    compiled `lax.scan`; the validation trajectory loss is taken after every epoch and the
    best network kept. Epoch k draws its randomness from `fold_in(key, k)`, so a run resumed
    from a checkpoint gives the same result as an uninterrupted one.

    Args:
        network: the initial network (`MLP`, `PeriodicCNN`, `Hybrid`), its states (fields) in the data's order.
        data: the training trajectories, or this process's part of them (`read_part`: each process reads
            only its own shards and holds only its own chunks). rollout: N, model steps per chunk.
        epochs: the number of passes. key: PRNG key of the shuffles and of L_AD's directions.
        dt: the model step (default the data's), a multiple of the data's step.
        method: the integrator of the rollouts (`symdyn.integrators`), the seed's RK4 by default.
        regularizer: `JacobianAD(model, λ)`, `JacobianFD(λ)` or None.
        validation: trajectories for model selection, chunked like the training data.
        batch_size: chunks per Adam step (all of them if fewer).
        optimizer: an optax transformation (default Adam, learning rate 1e-3, β = (0.9, 0.999)).
        checkpoint: a file to keep the state in, every `checkpoint_every` epochs and at the end.
        resume: continue from `checkpoint` if it exists (its settings must match these).
        progress: show a progress bar with the losses.
        devices: the devices each minibatch is split over (data parallel), all by default; the
            parameters and optimizer state are replicated and the result equals one device's up to round-off.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the last good state is in `checkpoint`.
        ValueError: mismatched states, bad sizes, a batch that does not split over the devices,
            or a checkpoint from different settings.

    Example:
        >>> trained = train(MLP(data.names, key=k1), data, rollout=2, epochs=100, key=k2,
        ...                 regularizer=JacobianAD(model, 1e-3), validation=val)
    """
    objective, chunks, held_out, settings, positions = prepare(
        network, data, rollout, epochs, dt, method, regularizer, validation, batch_size, checkpoint_every, devices
    )
    return fit(
        network,
        objective,
        chunks,
        positions=positions,
        epochs=epochs,
        key=key,
        validation=held_out,
        batch_size=settings["batch_size"],
        optimizer=optimizer,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
        progress=progress,
        devices=devices,
        config=network.config,
        settings=settings,
    )


def prepare(network, data, rollout, epochs, dt, method, regularizer, validation, batch_size, checkpoint_every, devices):
    """`train`'s objective, training and validation chunks, settings, and where the chunks are (None: on this
    host; else they are global arrays, each process having read its own trajectories), after checking."""
    part = data if isinstance(data, ProcessPart) else None
    data = data.data if part else data
    if not isinstance(network, AbstractNetwork):
        raise TypeError(f"network must be a symdyn.train network (MLP, Hybrid), not {type(network).__name__}")
    for name, dataset in (("data", data), ("validation", validation)):
        if dataset is not None and tuple(dataset.names) != network.state_names:
            raise ValueError(f"{name} has states {dataset.names}; the network has {network.state_names}")
        if dataset is not None and dataset.states.shape[2:] != network.state_shape:
            raise ValueError(
                f"{name} has states of shape {dataset.states.shape[2:]}; the network takes {network.state_shape}"
            )
    _check_loop(epochs, batch_size, checkpoint_every, None, False)
    integrator = get(method)
    dt = data.dt * data.every(dt)
    dtype = jnp.result_type(float)
    chunks = data.chunks(rollout, dt=dt, dtype=dtype)
    held_out = validation.chunks(rollout, dt=dt, dtype=dtype) if validation is not None else None
    count, positions = chunks.states.shape[0], None
    if part is not None:
        if len(part.spans) != jax.process_count():
            raise ValueError(f"data: a part for {len(part.spans)} processes; this run has {jax.process_count()}")
        per_trajectory = count // len(data)
        count = part.total * per_trajectory
        spans = [(start * per_trajectory, stop * per_trajectory) for start, stop in part.spans]
        chunks, positions = from_processes(chunks, spans, device_mesh(devices))
    batch_size = min(batch_size, count)
    settings = {
        "rollout": rollout,
        "dt": dt,
        "method": integrator.name,
        "epochs": epochs,
        "batch_size": batch_size,
        "regularizer": None if regularizer is None else regularizer.name,
        # the shortest decimal that reads back as the weight in its precision: 1e-05, not 9.9999997e-06
        "weight": None if regularizer is None else float(str(np.asarray(regularizer.weight)[()])),
        "chunks": int(count),
    }
    return TrajectoryObjective(dt, integrator, regularizer), chunks, held_out, settings, positions


def fit(
    model: eqx.Module,
    objective: AbstractObjective,
    samples: Any,
    *,
    epochs: int,
    key: jax.Array,
    config: dict,
    settings: dict,
    validation: Any = None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 50,
    resume: bool = False,
    progress: bool = True,
    devices: int | None = None,
    positions: np.ndarray | None = None,
) -> Trained:
    """Minimise `objective` over the floating-point arrays of `model`: the loop behind `train` and `train_forecaster`.

    Each epoch visits the samples in a fresh random order, in minibatches of `batch_size` (a
    remainder is left out), all under one compiled `lax.scan`; the validation score is taken after
    every epoch and the best model kept. The minibatch is split over a mesh of devices along its
    sample axis; the state is replicated on every device and process. Epoch k draws its randomness
    from `fold_in(key, k)`, so a run resumed from a checkpoint gives the same result as an
    uninterrupted one.

    Args:
        model: an equinox module; its inexact arrays are trained.
        objective: the loss on a minibatch and the held-out score (`AbstractObjective`).
        samples: a pytree of arrays with a leading sample axis. validation: held-out samples, or None.
        epochs, key, batch_size, optimizer, checkpoint, checkpoint_every, resume, progress, devices: as in `train`.
        config: JSON-ready structure of `model`, written in checkpoints so that they read back alone.
        settings: JSON-ready description of the training; a resumed checkpoint must have the same.
        positions: None, or `samples` are global arrays already split over the mesh (`from_processes`)
            and these are the rows of the samples in them.

    Raises:
        TrainingDiverged: the loss became NaN or infinite; the last good state is in `checkpoint`.
        ValueError: bad sizes, a batch that does not split over the devices, or a checkpoint from
            different settings.
    """
    _check_loop(epochs, batch_size, checkpoint_every, checkpoint, resume)
    optimizer = optimizer or ADAM
    mesh = device_mesh(devices)
    if positions is None:
        positions = np.arange(jax.tree.leaves(samples)[0].shape[0])
        samples = replicate(samples, mesh)
    batch_size = min(batch_size, len(positions))
    check_split(batch_size, mesh, "batch_size")
    state = _initial_state(model, optimizer, epochs)
    if resume and checkpoint is not None and os.path.exists(checkpoint):
        state = _resume(checkpoint, state, settings)
    # a checkpoint holds whole arrays, so it resumes on any number of devices and processes
    state, validation, positions = replicate((state, validation, positions.astype(np.int32)), mesh)
    return _loop(
        state,
        objective,
        samples,
        positions,
        validation,
        mesh,
        None,
        key,
        epochs,
        optimizer,
        batch_size,
        progress,
        [checkpoint],
        checkpoint_every,
        [settings],
        config,
    )[0]


def fit_side_by_side(
    model: eqx.Module,
    objectives: list[AbstractObjective],
    samples: Any,
    *,
    labels: list[str],
    epochs: int,
    key: jax.Array,
    config: dict,
    settings: list[dict],
    checkpoints: list,
    validation: Any = None,
    batch_size: int = 256,
    optimizer: optax.GradientTransformation | None = None,
    checkpoint_every: int = 50,
    progress: bool = True,
    devices: int | None = None,
) -> list[Trained]:
    """`fit` of `model` on each of `objectives` (equal but for their arrays), all at once: one compiled epoch
    mapped over the trainings, whose stacked states are split over the rows of a 2-D mesh ("weight", "batch");
    the devices of a row split each minibatch. With G trainings on N devices the mesh has gcd(G, N) rows.
    Each result equals its own `fit` up to round-off.

    Args:
        labels: each training's name in messages ("λ = 0.01"). settings, checkpoints: one per training.
        the others: as in `fit`, shared.
    """
    _check_loop(epochs, batch_size, checkpoint_every, None, False)
    optimizer = optimizer or ADAM
    batch_size = min(batch_size, jax.tree.leaves(samples)[0].shape[0])
    count = len(objectives)
    devices = len(device_mesh(devices).devices.flat)
    mesh = device_mesh(devices, math.gcd(count, devices))
    check_split(batch_size, mesh, "batch_size")
    states = _stack([_initial_state(model, optimizer, epochs)] * count)
    states, objectives = split((states, _stack(objectives)), mesh, WEIGHTS)
    positions = np.arange(jax.tree.leaves(samples)[0].shape[0], dtype=np.int32)
    samples, validation, positions = replicate((samples, validation, positions), mesh)
    return _loop(
        states,
        objectives,
        samples,
        positions,
        validation,
        mesh,
        labels,
        key,
        epochs,
        optimizer,
        batch_size,
        progress,
        checkpoints,
        checkpoint_every,
        settings,
        config,
    )


def _loop(
    state,
    objective,
    samples,
    positions,
    validation,
    mesh,
    labels,
    key,
    epochs,
    optimizer,
    batch_size,
    progress,
    checkpoints,
    checkpoint_every,
    settings,
    config,
) -> list[Trained]:
    """The epochs of one training (`labels` None) or of several side by side (a label each, stacked)."""
    batch_sharding = NamedSharding(mesh, PartitionSpec(AXIS))
    started = time.perf_counter()
    first = int(np.asarray(to_host(state.epoch)).flat[0])
    last_good = state
    with ProgressBar(epochs, "train", enabled=progress) as bar:
        bar.update(first)
        for epoch in range(first, epochs):
            epoch_key = replicate(np.asarray(jax.random.fold_in(key, epoch)), mesh)
            step = _epoch if labels is None else _epochs
            state = step(
                state, samples, positions, validation, epoch_key, objective, optimizer, batch_size, batch_sharding
            )
            rows = np.asarray(to_host(state.history[..., epoch, :])).reshape(-1, len(HISTORY))
            for lane, row in enumerate(rows):
                if not np.isfinite(row[:3]).all():
                    where = _keep(checkpoints, _lanes(last_good, labels), settings, config)
                    named = "" if labels is None else f"{labels[lane]}, "
                    raise TrainingDiverged(
                        f"{named}epoch {epoch + 1}: the training loss is {row[0]} (data term {row[1]}, "
                        f"penalty {row[2]}); stopped. {where} Try a smaller learning rate or weight "
                        "(for a neural ODE, a longer rollout)."
                    )
            last_good = state
            row = rows[0]  # the bar follows the first training
            shown = {"loss": row[0], "traj": row[1]}
            if row[2] != 0:
                shown["reg"] = row[2]
            if validation is not None:
                shown["val"] = np.min(rows[:, 3])
            bar.update(1, **shown)
            if any(path is not None for path in checkpoints) and (
                (epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs
            ):
                _write(checkpoints, _lanes(state, labels), settings, config)
    seconds = time.perf_counter() - started
    results = []
    for lane, lane_settings in zip(_lanes(state, labels), settings):
        best, last = jax.tree.map(  # back on this process's default device, whatever the mesh was
            lambda a: jnp.asarray(a) if isinstance(a, np.ndarray) else a, (lane.best_network, lane.network)
        )
        results.append(Trained(best, last, np.asarray(lane.history), int(lane.best_epoch), seconds, lane_settings))
    return results


def _stack(trees: list) -> Any:
    """Modules alike but for their arrays as one, each array stacked along a new leading axis."""
    arrays, static = eqx.partition(trees, eqx.is_array)
    stacked = jax.tree.map(lambda *leaves: jnp.stack(leaves), *arrays)
    return eqx.combine(stacked, static[0])


def _lanes(state: TrainState, labels) -> list[TrainState]:
    """The trainings in `state` (one, or stacked along a leading axis) as whole states on this host."""
    host = to_host(state)
    if labels is None:
        return [host]
    arrays, static = eqx.partition(host, eqx.is_array)
    return [eqx.combine(jax.tree.map(lambda a, i=i: a[i], arrays), static) for i in range(len(labels))]


def _check_loop(epochs, batch_size, checkpoint_every, checkpoint, resume) -> None:
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("checkpoint_every", checkpoint_every)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs a checkpoint file")


def _initial_state(model: eqx.Module, optimizer, epochs: int) -> TrainState:
    params = eqx.filter(model, eqx.is_inexact_array)
    real = jnp.result_type(float)
    # strong dtypes throughout, so that the state after an epoch has the types of the first: one compilation
    return TrainState(
        best_network=model,
        network=model,
        opt_state=optimizer.init(params),
        epoch=jnp.zeros((), jnp.int32),
        best_validation=jnp.full((), jnp.inf, real),
        best_epoch=jnp.zeros((), jnp.int32),
        history=jnp.full((epochs, len(HISTORY)), jnp.nan, real),
    )


@eqx.filter_jit
def _epoch(state, samples, positions, held_out, key, objective, optimizer, batch_size, batch_sharding):
    network_params, static = eqx.partition(state.network, eqx.is_inexact_array)
    size = positions.shape[0]  # the samples; their arrays may hold padding besides
    count = size // batch_size
    order_key, step_key = jax.random.split(key)
    batches = positions[jax.random.permutation(order_key, size)[: count * batch_size]]
    batches = batches.reshape(count, batch_size)

    def loss(params, batch, step_key):
        return objective(eqx.combine(params, static), batch, step_key)

    def step(carry, inputs):
        params, opt_state = carry
        indices, step_key = inputs
        # data parallel: each device takes its rows; the gradient's mean is reduced across them
        batch = jax.lax.with_sharding_constraint(jax.tree.map(lambda a: a[indices], samples), batch_sharding)
        (value, parts), grads = jax.value_and_grad(loss, has_aux=True)(params, batch, step_key)
        with jax.numpy_dtype_promotion("standard"):  # optax mixes its int step count with floats
            updates, opt_state = optimizer.update(grads, opt_state, params)
        return (eqx.apply_updates(params, updates), opt_state), (value, *parts)

    keys = jax.random.split(step_key, count)
    (network_params, opt_state), losses = jax.lax.scan(step, (network_params, state.opt_state), (batches, keys))
    network = eqx.combine(network_params, static)
    means = [jnp.mean(part) for part in losses]
    if held_out is None:
        validation = jnp.asarray(jnp.nan, means[0].dtype)
        better = jnp.asarray(True)  # without validation data the last network is the result
    else:
        validation = objective.validation(network, held_out)
        better = validation < state.best_validation
    row = jnp.stack([*means, validation]).astype(state.history.dtype)
    validation = validation.astype(state.best_validation.dtype)
    best_params = jax.tree.map(
        lambda new, old: jnp.where(better, new, old),
        network_params,
        eqx.filter(state.best_network, eqx.is_inexact_array),
    )
    best_network = eqx.combine(best_params, static)
    whole = NamedSharding(batch_sharding.mesh, PartitionSpec())
    new = TrainState(
        best_network=best_network,
        network=network,
        opt_state=opt_state,
        epoch=state.epoch + 1,
        best_validation=jnp.where(better, validation, state.best_validation),
        best_epoch=jnp.where(better, state.epoch + 1, state.best_epoch),
        history=state.history.at[state.epoch].set(row),
    )
    arrays, rest = eqx.partition(new, eqx.is_array)
    return eqx.combine(jax.lax.with_sharding_constraint(arrays, jax.tree.map(lambda _: whole, arrays)), rest)


@eqx.filter_jit
def _epochs(states, samples, positions, held_out, key, objectives, optimizer, batch_size, batch_sharding):
    """`_epoch` of trainings stacked along a leading axis, laid along the mesh's weight axis."""
    arrays, static = eqx.partition((states, objectives), eqx.is_array)
    kept = []

    def one(arrays):
        state, objective = eqx.combine(arrays, static)
        new, rest = eqx.partition(
            _epoch(state, samples, positions, held_out, key, objective, optimizer, batch_size, batch_sharding),
            eqx.is_array,
        )
        kept.append(rest)
        return new

    return eqx.combine(jax.vmap(one, spmd_axis_name=WEIGHTS)(arrays), kept[0])


def _save(path, state: TrainState, settings: dict, config: dict) -> None:
    header = {"kind": "checkpoint", "network": config, "settings": settings, "epoch": int(state.epoch)}
    write_atomically(path, header, state)


def _write(checkpoints: list, states: list[TrainState], settings: list[dict], config: dict) -> None:
    for path, state, lane_settings in zip(checkpoints, states, settings):
        if path is not None:
            _save(path, state, lane_settings, config)


def _keep(checkpoints: list, states: list[TrainState], settings: list[dict], config: dict) -> str:
    if all(path is None for path in checkpoints):
        return "Pass a checkpoint file to keep the last good state."
    _write(checkpoints, states, settings, config)
    kept = ", ".join(os.fspath(path) for path in checkpoints if path is not None)
    return f"The state after epoch {int(states[0].epoch)} is in {kept}."


def _resume(path, like: TrainState, settings: dict) -> TrainState:
    header = read_header(path)
    if header.get("kind") != "checkpoint":
        raise ValueError(f"{os.fspath(path)}: a network file, not a training checkpoint")
    stored = header.get("settings", {})
    changed = [
        f"{name} {stored.get(name)!r} -> {value!r}" for name, value in settings.items() if stored.get(name) != value
    ]
    if changed:
        raise ValueError(f"{os.fspath(path)} was written by another training ({'; '.join(changed)})")
    return read_tree(path, like)
