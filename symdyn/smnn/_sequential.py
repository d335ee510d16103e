"""The sequential block Cholesky solver of S-MNN (Chen et al., Algorithms 1, 3 and 4), in `lax.scan`.

With Σ_1 = M_1, L_t = chol(Σ_t), K_t = N_t L_t⁻ᵀ and Σ_{t+1} = M_{t+1} − K_t K_tᵀ,
M = 𝓛𝓛ᵀ with 𝓛 block lower bidiagonal (L_t on the diagonal, K_t below): O(T)
time and memory, T sequential steps.

Blocks of up to `ENTRYWISE_LIMIT` unknowns over a batch of at least `ENTRYWISE_BATCH` systems
are carried through the scans entry by entry: each entry of L_t and K_t is its own (T, N)
array, and a step never stacks its entries into a block (for the 3×3 blocks of the Lorenz
shapes this takes 5 % less memory at equal time). Larger blocks, or a handful of systems,
are faster stacked: a step then writes two arrays instead of m(3m+1)/2.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._block_solver import AbstractBlockSolver
from ._linalg import (
    cholesky,
    cholesky_entries,
    entries,
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
    """Blockwise Cholesky, one time point after the other.

    Blocks are time first, batch last: diagonal (T, m, m, N), lower (T-1, m, m, N), rhs (T, m, N).
    """

    def factorize(self, diagonal: jax.Array, lower: jax.Array):
        """The factors L_t and K_t (K_T = 0 closes the sweep): (T, m, m, N) arrays each, or, carried entry by
        entry, the rows of their entries, (T, N) each (L_t's only up to the diagonal)."""
        lower = jnp.concatenate([lower, jnp.zeros_like(lower[:1])])
        if diagonal.shape[-2] > ENTRYWISE_LIMIT or diagonal.shape[-1] < ENTRYWISE_BATCH:
            return _factorize_blocks(diagonal, lower)

        def step(previous, blocks):
            m_t, n_t = (entries(b) for b in blocks)
            rank = range(len(m_t))
            sigma = [
                [m_t[i][j] - sum(p * q for p, q in zip(previous[i], previous[j])) for j in range(i + 1)] for i in rank
            ]
            l_t = cholesky_entries(sigma)
            k_t = [solve_lower_entries(l_t, row) for row in n_t]  # N_t L_t⁻ᵀ, row by row
            return k_t, (l_t, k_t)

        zero = jnp.zeros_like(diagonal[0, 0, 0])
        start = [[zero] * diagonal.shape[-2] for _ in range(diagonal.shape[-2])]
        _, factors = jax.lax.scan(step, start, (diagonal, lower))
        return factors

    def substitute(self, factors, rhs: jax.Array) -> jax.Array:
        """y (T, m, N) with M y = rhs: 𝓛 z = rhs forward in time, then 𝓛ᵀ y = z backward."""
        chol, coupling = factors
        if isinstance(chol, jax.Array):
            return _substitute_blocks(chol, coupling, rhs)

        def forward(carried, blocks):  # carried: K_{t-1} z_{t-1}
            l_t, k_t, b_t = blocks
            z_t = solve_lower_entries(l_t, [b - k for b, k in zip(vector_entries(b_t), carried)])
            return matvec_entries(k_t, z_t), z_t

        def backward(following, blocks):  # following: y_{t+1}
            l_t, k_t, z_t = blocks
            pulled = matvec_entries(k_t, following, transposed=True)
            y_t = solve_upper_entries(l_t, [z - p for z, p in zip(z_t, pulled)])
            return y_t, y_t

        start = [jnp.zeros_like(rhs[0, 0])] * rhs.shape[-2]
        _, z = jax.lax.scan(forward, start, (chol, coupling, rhs))
        _, y = jax.lax.scan(backward, start, (chol, coupling, z), reverse=True)
        return jnp.stack(y, axis=1)


def _factorize_blocks(diagonal: jax.Array, lower: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`factorize` on stacked blocks (unrolled up to `_linalg.UNROLL_LIMIT`, batched LAPACK calls beyond)."""

    def step(previous, blocks):
        m_t, n_t = blocks
        l_t = cholesky(m_t - matmul(previous, transpose(previous)))
        k_t = transpose(solve_lower(l_t, transpose(n_t)))  # N_t L_t⁻ᵀ
        return k_t, (l_t, k_t)

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
