"""Data sets of PDE trajectories: random initial fields integrated in batches, saved as `.npz`."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._progress import ProgressBar
from ..integrators import AbstractIntegrator, get, integrate
from ..lower import LoweredPDE
from ..model import Model
from ._initial import AbstractInitialCondition, ModelInitial
from ._npz import save_npz_atomically
from ._uniform import Uniform, draw_parameters


@dataclasses.dataclass(frozen=True)
class FieldDataset:
    """M trajectories of a PDE on one grid and one time grid.

    Attributes:
        t: (T,) times. states: (M, T, n_fields, *grid). grid: one coordinate array per
        dimension. parameters: (M, P), in `parameter_names` order.

    Saved as `.npz` with `t`, `fields` (the states), `field_names`, `coordinate_names`,
    `grid_<name>` per coordinate, `parameters`, `parameter_names` and `model`.
    """

    t: np.ndarray
    states: np.ndarray
    field_names: tuple[str, ...]
    coordinate_names: tuple[str, ...]
    grid: tuple[np.ndarray, ...]
    parameters: np.ndarray
    parameter_names: tuple[str, ...]
    model_name: str = ""

    def __post_init__(self):
        shape = np.shape(self.states)
        expected = (len(self.t), len(self.field_names), *(len(g) for g in self.grid))  # after M
        if len(shape) != 3 + len(self.grid) or shape[1:] != expected:
            raise ValueError(f"states have shape {shape}; expected (M, {', '.join(map(str, expected))})")
        if np.shape(self.parameters) != (shape[0], len(self.parameter_names)):
            raise ValueError(
                f"parameters have shape {np.shape(self.parameters)}; expected ({shape[0]}, {len(self.parameter_names)})"
            )

    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def dt(self) -> float:
        return float(self.t[1] - self.t[0])

    def save(self, path: str | os.PathLike) -> None:
        """Write the `.npz` atomically (a reader never sees half a file)."""
        save_npz_atomically(
            path,
            t=self.t,
            fields=self.states,
            field_names=np.array(self.field_names),
            coordinate_names=np.array(self.coordinate_names),
            parameters=self.parameters,
            parameter_names=np.array(self.parameter_names, dtype=str),
            model=np.array(self.model_name),
            **{f"grid_{name}": axis for name, axis in zip(self.coordinate_names, self.grid)},
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> FieldDataset:
        with np.load(path) as file:
            if "fields" not in file or "coordinate_names" not in file:
                raise ValueError(f"{os.fspath(path)}: not a PDE data file (needs fields and coordinate_names)")
            names = tuple(str(s) for s in file["coordinate_names"])
            return cls(
                np.asarray(file["t"]),
                np.asarray(file["fields"]),
                tuple(str(s) for s in file["field_names"]),
                names,
                tuple(np.asarray(file[f"grid_{n}"]) for n in names),
                np.asarray(file["parameters"]),
                tuple(str(s) for s in file["parameter_names"]),
                str(file["model"]),
            )


def generate_fields(
    model: Model | LoweredPDE,
    initial: AbstractInitialCondition | None = None,
    *,
    samples: int,
    steps: int,
    dt: float,
    key: jax.Array,
    substeps: int = 1,
    warmup: int = 0,
    method: str | AbstractIntegrator = "etdrk4",
    parameters: Mapping[str, Uniform | float] | None = None,
    batch_size: int = 64,
    dtype: Any = None,
    progress: bool = True,
) -> FieldDataset:
    """Trajectories of a PDE from random initial fields, integrated in vmapped batches.

    Args:
        model: a PDE `Model` (lowered here, spectral on periodic domains) or a `LoweredPDE`.
        initial: the family of initial fields (`SumOfSines()`, `FourierSeries()`); by default
            the model's own initial value (`ModelInitial()`).
        samples: M, the number of trajectories. steps: T, the saved time points of each.
        dt: the step between saved points; `substeps` internal steps of dt/substeps make one.
        warmup: saved-size steps integrated first and dropped (the seeds' 360 for KS).
        method: the integrator (ETDRK4 by default: stiff linear parts cost nothing).
        parameters: parameter name → `Uniform(low, high)` (drawn per trajectory) or a value.
        key: the seed; equal keys give equal data sets.
        batch_size: trajectories integrated together (one compilation for all batches).

    Returns:
        a `FieldDataset` with states (M, T, n_fields, *grid); t starts at the end of the warm-up.

    Raises:
        FloatingPointError: some trajectory left the finite numbers (the step is too large).
    """
    for name, value in (("samples", samples), ("steps", steps), ("substeps", substeps), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative int, not {warmup!r}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (saved time points), not {steps}")
    if not dt > 0:
        raise ValueError(f"dt must be positive, not {dt}")
    low = model.lower(dtype) if isinstance(model, Model) else model
    if not isinstance(low, LoweredPDE):
        raise TypeError(f"{low.name} is not a PDE; use symdyn.train.generate for ODE trajectories")
    integrator = get(method)
    initial = initial or ModelInitial()
    key_p, key_u = jax.random.split(key)
    dtype = low.p.dtype if low.p is not None else jnp.result_type(float)
    defaults = tuple(float(v) for v in low.p) if low.p is not None else (None,) * len(low.parameter_names)
    p = draw_parameters(low.parameter_names, defaults, parameters or {}, samples, key_p, dtype, low.name)
    u0 = jax.jit(jax.vmap(lambda k, q: initial.sample(k, low, q)))(jax.random.split(key_u, samples), p)

    h = dt / substeps
    start = warmup * dt
    batch = min(batch_size, samples)
    chunks = []
    with ProgressBar(samples, f"{low.name}: trajectories", enabled=progress) as bar:
        for first in range(0, samples, batch):
            index = np.minimum(np.arange(first, first + batch), samples - 1)  # the last batch padded: no recompile
            u, q = u0[index], p[index]
            if warmup:
                u = integrate(low, u, 0.0, h, warmup * substeps, method=integrator, p=q, save_every=warmup * substeps)[
                    :, -1
                ]
            states = integrate(low, u, start, h, (steps - 1) * substeps, method=integrator, p=q, save_every=substeps)
            taken = min(batch, samples - first)
            chunks.append(np.asarray(states[:taken]))
            bar.update(taken)
    states = np.concatenate(chunks)
    bad = np.flatnonzero(~np.isfinite(states).reshape(samples, -1).all(axis=1))
    if bad.size:
        raise FloatingPointError(
            f"{low.name}: {bad.size} of {samples} trajectories left the finite numbers (first: {bad[0]}); "
            f"try a smaller step (more substeps) or another method than {integrator.name}"
        )
    return FieldDataset(
        t=start + dt * np.arange(steps),
        states=states,
        field_names=low.state_names,
        coordinate_names=low.domain.names,
        grid=low.grid,
        parameters=np.asarray(p),
        parameter_names=low.parameter_names,
        model_name=low.name,
    )
