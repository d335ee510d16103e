"""The sequential block Cholesky solver of S-MNN (Chen et al., Algorithms 1, 3 and 4), in `lax.scan`.

With Σ_1 = M_1, L_t = chol(Σ_t), K_t = N_t L_t⁻ᵀ and Σ_{t+1} = M_{t+1} − K_t K_tᵀ,
M = 𝓛𝓛ᵀ with 𝓛 block lower bidiagonal (L_t on the diagonal, K_t below): O(T)
time and memory, T sequential steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._block_solver import AbstractBlockSolver
from ._linalg import cholesky, matmul, matvec, solve_lower, solve_upper, transpose


class SequentialSolver(AbstractBlockSolver):
    """Blockwise Cholesky, one time point after the other.

    Blocks are time first, batch last: diagonal (T, m, m, N), lower (T-1, m, m, N), rhs (T, m, N).
    """

    def factorize(self, diagonal: jax.Array, lower: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The factors L_t and K_t, (T, m, m, N) each; K_T = 0 closes the sweep."""
        lower = jnp.concatenate([lower, jnp.zeros_like(lower[:1])])

        def step(previous, blocks):
            m_t, n_t = blocks
            l_t = cholesky(m_t - matmul(previous, transpose(previous)))
            k_t = transpose(solve_lower(l_t, transpose(n_t)))  # N_t L_t⁻ᵀ
            return k_t, (l_t, k_t)

        _, factors = jax.lax.scan(step, jnp.zeros_like(diagonal[0]), (diagonal, lower))
        return factors

    def substitute(self, factors: tuple[jax.Array, jax.Array], rhs: jax.Array) -> jax.Array:
        """y (T, m, N) with M y = rhs: 𝓛 z = rhs forward in time, then 𝓛ᵀ y = z backward."""
        chol, coupling = factors

        def forward(previous, blocks):
            l_t, k_previous, b_t = blocks
            z_t = solve_lower(l_t, b_t - matvec(k_previous, previous))
            return z_t, z_t

        shifted = jnp.concatenate([jnp.zeros_like(coupling[:1]), coupling[:-1]])
        _, z = jax.lax.scan(forward, jnp.zeros_like(rhs[0]), (chol, shifted, rhs))

        def backward(following, blocks):
            l_t, k_t, z_t = blocks
            y_t = solve_upper(l_t, z_t - matvec(transpose(k_t), following))
            return y_t, y_t

        _, y = jax.lax.scan(backward, jnp.zeros_like(rhs[0]), (chol, coupling, z), reverse=True)
        return y
