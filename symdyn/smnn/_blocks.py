"""The nonzero blocks of the S-MNN normal equations M y = β (Chen et al., eq. 10 and Appendix A.2).

The least-squares system A y ≈ b weights the governing equations (eq. 4) by w_gov,
the initial values (eq. 5) by w_init, and the forward and backward Taylor
smoothness constraints (eq. 6, 7) by w_smooth s_t^r. Ordering the unknowns by time,
M = Aᵀ W A is block tridiagonal: diagonal blocks M_t, subdiagonal blocks N_t
(row t+1, column t), each of size V(R+1). Only these are ever built.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._problem import Dimensions


def taylor_matrix(order: int) -> np.ndarray:
    """F with F_ij = 1/(j − i)! for j ≥ i: the Taylor coefficients between derivative orders (eq. 24)."""
    i, j = np.indices((order + 1, order + 1))
    factorials = np.vectorize(lambda k: 1.0 / math.factorial(k) if k >= 0 else 0.0)(j - i)
    return np.where(j >= i, factorials, 0.0)


def _per_variable(blocks: jax.Array, variables: int) -> jax.Array:
    """(T, R+1, R+1, B) blocks repeated along the diagonal of (T, V(R+1), V(R+1), B)."""
    steps, size, _, batch = blocks.shape
    if variables == 1:
        return blocks
    eye = jnp.eye(variables, dtype=blocks.dtype)[None, :, None, :, None, None]
    return (eye * blocks[:, None, :, None, :, :]).reshape(steps, variables * size, variables * size, batch)


def smoothness_blocks(s: jax.Array, order: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per step (s is (T-1, B)): the forward constraint's share of M_t, the backward one's of M_{t+1}, and N_t.

    With S⁺ = diag(s^r), S⁻ = diag((−s)^r), the weighted forward residual is
    S⁺y_{t+1} − F S⁺y_t and the backward one S⁻y_t − F S⁻y_{t+1}. Expanding their
    squares (eq. 25, 27), every entry (i, j) is a constant times s^{i+j}:
    S⁺FᵀFS⁺ + (S⁺)² = (FᵀF + I) ⊙ s^{i+j}, S⁻FᵀFS⁻ + (S⁻)² = ((−1)^{i+j}FᵀF + I) ⊙ s^{i+j}
    and N_t = −S⁺FS⁺ − S⁻FᵀS⁻ = −(F + (−1)^{i+j}Fᵀ) ⊙ s^{i+j}. Each is (T-1, R+1, R+1, B).
    """
    f = taylor_matrix(order)
    i, j = np.indices(f.shape)
    sign = (-1.0) ** (i + j)
    powers = [jnp.ones_like(s)]
    for _ in range(2 * order):
        powers.append(powers[-1] * s)  # products, not pow: exact for integer powers, and far cheaper
    # s^{i+j}: (T-1, R+1, R+1, B), stacked from the powers (indexing them would be a gather, slow on CPU)
    scale = jnp.stack([jnp.stack([powers[a + b] for b in range(order + 1)], axis=1) for a in range(order + 1)], axis=1)

    def times(constant: np.ndarray) -> jax.Array:
        return jnp.asarray(constant, s.dtype)[None, :, :, None] * scale

    eye = np.eye(order + 1)
    return times(f.T @ f + eye), times(sign * (f.T @ f) + eye), times(-(f + sign * f.T))


def normal_blocks(
    dims: Dimensions, c: jax.Array, d: jax.Array, u: jax.Array, s: jax.Array, weights: tuple
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """M (T, m, m, B), N (T-1, m, m, B) and β (T, m, B), m = V(R+1) (Appendix A.2, eq. 26-28).

    Time first and batch last: the layout of the block solvers.
    """
    w_gov, w_init, w_smooth = weights
    batch, times, block = dims.batch, dims.times, dims.block
    coefficients = jnp.moveaxis(c.reshape(batch, times, dims.equations, block), 0, -1)  # C_t: (T, Q, m, B)
    # sums over the few equations written out: XLA reduces slowly over a middle axis
    rhs_values = jnp.moveaxis(d, 0, -1)
    gram = sum(coefficients[:, q, :, None] * coefficients[:, q, None, :] for q in range(dims.equations))
    projected = sum(coefficients[:, q] * rhs_values[:, q, None] for q in range(dims.equations))

    initial = np.zeros((times, dims.variables, dims.order + 1))
    initial[: dims.initial_times, :, : dims.initial_order + 1] = 1.0  # U_t of eq. 22, as its diagonal
    initial = jnp.asarray(initial.reshape(times, block), c.dtype)
    padding = ((0, 0), (0, times - dims.initial_times), (0, 0), (0, dims.order - dims.initial_order))
    initial_values = jnp.moveaxis(jnp.pad(u, padding).reshape(batch, times, block), 0, -1)

    to_current, to_next, coupling = smoothness_blocks(jnp.moveaxis(s, 0, -1), dims.order)
    smooth = jnp.pad(to_current, ((0, 1), (0, 0), (0, 0), (0, 0))) + jnp.pad(to_next, ((1, 0), (0, 0), (0, 0), (0, 0)))

    eye = jnp.eye(block, dtype=c.dtype)[None, :, :, None]
    diagonal = (
        w_gov**2 * gram
        + w_init**2 * initial[:, :, None, None] * eye
        + w_smooth**2 * _per_variable(smooth, dims.variables)
    )
    lower = w_smooth**2 * _per_variable(coupling, dims.variables)
    rhs = w_gov**2 * projected + w_init**2 * initial_values
    return diagonal, lower, rhs
