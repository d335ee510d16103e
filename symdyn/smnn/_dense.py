"""Dense baselines: the S-MNN least squares with A built in full, and the original MNN's QP (Appendix C).

Both build the constraint matrix from the definitions (eq. 4-7 and 51-56),
independently of the block formulas, and solve an n×n system: O(T²) memory and
O(T³) time. For tests and benchmarks, not for use.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._blocks import taylor_matrix
from ._problem import Coefficients, Dimensions, InitialValues, RightHandSides, Solution, Steps, check_arguments


def _per_variable(blocks: jax.Array, variables: int) -> jax.Array:
    eye = jnp.eye(variables, dtype=blocks.dtype)
    size = variables * blocks.shape[-1]
    return jnp.einsum("vw,...ij->...viwj", eye, blocks).reshape(*blocks.shape[:-2], size, size)


def _taylor(s: jax.Array, order: int, sign: float) -> jax.Array:
    """[A_t]_{ij} = (sign·s_t)^{j−i}/(j−i)!, the Taylor matrices of eq. 6-7: (B, T-1, R+1, R+1)."""
    i, j = np.indices((order + 1, order + 1))
    powers = jnp.asarray(np.maximum(j - i, 0), s.dtype)
    return jnp.asarray(taylor_matrix(order), s.dtype) * (sign * s[..., None, None]) ** powers


def _bidiagonal(current: jax.Array, following: jax.Array) -> jax.Array:
    """Rows for each step t with `current[t]` under y_t and `following[t]` under y_{t+1}: (B, (T-1)·rows, T·m)."""
    batch, steps, rows, block = current.shape
    full = jnp.einsum("tu,btij->btiuj", np.eye(steps, steps + 1), current)
    full = full + jnp.einsum("tu,btij->btiuj", np.eye(steps, steps + 1, k=1), following)
    return full.reshape(batch, steps * rows, (steps + 1) * block)


def _hard_constraints(dims: Dimensions, c: jax.Array, d: jax.Array, u: jax.Array):
    """The governing equations (eq. 4) and initial values (eq. 5): rows and right-hand sides."""
    batch, times, block = dims.batch, dims.times, dims.block
    coefficients = c.reshape(batch, times, dims.equations, block)
    governing = jnp.einsum("tu,btqi->btqui", np.eye(times), coefficients).reshape(batch, times * dims.equations, -1)
    picked = np.zeros(
        (dims.initial_times, dims.variables, dims.initial_order + 1, times, dims.variables, dims.order + 1)
    )
    t, v, r = np.indices((dims.initial_times, dims.variables, dims.initial_order + 1)).reshape(3, -1)
    picked[t, v, r, t, v, r] = 1.0
    initial = jnp.broadcast_to(jnp.asarray(picked.reshape(t.size, -1), c.dtype), (batch, t.size, times * block))
    return jnp.concatenate([governing, initial], axis=1), jnp.concatenate(
        [d.reshape(batch, -1), u.reshape(batch, -1)], 1
    )


def _step_powers(s: jax.Array, dims: Dimensions, orders: int) -> jax.Array:
    """s_t^r for each smoothness row (t, v, r < orders): (B, (T-1)·V·orders)."""
    powers = s[..., None, None] ** jnp.arange(orders, dtype=s.dtype)
    return jnp.broadcast_to(powers, (dims.batch, dims.times - 1, dims.variables, orders)).reshape(dims.batch, -1)


def dense_solve(
    c: Coefficients, d: RightHandSides, u: InitialValues, s: Steps, *, weights: tuple[float, float, float] = (1, 1, 1)
) -> Solution:
    """S-MNN's least squares y = (AᵀWA)⁻¹AᵀWb (eq. 9), A, W and b built in full (Appendix A.1)."""
    dims, c, d, u, s = check_arguments(c, d, u, s)
    return _dense(dims, c, d, u, s, tuple(jnp.asarray(w, c.dtype) for w in weights))


@functools.partial(jax.jit, static_argnums=0)
def _dense(dims: Dimensions, c, d, u, s, weights) -> jax.Array:
    w_gov, w_init, w_smooth = weights
    hard, b_hard = _hard_constraints(dims, c, d, u)
    eye = jnp.broadcast_to(jnp.eye(dims.block, dtype=c.dtype), (dims.batch, dims.times - 1, dims.block, dims.block))
    forward = _bidiagonal(-_per_variable(_taylor(s, dims.order, 1.0), dims.variables), eye)
    backward = _bidiagonal(eye, -_per_variable(_taylor(s, dims.order, -1.0), dims.variables))
    a = jnp.concatenate([hard, forward, backward], axis=1)
    smooth = w_smooth * jnp.tile(_step_powers(s, dims, dims.order + 1), 2)
    governing = jnp.full((dims.batch, dims.times * dims.equations), w_gov)
    initial = jnp.full((dims.batch, b_hard.shape[1] - governing.shape[1]), w_init)
    w = jnp.concatenate([governing, initial, smooth], axis=1) ** 2
    b = jnp.concatenate([b_hard, jnp.zeros_like(smooth)], axis=1)
    normal = jnp.einsum("bki,bk,bkj->bij", a, w, a)
    y = jnp.linalg.solve(normal, jnp.einsum("bki,bk,bk->bi", a, w, b)[..., None])[..., 0]
    return y.reshape(dims.batch, dims.times, dims.variables, dims.order + 1)


def mnn_dense_solve(
    c: Coefficients, d: RightHandSides, u: InitialValues, s: Steps, *, gamma: float = 0.5, delta: float = 0.1
) -> Solution:
    """The original MNN solver (Pervez et al. 2024; Chen et al., Appendix C), for comparison.

    Unknowns y' = [ε, y]. The governing equations and initial values are equalities;
    the forward and backward Taylor errors below order R (scaled by s^r) and the
    central-difference error at order R−1 (scaled by (s_t + s_{t+1})^{R−2}) each
    equal the slack ε (eq. 51-56 with the absolute values dropped). Solved as
    y' = (A'ᵀA')⁻¹(A'ᵀb' + γΔ), Δ = [δ, 0, …] (eq. 62), with the defaults of the
    original implementation.
    """
    dims, c, d, u, s = check_arguments(c, d, u, s)
    if dims.order < 1:
        raise ValueError("the MNN formulation needs derivatives up to an order R >= 1 in c")
    return _mnn(dims, c, d, u, s, jnp.asarray(gamma * delta, c.dtype))


@functools.partial(jax.jit, static_argnums=0)
def _mnn(dims: Dimensions, c, d, u, s, shift) -> jax.Array:
    batch, times, variables, order = dims.batch, dims.times, dims.variables, dims.order
    hard, b_hard = _hard_constraints(dims, c, d, u)
    lower_orders = np.concatenate([np.arange(v * (order + 1), v * (order + 1) + order) for v in range(variables)])
    eye = jnp.broadcast_to(jnp.eye(dims.block, dtype=c.dtype), (batch, times - 1, dims.block, dims.block))[
        :, :, lower_orders
    ]
    scale = _step_powers(s, dims, order).reshape(batch, times - 1, -1, 1)
    forward = _bidiagonal(-scale * _per_variable(_taylor(s, order, 1.0), variables)[:, :, lower_orders], scale * eye)
    backward = _bidiagonal(scale * eye, -scale * _per_variable(_taylor(s, order, -1.0), variables)[:, :, lower_orders])
    # (y_{t+2} − y_t) − (s_t + s_{t+1}) y'_{t+1} at order R−1, scaled by (s_t + s_{t+1})^{R−2}
    span = s[:, :-1] + s[:, 1:]
    rows, v = np.indices((times - 2, variables)).reshape(2, -1)
    central = jnp.zeros((batch, times - 2, variables, times, variables, order + 1), c.dtype)
    central = central.at[:, rows, v, rows + 2, v, order - 1].set(1.0)
    central = central.at[:, rows, v, rows, v, order - 1].set(-1.0)
    central = central.at[:, rows, v, rows + 1, v, order].set(-span[:, rows])
    central = (central * (span ** (order - 2))[:, :, None, None, None, None]).reshape(
        batch, (times - 2) * variables, -1
    )
    smooth = jnp.concatenate([forward, backward, central], axis=1)
    a = jnp.concatenate(
        [
            jnp.concatenate([jnp.zeros((batch, hard.shape[1], 1), c.dtype), hard], axis=2),
            jnp.concatenate([-jnp.ones((batch, smooth.shape[1], 1), c.dtype), smooth], axis=2),
        ],
        axis=1,
    )
    b = jnp.concatenate([b_hard, jnp.zeros((batch, smooth.shape[1]), c.dtype)], axis=1)
    rhs = jnp.einsum("bki,bk->bi", a, b).at[:, 0].add(shift)
    solution = jnp.linalg.solve(jnp.einsum("bki,bkj->bij", a, a), rhs[..., None])[..., 0]
    return solution[:, 1:].reshape(batch, times, variables, order + 1)
