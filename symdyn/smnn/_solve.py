"""`solve`: the S-MNN linear ODE solver in the paper's notation, batch first."""

from __future__ import annotations

import functools
from typing import Literal

import jax
import jax.numpy as jnp

from .._results import RESULTS, SymdynRuntimeError, raise_if_failed
from ._block_solver import factored_solve
from ._blocks import NormalMatrix, normal_rhs
from ._chunked import ChunkedSolver, chunk_count
from ._cyclic_reduction import CyclicReductionSolver
from ._problem import Coefficients, Dimensions, InitialValues, RightHandSides, Solution, Steps, check_arguments
from ._sequential import SequentialSolver
from ._time_sharded import time_sharded

Method = Literal["auto", "sequential", "parallel"]


def choose_method(dims: Dimensions) -> Literal["sequential", "parallel"]:
    """The faster solver for this shape on this backend (measured by benchmarks/smnn.py; see docs/smnn.md).

    Cyclic reduction has depth log T and 1.4× the work. On a 2-core CPU it wins for
    long sequences of very few systems (0.4-0.7× the sequential time at batch 1 from
    T = 1000) and loses once the batch fills the cores (2.0-2.7× at batch 64). On
    accelerators its depth is what counts: it is taken from T = 256 (not measured here).
    """
    if jax.default_backend() != "cpu":
        return "parallel" if dims.times >= 256 else "sequential"
    return "parallel" if dims.times >= 512 and dims.batch * dims.block <= 16 else "sequential"


def solve(
    c: Coefficients,
    d: RightHandSides,
    u: InitialValues,
    s: Steps,
    *,
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    method: Method = "auto",
    devices: int | None = None,
    throw: bool = True,
) -> Solution:
    """Solve the linear ODE Σ_{v,r} c_{t,q,v,r} y_{t,v}^{(r)} = d_{t,q} by S-MNN least squares (Chen et al., eq. 4-9).

    Args:
        c: (B, T, Q, V, R+1) coefficients of the Q governing equations at each time point.
        d: (B, T, Q) their right-hand sides.
        u: (B, T_init, V, R_init+1) initial values of y and its derivatives up to R_init at the
            first T_init time points.
        s: (B, T-1) the steps between time points.
        weights: (w_gov, w_init, w_smooth), the importance of the governing equations, the
            initial values and the Taylor smoothness constraints.
        method: "sequential" (block Cholesky in `lax.scan`), "parallel" (block cyclic
            reduction, O(log T) depth; compiling it takes seconds on CPU) or "auto" (the
            faster for the shape and backend, see `choose_method`).
        devices: split the time axis over this many devices (one long sequence; see
            docs/scaling.md): each solves its own stretch with `method`, and only a small system
            of two blocks per device is solved whole (`TimeShardedSolver`). None: one device.
        throw: raise `SymdynRuntimeError` when the inputs are not finite or the normal matrix
            is singular; with False, return the solution as it is (for callers that check a
            loss themselves).

    Any axis of size 1 broadcasts: time-constant coefficients can be (B, 1, Q, V, R+1),
    a shared step (B, 1) or (1, 1).

    Returns:
        y: (B, T, V, R+1), the solution and its derivatives up to order R at each time point.

    Gradients with respect to c, d, u and s use the analytic backward pass of eq. 14: one
    more substitution with the factors of the forward pass. Forward mode (`jax.jvp`,
    `jax.jacfwd`) takes one substitution as well.

    Raises:
        SymdynRuntimeError: non-finite inputs or a singular normal matrix (with throw=True).
        ValueError: shapes that do not fit, naming the argument and the shape expected.

    Example:
        >>> c = jnp.zeros((1, 100, 1, 1, 2)).at[..., 0].set(1.0).at[..., 1].set(1.0)  # y' + y = 0
        >>> y = solve(c, jnp.zeros((1, 100, 1)), jnp.ones((1, 1, 1, 1)), jnp.full((1, 99), 0.01))
        >>> y.shape
        (1, 100, 1, 2)
    """
    dims, c, d, u, s = check_arguments(c, d, u, s)
    if method == "auto":
        method = choose_method(dims)
    if method not in _SOLVERS:
        raise ValueError(f"method must be 'auto', 'sequential' or 'parallel', not {method!r}")
    if len(weights) != 3:
        raise ValueError(f"weights are (w_gov, w_init, w_smooth), not {weights!r}")
    weights = tuple(jnp.asarray(w, c.dtype) for w in weights)
    solver = _SOLVERS[method] if devices is None else time_sharded(devices, _SOLVERS[method], c.dtype)
    y, result = _solve(dims, solver, c, d, u, s, weights)
    if not throw:
        return y
    hint = "check c, d, u and s, or give more initial values or equations"
    return raise_if_failed(y, result, lambda message, _: SymdynRuntimeError(f"S-MNN: {message}", hint=hint))


_SOLVERS = {"sequential": SequentialSolver(), "parallel": CyclicReductionSolver()}


@functools.partial(jax.jit, static_argnums=(0, 1))
def _solve(dims: Dimensions, solver, c, d, u, s, weights) -> tuple[jax.Array, RESULTS]:
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in (c, d, u, s)]))
    count = chunk_count(dims.batch, dims.block)
    if count > 1:
        solver = ChunkedSolver(solver, count)
    matrix = NormalMatrix(dims, c, s, weights)
    y, result = factored_solve(solver, matrix, normal_rhs(dims, c, d, u, weights))  # (T, m, B)
    y = jnp.moveaxis(y, -1, 0).reshape(dims.batch, dims.times, dims.variables, dims.order + 1)
    return y, RESULTS.where(finite, result, RESULTS.nonfinite_input)
