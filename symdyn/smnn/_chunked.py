"""A block solver run over the batch in chunks, one after the other, so that each chunk's working set fits a
CPU core's cache.

Past about `CHUNK_ENTRIES` block entries per time step, a solver step's cost per system grows
several-fold (measured by benchmarks/smnn.py). Only the factorisation and the substitutions are
chunked: the solve's derivatives go through M's product, which runs on the whole batch at once.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ._block_solver import AbstractBlockSolver, BlockTridiagonal

# systems per chunk, times m²
CHUNK_ENTRIES = 2**14


def chunk_count(batch: int, block: int) -> int:
    """How many chunks a batch of systems with blocks of size `block` is solved in (1 on accelerators).

    The fewest within `CHUNK_ENTRIES`, moved up to a divisor of the batch where one is at most twice
    as many (equal chunks need no padding).
    """
    if jax.default_backend() != "cpu":
        return 1
    fewest = -(-batch * block**2 // CHUNK_ENTRIES)
    return next((k for k in range(fewest, 2 * fewest + 1) if batch % k == 0), fewest)


class ChunkedSolver(AbstractBlockSolver):
    """`solver` on `count` chunks of the batch in turn; the last chunk is filled up with copies of the last system."""

    solver: AbstractBlockSolver
    count: int = eqx.field(static=True)

    def factorize(self, matrix: BlockTridiagonal):
        return jax.lax.map(self.solver.factorize, matrix.split(self.count))

    def substitute(self, factors, rhs: jax.Array) -> jax.Array:
        times, block, batch = rhs.shape
        size = -(-batch // self.count)
        rhs = jnp.pad(rhs, ((0, 0), (0, 0), (0, size * self.count - batch)))
        parts = jnp.moveaxis(rhs.reshape(times, block, self.count, size), 2, 0)
        y = jax.lax.map(lambda part: self.solver.substitute(*part), (factors, parts))
        return jnp.moveaxis(y, 0, 2).reshape(times, block, -1)[..., :batch]
