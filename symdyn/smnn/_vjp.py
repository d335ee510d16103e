"""M y = β with the analytic backward pass of Chen et al. (eq. 14), for either block solver.

The forward pass keeps the factors; the backward pass reuses them for one more
solve, g = M⁻¹ ȳ, and forms ∂ℓ/∂β = g, ∂ℓ/∂M_t = −g_t y_tᵀ and
∂ℓ/∂N_t = −(g_{t+1} y_tᵀ + y_{t+1} g_tᵀ) (Algorithm 2). Nothing differentiates
through the factorization.
"""

from __future__ import annotations

import functools

import jax

from ._cyclic_reduction import CyclicReductionSolver
from ._linalg import outer
from ._sequential import SequentialSolver

BlockSolver = SequentialSolver | CyclicReductionSolver


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def block_tridiagonal_solve(solver: BlockSolver, diagonal: jax.Array, lower: jax.Array, rhs: jax.Array) -> jax.Array:
    """y with M y = rhs for symmetric positive definite block tridiagonal M.

    Time comes first, the batch last.

    Args:
        solver: `SequentialSolver()` or `CyclicReductionSolver()`.
        diagonal: (T, m, m, B) the blocks M_t.
        lower: (T-1, m, m, B) the blocks N_t below the diagonal (row t+1, column t).
        rhs: (T, m, B).
    """
    return solver.substitute(solver.factorize(diagonal, lower), rhs)


def _forward(solver, diagonal, lower, rhs):
    factors = solver.factorize(diagonal, lower)
    y = solver.substitute(factors, rhs)
    return y, (factors, y)


def _backward(solver, saved, cotangent):
    factors, y = saved
    g = solver.substitute(factors, cotangent)
    d_diagonal = -outer(g, y)
    d_lower = -(outer(g[1:], y[:-1]) + outer(y[1:], g[:-1]))
    return d_diagonal, d_lower, g


block_tridiagonal_solve.defvjp(_forward, _backward)
