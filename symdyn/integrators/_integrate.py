"""`integrate`: fixed steps of an integrator under `lax.scan`."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ..lower import LoweredModel
from ._integrator import AbstractIntegrator, VectorField
from ._registry import get


def _vector_field(f: LoweredModel | VectorField, p: Any) -> VectorField:
    if isinstance(f, LoweredModel):
        return f.vector_field(p)
    if not callable(f):
        raise TypeError(f"f must be a lowered model or a callable f(t, x), not {type(f).__name__}")
    if p is not None:
        raise TypeError("p is only taken with a lowered model; close over it in your f(t, x)")
    return f


def integrate(
    f: LoweredModel | VectorField,
    x0: Any,
    t0: float,
    dt: float,
    n_steps: int,
    *,
    method: str | AbstractIntegrator = "rk4",
    p: Any = None,
) -> jax.Array:
    """The trajectory of x' = f(t, x) from `x0` at `t0`, in `n_steps` fixed steps of `dt`.

    Args:
        f: a `LoweredModel` (its `rhs` at parameters `p`, default its own) or a callable `f(t, x)`.
        x0: the initial state, any shape `f` accepts (a leading batch axis works for lowered models).
        t0, dt: the initial time and the step.
        n_steps: the number of steps.
        method: an integrator name (`symdyn.integrators.available()`) or instance.

    Returns:
        An array of shape `(n_steps + 1, *x0.shape)`; row k is the state at `t0 + k*dt`.

    Example:
        >>> integrate(lambda t, x: -x, jnp.array([1.0]), 0.0, 0.1, 10, method="rk4").shape
        (11, 1)
    """
    integrator = get(method)
    field = _vector_field(f, p)
    if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int, not {n_steps!r}")
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    return _scan(integrator, field, x0, t0, dt, n_steps)


def _scan(integrator: AbstractIntegrator, f: VectorField, x0: jax.Array, t0: Any, dt: Any, n_steps: int) -> jax.Array:
    t0 = jnp.asarray(t0, x0.dtype)
    dt = jnp.asarray(dt, x0.dtype)

    def advance(carry, k):
        x, state = carry
        x_next, state = integrator.step(f, t0 + k * dt, x, state, dt)
        return (x_next, state), x_next

    state = integrator.init(f, t0, x0, dt)
    _, xs = jax.lax.scan(advance, (x0, state), jnp.arange(n_steps, dtype=x0.dtype))
    return jnp.concatenate([x0[None], xs])
