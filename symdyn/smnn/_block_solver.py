"""M y = β for symmetric positive definite block-tridiagonal M: the solver interface, and the solve
differentiable in both directions.

A block solver factorises M once and substitutes any number of right-hand sides with the
factors. The solve is a `lax.custom_linear_solve`: its tangent is one more substitution
with the same factors, y' = M⁻¹(β' − M' y), and its adjoint is too, g = M⁻¹ ȳ with
∂ℓ/∂β = g, ∂ℓ/∂M_t = −g_t y_tᵀ and ∂ℓ/∂N_t = −(g_{t+1} y_tᵀ + y_{t+1} g_tᵀ) (Chen et al.,
eq. 14 and Algorithm 2), the transpose of the block product that defines M. Nothing
differentiates through the factorisation.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._results import RESULTS


class AbstractBlockSolver(eqx.Module):
    """Factorise M once, substitute right-hand sides with the factors (the shape of lineax's solvers).

    Blocks are time first, batch last: diagonal (T, m, m, N), lower (T-1, m, m, N), right-hand
    sides (T, m, N).
    """

    @abc.abstractmethod
    def factorize(self, diagonal: Float[Array, "T m m N"], lower: Float[Array, "T-1 m m N"]) -> Any:
        """The factors of M, from its diagonal blocks M_t and its blocks N_t below the diagonal."""

    @abc.abstractmethod
    def substitute(self, factors: Any, rhs: Float[Array, "T m N"]) -> Float[Array, "T m N"]:
        """y with M y = rhs, from the factors."""


def block_product(
    diagonal: Float[Array, "T m m N"], lower: Float[Array, "T-1 m m N"], y: Float[Array, "T m N"]
) -> Float[Array, "T m N"]:
    """M y for the block-tridiagonal M with these blocks.

    Only derivatives evaluate it (the solve itself uses the factors): written as broadcast
    products summed over the columns, its transpose in the blocks is one fused outer product,
    −g_t y_tᵀ of eq. 14, where entry-by-entry products would transpose into a padded array per entry.
    """

    def times(blocks, x):
        return jnp.sum(blocks * x[..., None, :, :], axis=-2)

    below = jnp.pad(times(lower, y[:-1]), ((1, 0), (0, 0), (0, 0)))
    above = jnp.pad(times(jnp.swapaxes(lower, -3, -2), y[1:]), ((0, 1), (0, 0), (0, 0)))
    return times(diagonal, y) + below + above


def block_tridiagonal_solve(
    solver: AbstractBlockSolver,
    diagonal: Float[Array, "T m m N"],
    lower: Float[Array, "T-1 m m N"],
    rhs: Float[Array, "T m N"],
) -> tuple[Float[Array, "T m N"], RESULTS]:
    """y with M y = rhs, and `RESULTS.singular_system` where M is not positive definite.

    Args:
        solver: `SequentialSolver()` or `CyclicReductionSolver()`.
        diagonal: (T, m, m, N) the blocks M_t. lower: (T-1, m, m, N) the blocks N_t below
            the diagonal (row t+1, column t). rhs: (T, m, N).

    Differentiable in forward and reverse mode with respect to all three.
    """
    factors = solver.factorize(jax.lax.stop_gradient(diagonal), jax.lax.stop_gradient(lower))
    y = jax.lax.custom_linear_solve(
        lambda x: block_product(diagonal, lower, x),
        rhs,
        solve=lambda _, b: solver.substitute(factors, b),
        symmetric=True,
    )
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(f)) for f in jax.tree.leaves(factors)]))
    return y, RESULTS.where(finite, RESULTS.successful, RESULTS.singular_system)
