"""Small-block linear algebra over many blocks at once, batch last: blocks (..., m, m, N), vectors (..., m, N).

With the batch on the last axis, every entry of a block is an array over the whole
batch, so for small m the Cholesky factorization, triangular solves and products
are written out entry by entry (unrolled at trace time) and run as wide
elementwise operations: several times faster on CPU than LAPACK calls on stacks
of tiny matrices. Past `UNROLL_LIMIT`, or with `unroll=False` (where many unrolled
calls would make compilation slow), the batched LAPACK routines take over.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

UNROLL_LIMIT = 12


def _entry(a: jax.Array, i: int, j: int) -> jax.Array:
    return a[..., i, j, :]


def _lapack(blocks: jax.Array) -> jax.Array:
    """(..., m, m, N) -> (..., N, m, m)."""
    return jnp.moveaxis(blocks, -1, -3)


def _from_lapack(blocks: jax.Array) -> jax.Array:
    return jnp.moveaxis(blocks, -3, -1)


def _assemble(entries: list[list[jax.Array]]) -> jax.Array:
    return jnp.stack([jnp.stack(row, axis=-2) for row in entries], axis=-3)


def _unrolled(size: int, unroll: bool | None) -> bool:
    return size <= UNROLL_LIMIT if unroll is None else unroll and size <= UNROLL_LIMIT


def cholesky(a: jax.Array, unroll: bool | None = None) -> jax.Array:
    """Lower Cholesky factors of symmetric positive definite blocks."""
    m = a.shape[-2]
    if not _unrolled(m, unroll):
        return _from_lapack(jnp.linalg.cholesky(_lapack(a)))
    factor = [[jnp.zeros_like(_entry(a, 0, 0)) for _ in range(m)] for _ in range(m)]
    for j in range(m):
        diagonal = jnp.sqrt(_entry(a, j, j) - sum(factor[j][k] ** 2 for k in range(j)))
        factor[j][j] = diagonal
        for i in range(j + 1, m):
            factor[i][j] = (_entry(a, i, j) - sum(factor[i][k] * factor[j][k] for k in range(j))) / diagonal
    return _assemble(factor)


def _substitute(factor: jax.Array, rhs: jax.Array, upper: bool, unroll: bool | None) -> jax.Array:
    """Forward (L x = rhs) or backward (Lᵀ x = rhs) substitution; rhs (..., m, N) or (..., m, k, N)."""
    m = factor.shape[-2]
    vector = rhs.ndim == factor.ndim - 1
    if not _unrolled(m, unroll):
        matrix = _lapack(factor)
        right = jnp.moveaxis(rhs[..., None, :] if vector else rhs, -1, -3)
        solved = jax.scipy.linalg.solve_triangular(matrix, right, lower=True, trans="T" if upper else 0)
        solved = jnp.moveaxis(solved, -3, -1)
        return solved[..., 0, :] if vector else solved

    def entry(i: int, j: int) -> jax.Array:
        value = _entry(factor, j, i) if upper else _entry(factor, i, j)
        return value if vector else value[..., None, :]  # broadcast over the columns of rhs

    row = (lambda i: rhs[..., i, :]) if vector else (lambda i: rhs[..., i, :, :])
    order = range(m - 1, -1, -1) if upper else range(m)
    x: dict[int, jax.Array] = {}
    for i in order:
        x[i] = (row(i) - sum(entry(i, k) * x[k] for k in x)) / entry(i, i)
    return jnp.stack([x[i] for i in range(m)], axis=-2 if vector else -3)


def solve_lower(factor: jax.Array, rhs: jax.Array, unroll: bool | None = None) -> jax.Array:
    """L⁻¹ rhs for lower triangular blocks L; rhs (..., m, N) or (..., m, k, N)."""
    return _substitute(factor, rhs, False, unroll)


def solve_upper(factor: jax.Array, rhs: jax.Array, unroll: bool | None = None) -> jax.Array:
    """L⁻ᵀ rhs for lower triangular blocks L; rhs (..., m, N) or (..., m, k, N)."""
    return _substitute(factor, rhs, True, unroll)


def matmul(a: jax.Array, b: jax.Array, unroll: bool | None = None) -> jax.Array:
    """a @ b for blocks (..., m, p, N) and (..., p, n, N)."""
    m, p, n = a.shape[-3], a.shape[-2], b.shape[-2]
    if not _unrolled(max(m, p, n), unroll):
        return jnp.einsum("...ijb,...jkb->...ikb", a, b)
    return _assemble([[sum(_entry(a, i, k) * _entry(b, k, j) for k in range(p)) for j in range(n)] for i in range(m)])


def matvec(a: jax.Array, x: jax.Array, unroll: bool | None = None) -> jax.Array:
    """a @ x for blocks (..., m, p, N) and vectors (..., p, N)."""
    m, p = a.shape[-3], a.shape[-2]
    if not _unrolled(max(m, p), unroll):
        return jnp.einsum("...ijb,...jb->...ib", a, x)
    return jnp.stack([sum(_entry(a, i, k) * x[..., k, :] for k in range(p)) for i in range(m)], axis=-2)


def transpose(a: jax.Array) -> jax.Array:
    return jnp.swapaxes(a, -3, -2)


def outer(x: jax.Array, y: jax.Array) -> jax.Array:
    """x yᵀ for vectors (..., m, N): (..., m, m, N)."""
    return x[..., :, None, :] * y[..., None, :, :]
