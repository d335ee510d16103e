"""Input signals: the values of a model's `@inputs` at any time, from a table of samples."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np


@dataclass(frozen=True, eq=False)
class InputSignal:
    """Inputs sampled at `times`, linearly interpolated between samples and held at the end values beyond them.

    Args:
        times: (T,) increasing sample times.
        values: (T, m), one column per input, in the order of the model's `input_names`.

    Example:
        >>> signal = InputSignal(np.linspace(0, 10, 101), np.cos(np.linspace(0, 10, 101))[:, None])
        >>> forced = symdyn.load("examples/forced_oscillator.sdyn").lower().with_inputs(signal)
    """

    times: np.ndarray
    values: np.ndarray

    def __post_init__(self):
        times, values = np.asarray(self.times, np.float64), np.asarray(self.values, np.float64)
        if values.ndim == 1:
            values = values[:, None]
        if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
            raise ValueError(f"input times must be one increasing array of at least 2 times, not shape {times.shape}")
        if values.ndim != 2 or values.shape[0] != times.size:
            raise ValueError(
                f"input values have shape {values.shape}; expected ({times.size}, m) for {times.size} times"
            )
        if not np.isfinite(values).all():
            raise ValueError("input values hold NaN or infinite entries")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "values", values)

    @property
    def count(self) -> int:
        return self.values.shape[1]

    def __call__(self, t: jax.Array, p: jax.Array | None = None) -> jax.Array:
        """The inputs at `t` (any shape), (*t.shape, m); `p` is not used (a signal of the parameters may)."""
        t = jnp.asarray(t)
        times = jnp.asarray(self.times, t.dtype if jnp.issubdtype(t.dtype, jnp.floating) else None)
        columns = [jnp.interp(t, times, jnp.asarray(column, times.dtype)) for column in self.values.T]
        return jnp.stack(columns, axis=-1)


def forced(function: Callable, signal: Callable) -> Callable:
    """`function(t, x, p, ..., u)` with its last argument filled by `signal(t, p)`: a function of (t, x, p, ...)."""

    def with_inputs(t, x, p, *rest):
        return function(t, x, p, *rest, signal(t, p))

    with_inputs.__doc__ = function.__doc__
    return with_inputs
