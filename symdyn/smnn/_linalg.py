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


# Entry-wise forms: a block is a list of rows of arrays over the batch, a lower triangular
# factor keeps its rows only up to the diagonal (row i has i+1 entries), a vector is a list.
# Inside `lax.scan` these avoid stacking each step's result into one array, which costs
# more than the arithmetic for blocks of a few unknowns.
Block = list[list[jax.Array]]
Vector = list[jax.Array]


def entries(a: jax.Array) -> Block:
    """The entries of blocks (..., m, p, N) as rows of (..., N) arrays."""
    return [[_entry(a, i, j) for j in range(a.shape[-2])] for i in range(a.shape[-3])]


def vector_entries(x: jax.Array) -> Vector:
    return [x[..., i, :] for i in range(x.shape[-2])]


def cholesky_entries(a: Block) -> Block:
    """The lower triangle of chol(a), row i holding its i+1 entries; a is read on and below the diagonal."""
    factor: Block = []
    for i in range(len(a)):
        row: list[jax.Array] = []
        for j in range(i + 1):
            other = row if j == i else factor[j]
            value = a[i][j] - sum(row[k] * other[k] for k in range(j))
            row.append(jnp.sqrt(value) if i == j else value / factor[j][j])
        factor.append(row)
    return factor


def solve_lower_entries(factor: Block, rhs: Vector) -> Vector:
    """L⁻¹ rhs for the lower triangle `factor` of `cholesky_entries`."""
    x: Vector = []
    for i, row in enumerate(factor):
        x.append((rhs[i] - sum(row[k] * x[k] for k in range(i))) / row[i])
    return x


def solve_upper_entries(factor: Block, rhs: Vector) -> Vector:
    """L⁻ᵀ rhs for the lower triangle `factor` of `cholesky_entries`."""
    m = len(factor)
    x: dict[int, jax.Array] = {}
    for i in range(m - 1, -1, -1):
        x[i] = (rhs[i] - sum(factor[k][i] * x[k] for k in range(i + 1, m))) / factor[i][i]
    return [x[i] for i in range(m)]


def matvec_entries(a: Block, x: Vector, transposed: bool = False) -> Vector:
    """a x, or aᵀ x with `transposed`."""
    if transposed:
        return [sum(a[k][i] * x[k] for k in range(len(a))) for i in range(len(a[0]))]
    return [sum(row[k] * x[k] for k in range(len(x))) for row in a]


def cholesky(a: jax.Array, unroll: bool | None = None) -> jax.Array:
    """Lower Cholesky factors of symmetric positive definite blocks."""
    m = a.shape[-2]
    if not _unrolled(m, unroll):
        return _from_lapack(jnp.linalg.cholesky(_lapack(a)))
    factor = cholesky_entries(entries(a))
    zero = jnp.zeros_like(_entry(a, 0, 0))
    return _assemble([row + [zero] * (m - len(row)) for row in factor])


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
    lower = [[_entry(factor, i, j) if vector else _entry(factor, i, j)[..., None, :] for j in range(i + 1)]
             for i in range(m)]  # fmt: skip
    solve = solve_upper_entries if upper else solve_lower_entries
    rows = vector_entries(rhs) if vector else [rhs[..., i, :, :] for i in range(m)]
    return jnp.stack(solve(lower, rows), axis=-2 if vector else -3)


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
    return jnp.stack(matvec_entries(entries(a), vector_entries(x)), axis=-2)


def transpose(a: jax.Array) -> jax.Array:
    return jnp.swapaxes(a, -3, -2)


def outer(x: jax.Array, y: jax.Array) -> jax.Array:
    """x yᵀ for vectors (..., m, N): (..., m, m, N)."""
    return x[..., :, None, :] * y[..., None, :, :]
