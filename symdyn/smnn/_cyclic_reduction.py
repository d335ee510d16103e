"""Block cyclic reduction: the same system in O(log T) sequential levels and O(T) work.

Each level eliminates the odd time points: with L_k = chol(D_k) for odd k,
W⁻_k = L_k⁻¹ E_{k−1} and W⁺_k = L_k⁻¹ E_kᵀ (E_k the block at row k+1, column k),
the even points keep a block-tridiagonal system with
D'_j = D_{2j} − W⁻ᵀW⁻ (odd 2j+1) − W⁺ᵀW⁺ (odd 2j−1) and E'_j = −W⁺ᵀ_{2j+1} W⁻_{2j+1},
half as long. Only positive definite blocks are ever inverted. Chen et al. name a
parallel-in-time solver as future work; this is it.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from . import _linalg as linalg
from ._block_solver import AbstractBlockSolver, BlockTridiagonal
from ._linalg import transpose

# Unrolled block algebra is fast but large: over log2(T) levels it would make compiling slow
# beyond the smallest blocks (m = 3 is the Lorenz case of the paper). The sequential solver
# unrolls up to `_linalg.UNROLL_LIMIT`.
CYCLIC_REDUCTION_UNROLL_LIMIT = 4

Level = tuple[jax.Array, jax.Array, jax.Array]


def _resize(array: jax.Array, length: int, before: int = 0) -> jax.Array:
    """`array` with `before` zero time points in front, cut or zero-padded to `length` time points."""
    pad = [(before, max(length - before - array.shape[0], 0))] + [(0, 0)] * (array.ndim - 1)
    return jnp.pad(array, pad)[:length]


class CyclicReductionSolver(AbstractBlockSolver):
    """Block cyclic reduction. Blocks are time first, batch last: (T, m, m, N), (T-1, m, m, N), (T, m, N)."""

    def factorize(self, matrix: BlockTridiagonal) -> tuple[list[Level], jax.Array]:
        """Per level (L_k, W⁻_k, W⁺_k) of the odd points, and the Cholesky factor of the last block."""
        diagonal, lower = matrix.blocks()
        unroll = diagonal.shape[-2] <= CYCLIC_REDUCTION_UNROLL_LIMIT
        cholesky, solve_lower, matmul = (
            functools.partial(f, unroll=unroll) for f in (linalg.cholesky, linalg.solve_lower, linalg.matmul)
        )
        levels = []
        while diagonal.shape[0] > 1:  # log2(T) levels, unrolled at trace time
            evens, odds = (diagonal.shape[0] + 1) // 2, diagonal.shape[0] // 2
            chol = cholesky(diagonal[1::2])
            # one solve for both couplings: XLA's CPU thread pool can deadlock on concurrent LAPACK calls
            both = solve_lower(chol, jnp.concatenate([lower[0::2], transpose(_resize(lower[1::2], odds))], axis=-2))
            to_left, to_right = jnp.split(both, 2, axis=-2)
            from_right = matmul(transpose(to_left), to_left)  # the odd point after each even one
            from_left = matmul(transpose(to_right), to_right)  # the odd point before
            diagonal = diagonal[0::2] - _resize(from_right, evens) - _resize(from_left, evens, before=1)
            lower = -_resize(matmul(transpose(to_right), to_left), evens - 1)
            levels.append((chol, to_left, to_right))
        return levels, cholesky(diagonal[0])

    def substitute(self, factors: tuple[list[Level], jax.Array], rhs: jax.Array) -> jax.Array:
        """y (T, m, N) with M y = rhs: reduce rhs level by level, solve the last block, go back up."""
        levels, top = factors
        unroll = top.shape[-2] <= CYCLIC_REDUCTION_UNROLL_LIMIT
        solve_lower, solve_upper, matvec = (
            functools.partial(f, unroll=unroll) for f in (linalg.solve_lower, linalg.solve_upper, linalg.matvec)
        )
        reduced = []
        for chol, to_left, to_right in levels:
            evens = (rhs.shape[0] + 1) // 2
            eliminated = solve_lower(chol, rhs[1::2])
            rhs = (
                rhs[0::2]
                - _resize(matvec(transpose(to_left), eliminated), evens)
                - _resize(matvec(transpose(to_right), eliminated), evens, before=1)
            )
            reduced.append(eliminated)
        y = solve_upper(top, solve_lower(top, rhs[0]))[None]
        for (chol, to_left, to_right), eliminated in zip(reversed(levels), reversed(reduced)):
            odds = chol.shape[0]
            left, right = y[:odds], _resize(y[1:], odds)
            odd = solve_upper(chol, eliminated - matvec(to_left, left) - matvec(to_right, right))
            y = jnp.zeros((y.shape[0] + odds, *y.shape[1:]), y.dtype).at[0::2].set(y).at[1::2].set(odd)
        return y
