"""`integrate`: fixed steps of an integrator under `lax.scan`, batched over initial states with `vmap`."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from .._results import RESULTS, SymdynRuntimeError, raise_if_failed
from ..lower import AbstractLoweredModel
from ._field import AbstractVectorField, vector_field
from ._integrator import AbstractIntegrator
from ._registry import get


def integrate(
    f: AbstractLoweredModel | Callable | AbstractVectorField,
    x0: Float[ArrayLike, "*shape"],
    t0: float,
    dt: float,
    n_steps: int,
    *,
    method: str | AbstractIntegrator = "rk4",
    p: Float[ArrayLike, "*batch P"] | None = None,
    x1: Float[ArrayLike, "*shape"] | None = None,
    save_every: int = 1,
    throw: bool = True,
) -> Float[Array, ...]:
    """The trajectory of x' = f(t, x) from `x0` at `t0`, in `n_steps` fixed steps of `dt`.

    Args:
        f: a `LoweredModel` (its `rhs` at parameters `p`, default its own, with its exact
            Jacobian for implicit methods), a `LoweredPDE` (states `(n_fields, *grid)`; the
            exponential and IMEX methods use its split into linear and nonlinear parts), a
            callable `f(t, x)` (Jacobian by autodiff), or a `symdyn.integrators.vector_field(...)`.
        x0: the initial state. For a lowered model, leading axes are a batch of initial
            states, integrated in parallel (`vmap`); `p` may carry the same batch axes.
            For a callable, `x0` is one state of any shape (`jax.vmap` over `integrate`
            to batch it).
        t0, dt: the initial time and the step.
        n_steps: the number of steps.
        method: an integrator name (`symdyn.integrators.available()`) or instance.
        x1: the second starting value of a two-step method (Leap Frog); by default the
            method computes it from `x0`.
        save_every: keep every k-th state (k must divide `n_steps`).
        throw: raise `SymdynRuntimeError` if a step fails (an implicit step whose Newton
            iteration does not converge); with False, the states from the failed step on
            are NaN instead.

    Returns:
        `(n_steps // save_every + 1, *x0.shape)`; row k is the state at `t0 + k*save_every*dt`.
        With batch axes, those come first: `(*batch, n_steps // save_every + 1, *state)`.

    Raises:
        SymdynRuntimeError: a step failed (with throw=True), naming the step and its time.
        ValueError: shapes or counts that do not fit, naming the argument.

    Example:
        >>> integrate(lambda t, x: -x, jnp.array([1.0]), 0.0, 0.1, 10, method="rk4").shape
        (11, 1)
    """
    integrator = get(method)
    field = vector_field(f, p)
    for name, value in (("n_steps", n_steps), ("save_every", save_every)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if n_steps % save_every:
        raise ValueError(f"save_every ({save_every}) must divide n_steps ({n_steps})")
    x0 = jnp.asarray(x0)
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    if x1 is not None:
        x1 = jnp.asarray(x1, x0.dtype)
        if x1.shape != x0.shape:
            raise ValueError(f"x1 has shape {x1.shape}; it must match x0, {x0.shape}")
    batch: tuple[int, ...] = ()
    if isinstance(f, AbstractLoweredModel):
        shape = f.state_shape
        if x0.shape[x0.ndim - len(shape) :] != shape or x0.ndim < len(shape):
            what = f"{shape[0]} states" if len(shape) == 1 else f"fields {f.state_names} on its grid"
            raise ValueError(
                f"x0 has shape {x0.shape}; {f.name} has {what}, so x0 is (..., {', '.join(map(str, shape))})"
            )
        batch = x0.shape[: x0.ndim - len(shape)]
        p_batch = field.p.shape[:-1]
        if p_batch and p_batch != batch:
            raise ValueError(f"p has batch shape {p_batch}; it must be () or x0's batch shape {batch}")
    t0 = jnp.asarray(t0, x0.dtype)
    dt = jnp.asarray(dt, x0.dtype)
    xs, result, failed_at = _integrate(integrator, field, x0, x1, t0, dt, n_steps, save_every, batch)
    if not throw:
        return xs

    def failure(message: str, index: int) -> SymdynRuntimeError:
        step = int(np.ravel(failed_at)[index])
        where = f"trajectory {index}, " if math.prod(batch) > 1 else ""
        return SymdynRuntimeError(
            f"{integrator.name}: {message} ({where}step {step}, t = {float(t0) + step * float(dt):g})",
            hint="try a smaller dt or another method, or throw=False to keep the trajectory up to the failure",
        )

    return raise_if_failed(xs, result, failure)


@eqx.filter_jit
def _integrate(integrator, field, x0, x1, t0, dt, n_steps, save_every, batch):
    if not batch:
        return _trajectory(integrator, field, x0, x1, t0, dt, n_steps, save_every)
    state_shape = x0.shape[len(batch) :]
    flat = x0.reshape(-1, *state_shape)
    x1_flat = None if x1 is None else x1.reshape(flat.shape)
    p_axis = 0 if field.p.ndim > 1 else None
    p_flat = field.p.reshape(flat.shape[0], field.p.shape[-1]) if p_axis == 0 else field.p

    def one(x0_i, x1_i, p_i):
        return _trajectory(integrator, dataclasses.replace(field, p=p_i), x0_i, x1_i, t0, dt, n_steps, save_every)

    x1_axis = None if x1 is None else 0
    xs, result, failed_at = jax.vmap(one, in_axes=(0, x1_axis, p_axis))(flat, x1_flat, p_flat)
    return xs.reshape(*batch, *xs.shape[1:]), result, failed_at


def _trajectory(integrator, field, x0, x1, t0, dt, n_steps, save_every):
    """All saved states, the result of the first failed step (or success) and its index (−1 if none).

    The states from the first failed step on are NaN.
    """

    def advance(carry, k):
        x, state, result, failed_at = carry
        x_next, state, step_result = integrator.step(field, t0 + k * dt, x, state, dt)
        first = (result == RESULTS.successful) & (step_result != RESULTS.successful)
        result = RESULTS.where(first, step_result, result)
        failed_at = jnp.where(first, k.astype(failed_at.dtype), failed_at)
        return (x_next, state, result, failed_at), None

    def block(carry, start):
        carry, _ = jax.lax.scan(advance, carry, start + jnp.arange(save_every, dtype=x0.dtype))
        return carry, carry[0]

    state = integrator.init(field, t0, x0, dt, x1)
    starts = save_every * jnp.arange(n_steps // save_every, dtype=x0.dtype)
    start = (x0, state, RESULTS.successful, jnp.asarray(-1))
    (_, _, result, failed_at), xs = jax.lax.scan(block, start, starts)
    xs = jnp.concatenate([x0[None], xs])
    saved_steps = save_every * jnp.arange(xs.shape[0])
    failed_rows = (failed_at >= 0) & (saved_steps > failed_at)
    xs = jnp.where(failed_rows.reshape(-1, *(1,) * x0.ndim), jnp.nan, xs)
    return xs, result, failed_at
