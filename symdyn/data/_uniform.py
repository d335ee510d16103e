"""Distributions of the parameters that set up a trajectory, drawn per trajectory."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Uniform:
    """The uniform distribution on [low, high], for a parameter that sets the initial state.

    Example:
        >>> Uniform(0.5, 0.7).sample(jax.random.PRNGKey(0), (3,)).shape
        (3,)
    """

    low: float
    high: float

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low <= self.high):
            raise ValueError(f"Uniform({self.low}, {self.high}): need finite low <= high")

    def sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        return jax.random.uniform(key, shape, minval=self.low, maxval=self.high)


def draw_parameters(
    names: Sequence[str],
    defaults: Sequence[float | None],
    draws: Mapping[str, Uniform | float],
    samples: int,
    key: jax.Array,
    dtype,
    model_name: str = "the model",
) -> jax.Array:
    """(samples, P) parameters: each drawn (`Uniform`), fixed (a number) or at its default.

    Raises:
        ValueError: a draw names no parameter, or a parameter has neither a default nor a draw.
    """
    unknown = [name for name in draws if name not in names]
    if unknown:
        raise ValueError(f"draws {', '.join(unknown)}, not a parameter of {model_name} ({', '.join(names)})")
    columns = []
    keys = jax.random.split(key, max(len(names), 1))
    for i, name in enumerate(names):
        spec = draws.get(name, defaults[i])
        if spec is None:
            raise ValueError(f"parameter {name} has no default; give it a value or a distribution")
        if isinstance(spec, Uniform):
            columns.append(spec.sample(keys[i], (samples,)))
        else:
            columns.append(jnp.full((samples,), float(spec)))
    if not columns:
        return jnp.zeros((samples, 0), dtype)
    return jnp.stack(columns, axis=-1).astype(dtype)
