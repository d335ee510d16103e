"""One long sequence split along time over several devices: the partition method for block-tridiagonal M.

Device p holds the contiguous time points pL .. pL + L − 1 and keeps two of them, its first f_p
and its last l_p, as interface points. Its interior couples only to f_p and l_p, so each device
eliminates its own interior with a local block solver (sequential or cyclic reduction), with no
communication: X_p = M_JJ⁻¹ [M_Jf M_Jl] and Z_p = M_JJ⁻¹ β_J. What is left is the Schur
complement on the 2N interface points, again block tridiagonal and positive definite,

    S_ff = M_f − N_fᵀ X_f[first],  S_ll = M_l − N_l X_l[last],  S_lf = −N_l X_f[last],

coupled from l_p to f_{p+1} by the block N between the devices (N_f, N_l: the blocks that tie
f_p and l_p to the interior). That small system is solved whole on every device, and each
device recovers its interior as y_J = Z − X_f y_f − X_l y_l (the partition method of SPIKE;
Polizzi & Sameh 2006). Only the 2N interface blocks cross devices, gathered by XLA from the
shardings: `jax.shard_map` runs the local work, plain `jnp` the reduced system.

Factorising (X, S and the local factors) and substituting (Z, the reduced solve, y_J) are
separate, so the solve is differentiable through `block_tridiagonal_solve` like the others.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._distributed import device_mesh
from ._block_solver import AbstractBlockSolver, Blocks, BlockTridiagonal
from ._linalg import matmul, matvec, transpose
from ._sequential import SequentialSolver

# the fewest time points per device: an interface point at each end and an interior between them
MIN_PER_DEVICE = 3


class TimeShardedSolver(AbstractBlockSolver):
    """The partition method over a 1-D mesh along time, with `local` solving each device's interior.

    Blocks are time first, batch last: (T, m, m, N), (T-1, m, m, N), (T, m, N). T need not be a
    multiple of the device count: the last device is padded with identity blocks, decoupled from the
    rest, and the padding is dropped from the solution.
    """

    mesh: Mesh = eqx.field(static=True)
    local: AbstractBlockSolver

    def _length(self, times: int) -> int:
        """The padded T, a multiple of the device count."""
        count = self.mesh.devices.size
        return -(-times // count) * count

    def _map(self, fn, *args):
        """`fn` on each device's contiguous piece of the leading axis of every argument and result."""
        spec = PartitionSpec(self.mesh.axis_names[0])
        return jax.shard_map(fn, mesh=self.mesh, in_specs=spec, out_specs=spec)(*args)

    def _whole(self, tree):
        """`tree` held whole on every device (the reduced system: 2N blocks)."""
        return jax.lax.with_sharding_constraint(tree, NamedSharding(self.mesh, PartitionSpec()))

    def factorize(self, matrix: BlockTridiagonal):
        """Per device the local factors and X = [X_f X_l]; the factors of the reduced system; N_f, N_l."""
        diagonal, lower = matrix.blocks()
        times, padded = diagonal.shape[0], self._length(diagonal.shape[0])
        if padded // self.mesh.devices.size < MIN_PER_DEVICE:
            raise ValueError(
                f"T = {times} time points do not split over {self.mesh.devices.size} devices: "
                f"take at least {MIN_PER_DEVICE} per device, or fewer devices"
            )
        eye = jnp.broadcast_to(jnp.eye(diagonal.shape[1], dtype=diagonal.dtype)[..., None], diagonal.shape[1:])
        diagonal = jnp.concatenate([diagonal, jnp.broadcast_to(eye, (padded - times, *diagonal.shape[1:]))])
        # lower[t] ties t to t + 1; the last one of each device ties it to the next device
        lower = jnp.pad(lower, [(0, padded - lower.shape[0])] + [(0, 0)] * 3)

        def eliminate_interior(diagonal, lower):
            factors = self.local.factorize(Blocks(diagonal[1:-1], lower[1:-2]))
            first, last = lower[0], lower[-2]  # N_f (row 1, column 0) and N_l (row L-1, column L-2)
            columns = jnp.zeros((diagonal.shape[0] - 2, *first.shape[:-2], 2 * first.shape[-2], first.shape[-1]))
            columns = columns.astype(diagonal.dtype)
            columns = columns.at[0, :, : first.shape[-2]].set(first).at[-1, :, first.shape[-2] :].set(transpose(last))
            coupled = jax.vmap(lambda r: self.local.substitute(factors, r), in_axes=2, out_axes=2)(columns)
            to_first, to_last = jnp.split(coupled, 2, axis=2)  # X_f, X_l: (L-2, m, m, N)
            reduced = jnp.stack(
                [
                    diagonal[0] - matmul(transpose(first), to_first[0]),  # S_ff
                    diagonal[-1] - matmul(last, to_last[-1]),  # S_ll
                    -matmul(last, to_first[-1]),  # S_lf
                    lower[-1],  # the block to the next device
                    first,
                    last,
                ]
            )[None]
            return factors, coupled, reduced

        factors, coupled, reduced = self._map(eliminate_interior, diagonal, lower)
        reduced = self._whole(reduced)  # (devices, 6, m, m, N)
        interface = reduced[:, :2].reshape(-1, *reduced.shape[2:])  # f_0, l_0, f_1, l_1, ...
        between = reduced[:, 2:4].reshape(-1, *reduced.shape[2:])[:-1]  # S_lf of p, then l_p to f_{p+1}
        ends = reduced[:, 4:].reshape(-1, *reduced.shape[2:])
        return factors, coupled, SequentialSolver().factorize(Blocks(interface, between)), ends

    def substitute(self, factors, rhs: jax.Array) -> jax.Array:
        """y (T, m, N) with M y = rhs: Z on each device, the 2N interface points whole, then each interior."""
        local, coupled, reduced, ends = factors
        times = rhs.shape[0]
        rhs = jnp.pad(rhs, [(0, self._length(times) - times), (0, 0), (0, 0)])

        def eliminate(local, ends, rhs):
            interior = self.local.substitute(local, rhs[1:-1])  # Z
            first, last = ends
            reduced = jnp.stack([rhs[0] - matvec(transpose(first), interior[0]), rhs[-1] - matvec(last, interior[-1])])
            return interior, reduced

        interior, reduced_rhs = self._map(eliminate, local, ends, rhs)
        interface = SequentialSolver().substitute(reduced, self._whole(reduced_rhs))  # y_f, y_l of every device

        def recover(coupled, interior, interface):
            ends = jnp.concatenate([interface[0], interface[1]], axis=0)  # (2m, N)
            inside = interior - jnp.einsum("tijn,jn->tin", coupled, ends)  # y_J = Z − X_f y_f − X_l y_l
            return jnp.concatenate([interface[:1], inside, interface[1:]])

        return self._map(recover, coupled, interior, interface)[:times]


def time_sharded(devices: int, local: AbstractBlockSolver, dtype) -> TimeShardedSolver:
    """The partition solver over `devices` devices along time, each device's interior solved by `local`.

    Raises:
        ValueError: float32 (each stretch's interior, solved without its two ends, is too badly
            conditioned: on a damped oscillator with step 0.01, 0.1 to 0.8 relative error against the
            one-device sequential float32 solve, NaN from T = 1000 on four devices), or a device count
            that the mesh refuses.
    """
    if jnp.dtype(dtype) != jnp.float64:
        raise ValueError(
            f"devices={devices} splits time in float64 only, not {jnp.dtype(dtype).name}: "
            "enable jax_enable_x64 and pass float64 arrays, or leave devices=None"
        )
    return TimeShardedSolver(device_mesh(devices, axis="time"), local)
