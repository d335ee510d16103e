"""Training data: trajectories of a model from a distribution of initial conditions, and their chunks."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..data import Uniform, draw_parameters, save_npz_atomically
from ..integrators import AbstractIntegrator, get, integrate
from ..model import Model


class Chunks(NamedTuple):
    """Pieces of trajectories: `t` (K, N + 1) and `states` (K, N + 1, n), N model steps each;
    `p` (K, P) the parameters of the trajectory each comes from."""

    t: jax.Array
    states: jax.Array
    p: jax.Array


@dataclasses.dataclass(frozen=True)
class Dataset:
    """M trajectories on one uniform time grid, with the parameters that produced each.

    Attributes:
        t: (T,) times. states: (M, T, n). parameters: (M, P), in `parameter_names` order.

    Saved as `.npz` in the layout of `symdyn simulate` (`t`, one (M, T) array per state,
    `state_names`, `parameter_names`, `parameters`), so a simulated file loads as one trajectory.
    """

    t: np.ndarray
    states: np.ndarray
    state_names: tuple[str, ...]
    parameters: np.ndarray
    parameter_names: tuple[str, ...]
    model_name: str = ""

    def __post_init__(self):
        m, steps, n = np.shape(self.states)
        if np.shape(self.t) != (steps,) or steps < 2:
            raise ValueError(
                f"t has shape {np.shape(self.t)}; states {np.shape(self.states)} need t of shape ({steps},)"
            )
        if n != len(self.state_names):
            raise ValueError(f"states have {n} columns but {len(self.state_names)} state names")
        if np.shape(self.parameters) != (m, len(self.parameter_names)):
            raise ValueError(
                f"parameters have shape {np.shape(self.parameters)}; expected ({m}, {len(self.parameter_names)})"
            )
        steps_dt = np.diff(self.t)
        if not np.allclose(steps_dt, steps_dt[0], rtol=1e-6, atol=0) or steps_dt[0] <= 0:
            raise ValueError("t must be increasing with a uniform step")

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def __len__(self) -> int:
        return self.states.shape[0]

    def every(self, dt: float | None) -> int:
        """How many data steps make one model step of `dt` (which must be a multiple of the data's step)."""
        if dt is None:
            return 1
        ratio = dt / self.dt
        if not (dt > 0 and abs(ratio - round(ratio)) < 1e-6 and round(ratio) >= 1):
            raise ValueError(f"the model step dt = {dt} must be a positive multiple of the data's step {self.dt:g}")
        return round(ratio)

    def chunks(self, n_steps: int, *, dt: float | None = None, dtype: Any = None) -> Chunks:
        """Non-overlapping pieces of `n_steps` model steps (n_steps + 1 points) of every trajectory.

        Args:
            n_steps: the rollout N. dt: the model step (default the data's), a multiple of the data's.
        """
        if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int, not {n_steps!r}")
        every = self.every(dt)
        states, t = self.states[:, ::every], self.t[::every]
        length = n_steps + 1
        per_trajectory = states.shape[1] // length
        if per_trajectory == 0:
            raise ValueError(
                f"a trajectory has {states.shape[1]} points at this step; a chunk of {n_steps} steps needs {length}"
            )
        pieces = states[:, : per_trajectory * length].reshape(len(self), per_trajectory, length, -1)
        p = np.repeat(self.parameters[:, None], per_trajectory, axis=1)
        dtype = dtype or jnp.result_type(float)
        times = np.broadcast_to(t[: per_trajectory * length].reshape(per_trajectory, length), pieces.shape[:3])
        return Chunks(
            jnp.asarray(times.reshape(-1, length), dtype),
            jnp.asarray(pieces.reshape(-1, length, pieces.shape[-1]), dtype),
            jnp.asarray(p.reshape(-1, p.shape[-1]), dtype),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the `.npz` (atomically: a reader never sees half a file)."""
        arrays = {name: self.states[..., i] for i, name in enumerate(self.state_names)}
        clash = sorted(set(arrays) & {"t", "state_names", "parameter_names", "parameters", "model"})
        if clash:
            raise ValueError(f"the model names {', '.join(clash)}, which the data file uses for its own arrays")
        save_npz_atomically(
            path,
            t=self.t,
            state_names=np.array(self.state_names),
            parameter_names=np.array(self.parameter_names, dtype=str),
            parameters=self.parameters,
            model=np.array(self.model_name),
            **arrays,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Dataset:
        """Read a `.npz` written by `Dataset.save` or `symdyn simulate`."""
        with np.load(path) as file:
            if "t" not in file or "state_names" not in file:
                raise ValueError(f"{os.fspath(path)}: not a trajectory file (needs t and state_names)")
            names = tuple(str(s) for s in file["state_names"])
            missing = [name for name in names if name not in file]
            if missing:
                raise ValueError(f"{os.fspath(path)}: no array for state {', '.join(missing)}")
            states = np.stack([np.atleast_2d(file[name]) for name in names], axis=-1)
            parameter_names = tuple(str(s) for s in file["parameter_names"]) if "parameter_names" in file else ()
            parameters = file["parameters"] if "parameters" in file else np.zeros((0,))
            parameters = np.broadcast_to(np.atleast_2d(parameters), (states.shape[0], len(parameter_names)))
            model = str(file["model"]) if "model" in file else ""
            return cls(np.asarray(file["t"]), states, names, np.array(parameters), parameter_names, model)


def generate(
    model: Model,
    initial: Mapping[str, Uniform | float],
    *,
    trajectories: int,
    duration: float,
    dt: float,
    method: str | AbstractIntegrator = "rk4",
    key: jax.Array,
    dtype: Any = None,
) -> Dataset:
    """Integrate `model` from `trajectories` random initial conditions, all at once (vmapped).

    Initial conditions come from the model's own initial values, which depend on its
    parameters: `initial` draws some of those parameters (the seed's two-body data:
    `{"e": Uniform(0.5, 0.7)}` with `x(t) = 1 - e`, ...). Parameters left out keep their defaults.

    Args:
        model: the true model (its initial values written in terms of its parameters).
        initial: parameter name → `Uniform(low, high)` or a fixed value.
        trajectories: M. duration: the length of each, from t = 0. dt: the data's step.
        method: the integrator (the seed's: RK4). key: PRNG key of the draws.

    Returns:
        A `Dataset` with states (M, round(duration/dt) + 1, n).

    Example:
        >>> data = generate(symdyn.load("examples/two_body.sdyn"), {"e": Uniform(0.5, 0.7)},
        ...                 trajectories=4, duration=1.0, dt=0.01, key=jax.random.PRNGKey(0))
        >>> data.states.shape
        (4, 101, 4)
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a Model (symdyn.load(...)), not {type(model).__name__}")
    if not isinstance(trajectories, int) or isinstance(trajectories, bool) or trajectories < 1:
        raise ValueError(f"trajectories must be a positive int, not {trajectories!r}")
    if not (dt > 0 and duration >= dt):
        raise ValueError(f"need dt > 0 and duration >= dt, not dt = {dt}, duration = {duration}")
    lowered = model.lower(dtype=dtype)
    if lowered.initial is None:
        raise ValueError(f"{model.name} leaves an initial value out; give every state an initial value in the file")
    names = lowered.parameter_names
    dtype = lowered.p.dtype if lowered.p is not None else jnp.result_type(float)
    p = draw_parameters(names, model.parameter_values, initial, trajectories, key, dtype, model.name)
    x0 = lowered.initial(p)
    n_steps = round(duration / dt)
    xs = integrate(lowered, x0, 0.0, dt, n_steps, method=get(method), p=p)
    states = np.asarray(xs)
    if not np.isfinite(states).all():
        raise FloatingPointError(f"{model.name}: a generated trajectory is not finite; try a smaller dt")
    return Dataset(
        t=dt * np.arange(n_steps + 1),
        states=states,
        state_names=lowered.state_names,
        parameters=np.asarray(p),
        parameter_names=names,
        model_name=model.name,
    )
