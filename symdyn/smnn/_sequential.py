"""The sequential block Cholesky solver of S-MNN (Chen et al., Algorithms 1, 3 and 4), in `lax.scan`.

With Σ_1 = M_1, L_t = chol(Σ_t), K_t = N_t L_t⁻ᵀ and Σ_{t+1} = M_{t+1} − K_t K_tᵀ,
M = 𝓛𝓛ᵀ with 𝓛 block lower bidiagonal (L_t on the diagonal, K_t below): O(T)
time and memory, T sequential steps.

Blocks of up to `ENTRYWISE_LIMIT` unknowns over a batch of at least `ENTRYWISE_BATCH` systems
are carried through the scans entry by entry, each entry its own (N,) array: the factorisation
builds M_t and N_t from the matrix's data of step t (`BlockTridiagonal.at`), keeps only L_t, and
the substitutions make N_t again, so no block array is ever stored. Larger blocks, or a handful
of systems, are faster stacked: the blocks are built whole, and L_t and K_t are stored.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._block_solver import AbstractBlockSolver, BlockTridiagonal
from ._linalg import (
    cholesky,
    cholesky_entries,
    matmul,
    matvec,
    matvec_entries,
    solve_lower,
    solve_lower_entries,
    solve_upper,
    solve_upper_entries,
    transpose,
    vector_entries,
)

ENTRYWISE_LIMIT = 3
ENTRYWISE_BATCH = 64


class SequentialSolver(AbstractBlockSolver):
    """Blockwise Cholesky, one time point after the other."""

    def factorize(self, matrix: BlockTridiagonal):
        """Carried entry by entry: the entries of L_t up to the diagonal, (T, N) each, with M, whose blocks N_t the
        substitutions make again. Stacked: L_t and K_t, (T, m, m, N) each (K_T = 0 closes the sweep)."""
        _, size, batch = matrix.shape
        if size > ENTRYWISE_LIMIT or batch < ENTRYWISE_BATCH:
            return _factorize_blocks(*matrix.blocks())

        def step(previous, data):
            m_t, n_t = matrix.at(data)
            rank = range(size)
            sigma = [
                [m_t[i][j] - sum(p * q for p, q in zip(previous[i], previous[j])) for j in range(i + 1)] for i in rank
            ]
            l_t = cholesky_entries(sigma)
            return [solve_lower_entries(l_t, row) for row in n_t], l_t  # K_t = N_t L_t⁻ᵀ, row by row

        zero = jnp.zeros((batch,), jax.tree.leaves(matrix.steps)[0].dtype)
        _, chol = jax.lax.scan(step, [[zero] * size for _ in range(size)], matrix.steps)
        return chol, matrix

    def substitute(self, factors, rhs: jax.Array) -> jax.Array:
        """y (T, m, N) with M y = rhs: 𝓛 z = rhs forward in time, then 𝓛ᵀ y = z backward.

        Entry by entry, K_t z_t = N_t (L_t⁻ᵀ z_t) and K_tᵀ y_{t+1} = L_t⁻¹ (N_tᵀ y_{t+1}) with N_t made again
        from M's data: one more small triangular solve per step instead of reading a stored K_t."""
        chol, coupling = factors
        if isinstance(chol, jax.Array):
            return _substitute_blocks(chol, coupling, rhs)
        matrix = coupling

        def forward(carried, data):  # carried: K_{t-1} z_{t-1}
            l_t, step, b_t = data
            z_t = solve_lower_entries(l_t, [b - k for b, k in zip(vector_entries(b_t), carried)])
            n_t = matrix.at(step)[1]
            return matvec_entries(n_t, solve_upper_entries(l_t, z_t)), z_t

        def backward(following, data):  # following: y_{t+1}
            l_t, step, z_t = data
            n_t = matrix.at(step)[1]
            pulled = solve_lower_entries(l_t, matvec_entries(n_t, following, transposed=True))
            y_t = solve_upper_entries(l_t, [z - p for z, p in zip(z_t, pulled)])
            return y_t, y_t

        start = [jnp.zeros_like(rhs[0, 0])] * rhs.shape[-2]
        _, z = jax.lax.scan(forward, start, (chol, matrix.steps, rhs))
        _, y = jax.lax.scan(backward, start, (chol, matrix.steps, z), reverse=True)
        return jnp.stack(y, axis=1)


def _factorize_blocks(diagonal: jax.Array, lower: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`factorize` on stacked blocks (unrolled up to `_linalg.UNROLL_LIMIT`, batched LAPACK calls beyond)."""

    def step(previous, blocks):
        m_t, n_t = blocks
        l_t = cholesky(m_t - matmul(previous, transpose(previous)))
        k_t = transpose(solve_lower(l_t, transpose(n_t)))  # N_t L_t⁻ᵀ
        return k_t, (l_t, k_t)

    lower = jnp.concatenate([lower, jnp.zeros_like(lower[:1])])
    _, factors = jax.lax.scan(step, jnp.zeros_like(diagonal[0]), (diagonal, lower))
    return factors


def _substitute_blocks(chol: jax.Array, coupling: jax.Array, rhs: jax.Array) -> jax.Array:
    def forward(carried, blocks):
        l_t, k_t, b_t = blocks
        z_t = solve_lower(l_t, b_t - carried)
        return matvec(k_t, z_t), z_t

    def backward(following, blocks):
        l_t, k_t, z_t = blocks
        y_t = solve_upper(l_t, z_t - matvec(transpose(k_t), following))
        return y_t, y_t

    _, z = jax.lax.scan(forward, jnp.zeros_like(rhs[0]), (chol, coupling, rhs))
    _, y = jax.lax.scan(backward, jnp.zeros_like(rhs[0]), (chol, coupling, z), reverse=True)
    return y
