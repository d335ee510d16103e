"""M y = β for symmetric positive definite block-tridiagonal M: the solver interface, and the solve
differentiable in both directions.

A block solver factorises M once and substitutes any number of right-hand sides with the
factors. The solve is a `lax.custom_linear_solve`: its tangent is one more substitution
with the same factors, y' = M⁻¹(β' − M' y), and its adjoint is too, g = M⁻¹ ȳ with
∂ℓ/∂β = g, ∂ℓ/∂M_t = −g_t y_tᵀ and ∂ℓ/∂N_t = −(g_{t+1} y_tᵀ + y_{t+1} g_tᵀ) (Chen et al.,
eq. 14 and Algorithm 2), the transpose of the product M y. That product is the matrix's own
(`BlockTridiagonal.product`): written in what M is made of, its derivative is eq. 14's gradient
in those quantities directly. Nothing differentiates through the factorisation.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .._results import RESULTS
from ._linalg import Block, entries


class BlockTridiagonal(eqx.Module):
    """A symmetric block-tridiagonal M, time first and batch last: the operand of a block solver.

    Solvers read it either whole, as its blocks, or one time point at a time, as the blocks
    that time point's data make: a scan over `steps` calling `at` builds each block where it
    is used and never stores it.
    """

    @abc.abstractmethod
    def blocks(self) -> tuple[Float[Array, "T m m N"], Float[Array, "T-1 m m N"]]:
        """The diagonal blocks M_t and the blocks N_t below the diagonal (row t+1, column t)."""

    @property
    @abc.abstractmethod
    def steps(self) -> Any:
        """A pytree of arrays with time as leading axis: the data each time point's blocks are made of."""

    @abc.abstractmethod
    def at(self, step: Any) -> tuple[Block, Block]:
        """M_t and N_t (zero at the last time point) as rows of (N,) entries, from `steps` at t."""

    @abc.abstractmethod
    def product(self, x: Float[Array, "T m N"]) -> Float[Array, "T m N"]:
        """M x. The solve differentiates this in what M is made of: its derivatives are M's."""

    @abc.abstractmethod
    def split(self, count: int) -> BlockTridiagonal:
        """M for `count` parts of the batch, each array with a leading axis over the parts (for `lax.map`); the
        last part is filled up with copies of the last system."""

    @property
    def shape(self) -> tuple[int, int, int]:
        """(T, m, N): time points, block size, batch."""
        diagonal, _ = jax.eval_shape(self.blocks)
        return diagonal.shape[0], diagonal.shape[1], diagonal.shape[-1]


def split_batch(array: jax.Array, count: int, axis: int) -> jax.Array:
    """`array` with its batch `axis` cut into `count` equal parts along a new leading axis (edge-padded)."""
    array = jnp.moveaxis(array, axis, 0)
    size = -(-array.shape[0] // count)
    if size * count > array.shape[0]:
        array = jnp.pad(array, [(0, size * count - array.shape[0])] + [(0, 0)] * (array.ndim - 1), mode="edge")
    return jnp.moveaxis(array.reshape(count, size, *array.shape[1:]), 1, axis + 1)


class Blocks(BlockTridiagonal):
    """M given by its blocks: diagonal (T, m, m, N), lower (T-1, m, m, N)."""

    diagonal: Float[Array, "T m m N"]
    lower: Float[Array, "T-1 m m N"]

    def blocks(self):
        return self.diagonal, self.lower

    @property
    def steps(self):
        return self.diagonal, jnp.concatenate([self.lower, jnp.zeros_like(self.lower[:1])])

    def at(self, step):
        return tuple(entries(block) for block in step)

    def product(self, x):
        return block_product(self.diagonal, self.lower, x)

    def split(self, count):
        return Blocks(split_batch(self.diagonal, count, -1), split_batch(self.lower, count, -1))


class AbstractBlockSolver(eqx.Module):
    """Factorise M once, substitute right-hand sides with the factors (the shape of lineax's solvers).

    M is a `BlockTridiagonal`; right-hand sides are time first, batch last, (T, m, N).
    """

    @abc.abstractmethod
    def factorize(self, matrix: BlockTridiagonal) -> Any:
        """The factors of M."""

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
    return factored_solve(solver, Blocks(diagonal, lower), rhs)


def factored_solve(
    solver: AbstractBlockSolver, matrix: BlockTridiagonal, rhs: Float[Array, "T m N"]
) -> tuple[Float[Array, "T m N"], RESULTS]:
    """`block_tridiagonal_solve` for any `BlockTridiagonal`.

    M is only factorised, never differentiated: the tangent and the adjoint differentiate
    `matrix.product` in what M is made of.
    """
    factors = solver.factorize(jax.lax.stop_gradient(matrix))
    y = jax.lax.custom_linear_solve(
        matrix.product, rhs, solve=lambda _, b: solver.substitute(factors, b), symmetric=True
    )
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(f)) for f in jax.tree.leaves(factors)]))
    return y, RESULTS.where(finite, RESULTS.successful, RESULTS.singular_system)
