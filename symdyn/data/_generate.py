"""`generate`: trajectories of an ODE or a PDE model from drawn parameters and initial states, in batches."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._distributed import device_mesh, over_rows, padded_size
from .._progress import ProgressBar
from ..integrators import AbstractIntegrator, AbstractMultistepIntegrator, default_method, get, integrate
from ..lower import AbstractLoweredModel, LoweredModel
from ..model import Model
from ._initial import AbstractInitialCondition, ModelInitial
from ._trajectories import Trajectories
from ._uniform import Uniform, draw_parameters


def steps_in(duration: float, dt: float) -> int:
    """The number of steps of `dt` that make `duration`, which must be a whole multiple of it.

    Raises:
        ValueError: `dt` or `duration` is not positive, or `duration` is not a multiple of `dt`.
    """
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"dt must be a positive number, not {dt}")
    if not (duration >= dt and math.isfinite(duration)):
        raise ValueError(f"duration must be at least dt = {dt:g}, not {duration}")
    steps = round(duration / dt)
    if abs(steps * dt - duration) > 1e-9 * duration:
        below, above = math.floor(duration / dt) * dt, math.ceil(duration / dt) * dt
        raise ValueError(
            f"duration {duration:g} is not a whole number of steps dt = {dt:g}; "
            f"take duration {below:g} or {above:g}, or a dt that divides {duration:g}"
        )
    return steps


def generate(
    model: Model | AbstractLoweredModel,
    *,
    duration: float,
    dt: float,
    key: jax.Array,
    samples: int = 1,
    initial: AbstractInitialCondition | None = None,
    parameters: Mapping[str, Uniform | float] | None = None,
    t0: float = 0.0,
    substeps: int = 1,
    warmup: int = 0,
    method: str | AbstractIntegrator | None = None,
    batch_size: int = 64,
    segment: int | None = None,
    dtype: Any = None,
    progress: bool = True,
    devices: int | None = None,
    rows: tuple[int, int] | None = None,
) -> Trajectories:
    """Trajectories of a model from drawn parameters and initial states, integrated in vmapped batches.

    Args:
        model: an ODE or PDE `Model` (lowered here: spectral derivatives on periodic domains) or a
            lowered model.
        duration: the length of each saved trajectory, a whole number of steps `dt`.
        dt: the step between saved points; `substeps` internal steps of dt/substeps make one.
        key: the seed; equal keys give equal data.
        samples: M, the number of trajectories.
        initial: the initial states: `ModelInitial()` (the model's own initial values at each
            trajectory's parameters, the default, with any given as overrides), or for fields
            `SumOfSines()`, `FourierSeries()`.
        parameters: parameter name → `Uniform(low, high)` (drawn per trajectory) or a value;
            the others keep their defaults (the seed's two-body data draws `{"e": Uniform(0.5, 0.7)}`).
        t0: the time of the initial state.
        warmup: saved-size steps integrated first and dropped (the seeds' 360 for KS).
        method: the integrator (default ETDRK4 for a PDE on a periodic domain, RK4 otherwise).
        batch_size: trajectories integrated together (one compilation for all batches).
        segment: saved steps integrated per compiled call (default all of `duration`): the
            trajectories are integrated in pieces of `segment` saved steps, the last one past the
            end and cut, so that data sets of different durations share one compilation. Each
            piece restarts the integrator from its first state (one-step methods only); times
            agree with one piece to round-off.
        dtype: float32 or float64 (default JAX's default float), when `model` is lowered here.
        progress: show a progress bar over the batches.
        devices: the devices each batch is split over, by trajectory (all by default); the data are one device's.
        rows: (start, stop): integrate only these of the M trajectories (a shard of the data set); every
            trajectory is drawn as in the whole set, so the shards together are the whole set.

    Returns:
        `Trajectories` with states (M, T, *state), T = duration/dt + 1, t from t0 + warmup·dt,
        the model's @observed and @conserved quantities along them, and the model's text.

    Raises:
        FloatingPointError: a trajectory left the finite numbers (the step is too large).
        SymdynRuntimeError: an implicit step failed.

    Example:
        >>> data = generate(symdyn.load("examples/two_body.sdyn"), parameters={"e": Uniform(0.5, 0.7)},
        ...                 samples=4, duration=1.0, dt=0.01, key=jax.random.PRNGKey(0))
        >>> data.states.shape
        (4, 101, 4)
    """
    for name, value in (
        ("samples", samples),
        ("substeps", substeps),
        ("batch_size", batch_size),
        ("segment", 1 if segment is None else segment),
    ):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative int, not {warmup!r}")
    steps = steps_in(duration, dt)
    if isinstance(model, Model):
        text, low = str(model), model.lower(dtype)
    elif isinstance(model, AbstractLoweredModel):
        text, low = "", model
    else:
        raise TypeError(f"model must be a Model (symdyn.load(...)) or a lowered model, not {type(model).__name__}")
    integrator = get(method or default_method(low))
    if segment is not None and isinstance(integrator, AbstractMultistepIntegrator):
        raise ValueError(f"segment restarts the method at each piece; {integrator.name} is a multistep method")
    segment = steps if segment is None else segment
    initial = initial or ModelInitial()
    key_p, key_x = jax.random.split(key)
    real = low.p.dtype if low.p is not None else jnp.result_type(float)
    defaults = tuple(float(v) for v in low.p) if low.p is not None else (None,) * len(low.parameter_names)
    p = draw_parameters(low.parameter_names, defaults, parameters or {}, samples, key_p, real, low.name)
    keys = jax.random.split(key_x, samples)
    if rows is not None:
        start_row, stop_row = rows
        if not 0 <= start_row < stop_row <= samples:
            raise ValueError(f"rows must be (start, stop) with 0 <= start < stop <= samples = {samples}, not {rows}")
        keys, p, samples = keys[start_row:stop_row], p[start_row:stop_row], stop_row - start_row

    h = dt / substeps
    start = t0 + warmup * dt
    mesh = device_mesh(devices)
    batch = padded_size(min(batch_size, samples), mesh)

    def trajectories(rows):
        keys, q = rows
        x = _initial_states(initial, low, keys, q)
        if warmup:
            x = integrate(low, x, t0, h, warmup * substeps, method=integrator, p=q, save_every=warmup * substeps)
            x = x[:, -1]
        saved = [x[:, None]]
        for done in range(0, steps, segment):  # every piece runs the one compiled integration
            states = integrate(
                low, x, start + done * dt, h, segment * substeps, method=integrator, p=q, save_every=substeps
            )
            saved.append(states[:, 1:])
            x = states[:, -1]
        return jnp.concatenate(saved, axis=1)[:, : steps + 1]

    pieces = []
    with ProgressBar(samples, f"{low.name}: trajectories", enabled=progress and samples > batch) as bar:
        for first in range(0, samples, batch):
            index = np.minimum(np.arange(first, first + batch), samples - 1)  # the last batch padded: no recompile
            taken = min(batch, samples - first)
            pieces.append(over_rows(trajectories, (keys[index], p[index]), mesh)[:taken])
            bar.update(taken)
    states = np.concatenate(pieces)
    t = start + dt * np.arange(steps + 1)
    finite = np.isfinite(states).reshape(samples, steps + 1, -1).all(axis=2)
    bad = np.flatnonzero(~finite.all(axis=1))
    if bad.size:
        first = t[np.argmin(finite[bad[0]])]
        where = f"trajectory {bad[0]} ({bad.size} of {samples}) is" if samples > 1 else "the solution is"
        raise FloatingPointError(
            f"{low.name}: {where} not finite from t = {first:g}; "
            f"try a smaller step (more substeps) or another method than {integrator.name}"
        )
    return Trajectories(
        t=t,
        states=states,
        names=low.state_names,
        parameters=np.asarray(p),
        parameter_names=low.parameter_names,
        grid=low.grid,
        coordinate_names=low.coordinate_names,
        observed=_observed(low, t, states, p),
        model=text,
        inputs=_inputs(low, t, p),
    )


def _inputs(low: AbstractLoweredModel, t: np.ndarray, p: jax.Array) -> dict[str, np.ndarray]:
    """The input signals the trajectories were driven by, (M, T) each."""
    if not (isinstance(low, LoweredModel) and low.input_names):
        return {}
    values = np.asarray(low.inputs(jnp.asarray(t, p.dtype)[None, :], p[:, None, :]))  # (M, T, m)
    return {name: values[:, :, i] for i, name in enumerate(low.input_names)}


@eqx.filter_jit
def _initial_states(initial: AbstractInitialCondition, low: AbstractLoweredModel, keys, p) -> jax.Array:
    """One initial state per key and parameter row; compiled once per condition, model and batch."""
    return jax.vmap(lambda k, q: initial.sample(k, low, q))(keys, p)


def _observed(low: AbstractLoweredModel, t: np.ndarray, states: np.ndarray, p: jax.Array) -> dict[str, np.ndarray]:
    """The @observed and @conserved quantities along the trajectories, (M, T, ...) each."""
    if not low.observed_names + low.conserved_names:
        return {}
    observed, conserved = _quantities(low, jnp.asarray(t, states.dtype), jnp.asarray(states), p)
    values = [np.asarray(observed[:, :, i]) for i in range(len(low.observed_names))]
    values += [np.asarray(conserved[:, :, i]) for i in range(len(low.conserved_names))]
    return dict(zip(low.observed_names + low.conserved_names, values))


@eqx.filter_jit
def _quantities(low: AbstractLoweredModel, t: jax.Array, states: jax.Array, p: jax.Array):
    def along(x, q):  # one trajectory, each time point with its own t
        return jax.vmap(lambda t_i, x_i: (low.observed(t_i, x_i, q), low.conserved(t_i, x_i, q)))(t, x)

    return jax.vmap(along)(states, p)
