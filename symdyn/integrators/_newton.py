"""The stage equations of an implicit Runge-Kutta step, solved by Newton's method; banded solves for PDEs.

The solve sits inside `lax.custom_root`, so gradients come from the implicit
function theorem (one linear solve with the converged Jacobian), not from
differentiating through the iterations.

Newton's matrix is I − h (A ⊗ J) over the s stages. For an ODE (or a PDE whose every
point reads the whole grid) it is dense, from the field's dense Jacobian. On a bounded
grid J couples each point only to its stencil's neighbours (`GridCoupling`): J comes
from `count` Jacobian-vector products of the colours (Curtis, Powell & Reid 1974)
instead of one per state entry, and, with the unknowns ordered point by point (fields,
then stages, inside a point), the matrix is banded; `BlockTridiagonal` factorises it
in blocks at least as wide as the band, in O(size · block²) instead of O(size³).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from ..lower import GridCoupling
from ._field import AbstractVectorField

MIN_BLOCK = 64  # below this, one block's dense LU is cheaper than the scan's steps (measured on 1-D grids)


class BlockTridiagonal(eqx.Module):
    """A banded matrix over a grid's state, factorised by block LU (block Thomas), and its solve.

    The unknowns are `(stages, fields, *grid)` arrays, ordered point-major inside (each point's
    fields, and each field's stages, together), so that the matrix is banded with half-bandwidth
    `stages · (coupling.bandwidth + 1) − 1`; blocks of `size` rows at least that wide make it
    block tridiagonal. The diagonal blocks' LU pivots within the block; across blocks there is
    no pivoting, which is safe for the matrices I − h a J of stiff steps (block diagonally
    dominant when h a J is dissipative) and otherwise shows as a Newton iteration that does
    not converge.

    Attributes:
        factors, pivots: LU of the Schur complements S_k `(blocks, size, size)`, `(blocks, size)`.
        multipliers: W_k = L_k S_{k−1}⁻¹ `(blocks, size, size)` (the first unused).
        upper: the blocks above the diagonal `(blocks, size, size)` (the last unused).
        shape: `(stages, fields, *grid)`.
    """

    factors: jax.Array
    pivots: jax.Array
    multipliers: jax.Array
    upper: jax.Array
    shape: tuple[int, ...] = eqx.field(static=True)

    @classmethod
    def factor(
        cls, coupling: GridCoupling, stages: int, entry: Callable[[Any, Any, Any, Any], jax.Array], dtype
    ) -> BlockTridiagonal:
        """Factorise the matrix whose entry at (stage i, state entry p), (stage j, state entry q) is
        `entry(i, j, p, q)` (index arrays; read only where p may read q)."""
        size = stages * coupling.size
        block = min(max(stages * (coupling.bandwidth + 1) - 1, MIN_BLOCK), size)
        blocks = -(-size // block)
        rows = (jnp.arange(blocks)[:, None, None] * block + jnp.arange(block)[None, :, None]) * jnp.ones(
            (1, 1, block), int
        )

        def band(offset: int) -> jax.Array:
            columns = rows - jnp.arange(block)[None, :, None] + jnp.arange(block)[None, None, :] + offset * block
            inside = (rows < size) & (columns >= 0) & (columns < size)
            r, c = jnp.clip(rows, 0, size - 1), jnp.clip(columns, 0, size - 1)
            p, q = _state_index(coupling, stages, r), _state_index(coupling, stages, c)
            read = inside & coupling.couples(p, q)
            values = jnp.where(read, entry(r % stages, c % stages, p, q), jnp.zeros((), dtype))
            padding = (rows >= size) & (rows == columns)  # identity rows past the end
            return values + padding.astype(dtype)

        diagonal, lower, upper = band(0), band(-1), band(1)

        def eliminate(previous, blocks_k):
            lu, pivots = previous
            d, below, above_previous = blocks_k
            # W_k = L_k S_{k−1}⁻¹ (through S_{k−1}ᵀ Wᵀ = L_kᵀ); S_k = D_k − W_k U_{k−1}
            w = jsl.lu_solve((lu, pivots), below.T, trans=1).T
            factored = jsl.lu_factor(d - w @ above_previous)
            return factored, (factored, w)

        first = jsl.lu_factor(diagonal[0])
        _, ((lus, pivots), ws) = jax.lax.scan(eliminate, first, (diagonal[1:], lower[1:], upper[:-1]))
        return cls(
            factors=jnp.concatenate([first[0][None], lus]),
            pivots=jnp.concatenate([first[1][None], pivots]),
            multipliers=jnp.concatenate([jnp.zeros_like(diagonal[:1]), ws]),
            upper=upper,
            shape=(stages, coupling.fields, *coupling.shape),
        )

    def solve(self, rhs: jax.Array) -> jax.Array:
        """x with M x = rhs, both of `shape`."""
        blocks, block = self.factors.shape[:2]
        ordered = jnp.moveaxis(rhs.reshape(self.shape[0], self.shape[1], -1), (0, 1), (2, 1)).ravel()
        ordered = jnp.pad(ordered, (0, blocks * block - ordered.size)).reshape(blocks, block)

        def forward(previous, inputs):
            r, w = inputs
            y = r - w @ previous
            return y, y

        _, ys = jax.lax.scan(forward, ordered[0], (ordered[1:], self.multipliers[1:]))
        ys = jnp.concatenate([ordered[:1], ys])
        last = jsl.lu_solve((self.factors[-1], self.pivots[-1]), ys[-1])

        def backward(following, inputs):
            y, lu, pivots, above = inputs
            x = jsl.lu_solve((lu, pivots), y - above @ following)
            return x, x

        _, xs = jax.lax.scan(
            backward, last, (ys[:-1], self.factors[:-1], self.pivots[:-1], self.upper[:-1]), reverse=True
        )
        ordered = jnp.concatenate([xs, last[None]]).ravel()[: rhs.size]
        points = ordered.reshape(-1, self.shape[1], self.shape[0])  # (point, field, stage)
        return jnp.moveaxis(points, (2, 1), (0, 1)).reshape(self.shape)


def _state_index(coupling: GridCoupling, stages: int, ordered):
    """The (field-major) state entry at a point-major position (stages innermost)."""
    position = ordered // stages
    points = coupling.size // coupling.fields
    return (position % coupling.fields) * points + position // coupling.fields


def colour_products(coupling: GridCoupling, linear: Callable, shape: tuple[int, ...], dtype) -> jax.Array:
    """`linear` (state → state, with this coupling) applied to each colour's indicator: `(count, size)`."""
    indicators = jnp.asarray(coupling.indicators(dtype)).reshape(coupling.count, *shape)
    return jax.vmap(linear)(indicators).reshape(coupling.count, -1)


def shifted_banded(coupling: GridCoupling, ha: jax.Array, products: jax.Array) -> BlockTridiagonal:
    """I − (ha ⊗ J) over the stages, factorised: block (i, j) is δ_ij I − ha_ij J_i, each J_i given by its
    `colour_products` (`products[i]`). Newton's matrix (ha = h A), and IMEX's I − hL (one stage, J = L)."""
    colours, dtype = jnp.asarray(coupling.colours), products.dtype

    def entry(i, j, p, q):
        return ((i == j) & (p == q)).astype(dtype) - ha[i, j] * products[i, colours[q], p]

    return BlockTridiagonal.factor(coupling, ha.shape[0], entry, dtype)


def solve_stages(
    field: AbstractVectorField, t: Any, x: jax.Array, h: Any, a: np.ndarray, c: np.ndarray, max_iterations: int
) -> tuple[jax.Array, jax.Array]:
    """The slopes K_i = f(t + c_i h, x + h Σ_j a_ij K_j), shape (s, *x.shape), and whether Newton converged."""
    stages, shape, n, dtype = len(c), x.shape, x.size, x.dtype
    a_matrix = jnp.asarray(a, dtype)
    times = [t + float(c_i) * h for c_i in c]
    coupling = field.coupling
    banded = coupling is not None and coupling.banded

    def stage_points(slopes: jax.Array) -> jax.Array:
        return (x.ravel() + h * (a_matrix @ slopes)).reshape(stages, *shape)

    def residual(slopes: jax.Array) -> jax.Array:
        points = stage_points(slopes)
        values = [field.rhs(times[i], points[i]).ravel() for i in range(stages)]
        return slopes - jnp.stack(values)

    def newton_solver(slopes: jax.Array) -> Callable[[jax.Array], jax.Array]:
        # ∂(residual_i)/∂(slopes_j) = δ_ij I − h a_ij J(stage point i)
        points = stage_points(slopes)
        if banded:
            products = jnp.stack(
                [
                    colour_products(coupling, lambda v, i=i: field.jvp(times[i], points[i], v), shape, dtype)
                    for i in range(stages)
                ]
            )
            system = shifted_banded(coupling, h * a_matrix, products)
            return lambda r: system.solve(r.reshape(stages, *shape)).reshape(stages, n)
        jacobians = jnp.stack([field.jacobian(times[i], points[i]) for i in range(stages)])
        blocks = a_matrix[:, None, :, None] * jacobians[:, :, None, :]
        factored = jsl.lu_factor(jnp.eye(stages * n, dtype=dtype) - h * blocks.reshape(stages * n, stages * n))
        return lambda r: jsl.lu_solve(factored, r.ravel()).reshape(stages, n)

    def newton(residual_fn, initial: jax.Array) -> tuple[jax.Array, jax.Array]:
        """The slopes, and the relative size of the last update (a float: custom_root differentiates aux)."""
        eps = jnp.finfo(dtype).eps

        def scale(slopes: jax.Array) -> jax.Array:
            return 1 + jnp.max(jnp.abs(slopes))

        def iterate(carry):
            slopes, _, count = carry
            update = newton_solver(slopes)(-residual_fn(slopes))
            return slopes + update, jnp.max(jnp.abs(update)), count + 1

        def unfinished(carry):
            slopes, size, count = carry
            return (size > 100 * eps * scale(slopes)) & (count < max_iterations)

        start = (initial, jnp.asarray(jnp.inf, dtype), jnp.asarray(0))
        slopes, size, _ = jax.lax.while_loop(unfinished, iterate, start)
        return slopes, size / scale(slopes)

    def tangent_solve(linear, rhs: jax.Array) -> jax.Array:
        if banded:  # the linearised residual's matrix from (stage, colour) products, as Newton's own
            products = jax.vmap(linear)(
                jnp.einsum(
                    "ji,ck->cjik", jnp.eye(stages, dtype=dtype), coupling.indicators(dtype).reshape(coupling.count, n)
                ).reshape(coupling.count * stages, stages, n)
            ).reshape(coupling.count, stages, stages, n)  # (colour, stage j, stage i, entry p)
            colours = jnp.asarray(coupling.colours)
            system = BlockTridiagonal.factor(coupling, stages, lambda i, j, p, q: products[colours[q], j, i, p], dtype)
            return system.solve(rhs.reshape(stages, *shape)).reshape(rhs.shape)
        matrix = jax.jacfwd(linear)(rhs).reshape(stages * n, stages * n)
        return jnp.linalg.solve(matrix, rhs.ravel()).reshape(rhs.shape)

    initial = jnp.tile(field.rhs(t, x).ravel(), (stages, 1))
    slopes, last_update = jax.lax.custom_root(residual, initial, newton, tangent_solve, has_aux=True)
    # round-off can keep the last update above 100 eps; a failure is an update above sqrt(eps)
    converged = (last_update <= jnp.sqrt(jnp.finfo(dtype).eps)) & jnp.all(jnp.isfinite(slopes))
    return slopes.reshape((stages, *shape)), converged
