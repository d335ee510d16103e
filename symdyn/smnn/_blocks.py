"""The nonzero blocks of the S-MNN normal equations M y = β (Chen et al., eq. 10 and Appendix A.2).

The least-squares system A y ≈ b weights the governing equations (eq. 4) by w_gov,
the initial values (eq. 5) by w_init, and the forward and backward Taylor
smoothness constraints (eq. 6, 7) by w_smooth s_t^r. Ordering the unknowns by time,
M = Aᵀ W A is block tridiagonal: diagonal blocks M_t, subdiagonal blocks N_t
(row t+1, column t), each of size V(R+1). Only these are ever built.
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._block_solver import BlockTridiagonal, split_batch
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


def _smoothness_constants(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The constants that s^{i+j} multiplies, entry by entry, in the smoothness shares of M_t, M_{t+1} and N_t."""
    f = taylor_matrix(order)
    i, j = np.indices(f.shape)
    sign = (-1.0) ** (i + j)
    eye = np.eye(order + 1)
    return f.T @ f + eye, sign * (f.T @ f) + eye, -(f + sign * f.T)


def _powers(s: jax.Array, order: int) -> list[jax.Array]:
    """s^0 .. s^{2R}, as products (exact for integer powers, and far cheaper than pow)."""
    powers = [jnp.ones_like(s)]
    for _ in range(2 * order):
        powers.append(powers[-1] * s)
    return powers


def smoothness_blocks(s: jax.Array, order: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per step (s is (T-1, B)): the forward constraint's share of M_t, the backward one's of M_{t+1}, and N_t.

    With S⁺ = diag(s^r), S⁻ = diag((−s)^r), the weighted forward residual is
    S⁺y_{t+1} − F S⁺y_t and the backward one S⁻y_t − F S⁻y_{t+1}. Expanding their
    squares (eq. 25, 27), every entry (i, j) is a constant times s^{i+j}:
    S⁺FᵀFS⁺ + (S⁺)² = (FᵀF + I) ⊙ s^{i+j}, S⁻FᵀFS⁻ + (S⁻)² = ((−1)^{i+j}FᵀF + I) ⊙ s^{i+j}
    and N_t = −S⁺FS⁺ − S⁻FᵀS⁻ = −(F + (−1)^{i+j}Fᵀ) ⊙ s^{i+j}. Each is (T-1, R+1, R+1, B).
    """
    powers = _powers(s, order)
    # s^{i+j}: (T-1, R+1, R+1, B), stacked from the powers (indexing them would be a gather, slow on CPU)
    scale = jnp.stack([jnp.stack([powers[a + b] for b in range(order + 1)], axis=1) for a in range(order + 1)], axis=1)

    def times(constant: np.ndarray) -> jax.Array:
        return jnp.asarray(constant, s.dtype)[None, :, :, None] * scale

    return tuple(times(constant) for constant in _smoothness_constants(order))


def _time_first(dims: Dimensions, c: jax.Array) -> jax.Array:
    """C_t: (B, T, Q, V, R+1) -> (T, Q, m, B)."""
    return jnp.moveaxis(c.reshape(dims.batch, dims.times, dims.equations, dims.block), 0, -1)


def _initial_mask(dims: Dimensions, dtype) -> jax.Array:
    """The diagonal of U_t (eq. 22): 1 for the values given at the first T_init time points, (T, m)."""
    initial = np.zeros((dims.times, dims.variables, dims.order + 1))
    initial[: dims.initial_times, :, : dims.initial_order + 1] = 1.0
    return jnp.asarray(initial.reshape(dims.times, dims.block), dtype)


def normal_blocks(dims: Dimensions, c: jax.Array, s: jax.Array, weights: tuple) -> tuple[jax.Array, jax.Array]:
    """M (T, m, m, B) and N (T-1, m, m, B), m = V(R+1) (Appendix A.2, eq. 26-28).

    Time first and batch last: the layout of the block solvers.
    """
    w_gov, w_init, w_smooth = weights
    coefficients = _time_first(dims, c)  # C_t: (T, Q, m, B)
    # sums over the few equations written out: XLA reduces slowly over a middle axis
    gram = sum(coefficients[:, q, :, None] * coefficients[:, q, None, :] for q in range(dims.equations))
    to_current, to_next, coupling = smoothness_blocks(jnp.moveaxis(s, 0, -1), dims.order)
    smooth = jnp.pad(to_current, ((0, 1), (0, 0), (0, 0), (0, 0))) + jnp.pad(to_next, ((1, 0), (0, 0), (0, 0), (0, 0)))
    eye = jnp.eye(dims.block, dtype=c.dtype)[None, :, :, None]
    diagonal = (
        w_gov**2 * gram
        + w_init**2 * _initial_mask(dims, c.dtype)[:, :, None, None] * eye
        + w_smooth**2 * _per_variable(smooth, dims.variables)
    )
    lower = w_smooth**2 * _per_variable(coupling, dims.variables)
    return diagonal, lower


def normal_rhs(dims: Dimensions, c: jax.Array, d: jax.Array, u: jax.Array, weights: tuple) -> jax.Array:
    """β = w_gov² Σ_q C_qᵀ d_q + w_init² U u (T, m, B)."""
    w_gov, w_init, _ = weights
    coefficients, rhs_values = _time_first(dims, c), jnp.moveaxis(d, 0, -1)
    projected = sum(coefficients[:, q] * rhs_values[:, q, None] for q in range(dims.equations))
    padding = ((0, 0), (0, dims.times - dims.initial_times), (0, 0), (0, dims.order - dims.initial_order))
    initial_values = jnp.moveaxis(jnp.pad(u, padding).reshape(dims.batch, dims.times, dims.block), 0, -1)
    return w_gov**2 * projected + w_init**2 * initial_values


def normal_product(dims: Dimensions, c: jax.Array, s: jax.Array, weights: tuple, x: jax.Array) -> jax.Array:
    """M x for x (T, m, B), without building M's blocks.

    The solve's derivatives go through this product: differentiated in c, s and the weights it
    is eq. 14's gradient, −gᵀ (∂M) y, in elementwise operations over (T, m, B) arrays, where
    the block product would make (T, m, m, B) gradients of the blocks first.
    """
    w_gov, w_init, w_smooth = weights
    coefficients = _time_first(dims, c)
    residuals = [sum(coefficients[:, q, j] * x[:, j] for j in range(dims.block)) for q in range(dims.equations)]
    governing = sum(coefficients[:, q] * residuals[q][:, None] for q in range(dims.equations))

    # smoothness, per variable: entry (i, j) of each block of step t is a constant times s_t^{i+j}
    size = dims.order + 1
    powers = _powers(jnp.moveaxis(s, 0, -1)[:, None], dims.order)  # (T-1, 1, B) each
    values = x.reshape(dims.times, dims.variables, size, -1)
    now, then = values[:-1], values[1:]  # y_t and y_{t+1} of step t: (T-1, V, R+1, B)
    to_current, to_next, coupling = _smoothness_constants(dims.order)

    def rows(first: np.ndarray, second: np.ndarray, a: jax.Array, b: jax.Array) -> jax.Array:
        """Σ_j s^{i+j} (first_ij a_j + second_ij b_j) for each row i: (T-1, V, R+1, B)."""
        return jnp.stack(
            [
                sum(
                    powers[i + j] * (float(first[i, j]) * a[:, :, j] + float(second[i, j]) * b[:, :, j])
                    for j in range(size)
                )
                for i in range(size)
            ],
            axis=2,
        )

    upper = rows(to_current, coupling.T, now, then)  # rows t: M_t's share and N_tᵀ y_{t+1}
    below = rows(to_next, coupling, then, now)  # rows t+1: M_{t+1}'s share and N_t y_t
    smooth = jnp.pad(upper, ((0, 1), (0, 0), (0, 0), (0, 0))) + jnp.pad(below, ((1, 0), (0, 0), (0, 0), (0, 0)))
    initial = _initial_mask(dims, x.dtype)[..., None]
    return w_gov**2 * governing + w_init**2 * initial * x + w_smooth**2 * smooth.reshape(x.shape)


class NormalMatrix(BlockTridiagonal):
    """The S-MNN normal matrix, made of the coefficients c and the steps s: its blocks are built where a solver
    uses them, and its derivatives are taken from `normal_product`."""

    dims: Dimensions = eqx.field(static=True)
    c: jax.Array
    s: jax.Array
    weights: tuple

    def blocks(self):
        return normal_blocks(self.dims, self.c, self.s, self.weights)

    def product(self, x):
        return normal_product(self.dims, self.c, self.s, self.weights, x)

    @property
    def shape(self):
        return self.dims.times, self.dims.block, self.dims.batch

    def split(self, count):
        dims = dataclasses.replace(self.dims, batch=-(-self.dims.batch // count))
        weights = tuple(jnp.broadcast_to(w, (count,)) for w in self.weights)
        return NormalMatrix(dims, split_batch(self.c, count, 0), split_batch(self.s, count, 0), weights)

    @property
    def steps(self):
        """Per time point t: C_t (Q, m, N), s_{t-1} and s_t (0 beyond the ends), whether they exist, U_t's diagonal."""
        steps = jnp.moveaxis(self.s, 0, -1)
        zero = jnp.zeros_like(steps[:1])
        exists = jnp.arange(self.dims.times - 1) >= 0
        before = jnp.concatenate([jnp.zeros(1, bool), exists]).astype(self.s.dtype)
        after = jnp.concatenate([exists, jnp.zeros(1, bool)]).astype(self.s.dtype)
        previous, following = jnp.concatenate([zero, steps]), jnp.concatenate([steps, zero])
        return (
            _time_first(self.dims, self.c),
            previous,
            following,
            before,
            after,
            _initial_mask(self.dims, self.s.dtype),
        )

    def at(self, step):
        coefficients, previous, following, before, after, initial = step
        dims, size = self.dims, self.dims.order + 1
        w_gov, w_init, w_smooth = (w**2 for w in self.weights)
        to_current, to_next, coupling = _smoothness_constants(dims.order)
        back, ahead = _powers(previous, dims.order), _powers(following, dims.order)
        zero = jnp.zeros_like(following)

        def smooth(i: int, j: int, shares) -> jax.Array:
            """Entry (i, j) of a per-variable block: Σ flag · constant_ab · s^{a+b}, zero across variables."""
            (v, a), (w, b) = divmod(i, size), divmod(j, size)
            if v != w:
                return zero
            return w_smooth * sum(flag * float(constant[a, b]) * powers[a + b] for flag, constant, powers in shares)

        block = range(dims.block)
        diagonal = [
            [
                w_gov * sum(coefficients[q, i] * coefficients[q, j] for q in range(dims.equations))
                + smooth(i, j, [(after, to_current, ahead), (before, to_next, back)])
                + (w_init * initial[i] if i == j else 0.0)
                for j in block
            ]
            for i in block
        ]
        lower = [[smooth(i, j, [(after, coupling, ahead)]) for j in block] for i in block]
        return diagonal, lower
