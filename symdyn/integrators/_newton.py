"""The stage equations of an implicit Runge-Kutta step, solved by Newton's method.

The solve sits inside `lax.custom_root`, so gradients come from the implicit
function theorem (one linear solve with the converged Jacobian), not from
differentiating through the iterations.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._field import AbstractVectorField


def solve_stages(
    field: AbstractVectorField, t: Any, x: jax.Array, h: Any, a: np.ndarray, c: np.ndarray, max_iterations: int
) -> tuple[jax.Array, jax.Array]:
    """The slopes K_i = f(t + c_i h, x + h Σ_j a_ij K_j), shape (s, *x.shape), and whether Newton converged."""
    stages, shape, n, dtype = len(c), x.shape, x.size, x.dtype
    a_matrix = jnp.asarray(a, dtype)
    times = [t + float(c_i) * h for c_i in c]

    def stage_points(slopes: jax.Array) -> jax.Array:
        return x.ravel() + h * (a_matrix @ slopes)

    def residual(slopes: jax.Array) -> jax.Array:
        points = stage_points(slopes)
        values = [field.rhs(times[i], points[i].reshape(shape)).ravel() for i in range(stages)]
        return slopes - jnp.stack(values)

    def newton_matrix(slopes: jax.Array) -> jax.Array:
        # ∂(residual_i)/∂(slopes_j) = δ_ij I − h a_ij J(stage point i)
        points = stage_points(slopes)
        jacobians = jnp.stack([field.jacobian(times[i], points[i].reshape(shape)) for i in range(stages)])
        blocks = a_matrix[:, None, :, None] * jacobians[:, :, None, :]
        return jnp.eye(stages * n, dtype=dtype) - h * blocks.reshape(stages * n, stages * n)

    def newton(residual_fn, initial: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The slopes, and the relative size of the last update (a float: custom_root differentiates aux)."""
        eps = jnp.finfo(dtype).eps

        def scale(slopes: jax.Array) -> jax.Array:
            return 1 + jnp.max(jnp.abs(slopes))

        def iterate(carry):
            slopes, _, count = carry
            update = jnp.linalg.solve(newton_matrix(slopes), -residual_fn(slopes).ravel()).reshape(slopes.shape)
            return slopes + update, jnp.max(jnp.abs(update)), count + 1

        def unfinished(carry):
            slopes, size, count = carry
            return (size > 100 * eps * scale(slopes)) & (count < max_iterations)

        start = (initial, jnp.asarray(jnp.inf, dtype), jnp.asarray(0))
        slopes, size, _ = jax.lax.while_loop(unfinished, iterate, start)
        return slopes, size / scale(slopes)

    def tangent_solve(linear, rhs: jax.Array) -> jax.Array:
        matrix = jax.jacfwd(linear)(rhs).reshape(stages * n, stages * n)
        return jnp.linalg.solve(matrix, rhs.ravel()).reshape(rhs.shape)

    initial = jnp.tile(field.rhs(t, x).ravel(), (stages, 1))
    slopes, last_update = jax.lax.custom_root(residual, initial, newton, tangent_solve, has_aux=True)
    # round-off can keep the last update above 100 eps; a failure is an update above sqrt(eps)
    converged = (last_update <= jnp.sqrt(jnp.finfo(dtype).eps)) & jnp.all(jnp.isfinite(slopes))
    return slopes.reshape((stages, *shape)), converged
