"""The arguments of an S-MNN solve, checked and broadcast to the paper's batch-first shapes."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float

# the paper's arrays, batch first (Chen et al., eq. 4-5)
Coefficients = Float[ArrayLike, "B T Q V R+1"]
RightHandSides = Float[ArrayLike, "B T Q"]
InitialValues = Float[ArrayLike, "B T_init V R_init+1"]
Steps = Float[ArrayLike, "B T-1"]
Solution = Float[Array, "B T V R+1"]


@dataclass(frozen=True)
class Dimensions:
    """B batch, T time points, Q equations, V variables, R highest order; T_init, R_init for u."""

    batch: int
    times: int
    equations: int
    variables: int
    order: int
    initial_times: int
    initial_order: int

    @property
    def block(self) -> int:
        """The size V(R+1) of one time point's block."""
        return self.variables * (self.order + 1)


def _as_float(name: str, value) -> jax.Array:
    array = jnp.asarray(value)
    if not jnp.issubdtype(array.dtype, jnp.floating):
        array = array.astype(jnp.result_type(float))
    return array


def _fit(name: str, array: jax.Array, shape: tuple[int, ...], written: str) -> jax.Array:
    try:
        return jnp.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"{name} has shape {array.shape}; expected {written} = {shape} (or dimensions of 1 to broadcast)"
        ) from None


def check_arguments(c, d, u, s) -> tuple[Dimensions, jax.Array, jax.Array, jax.Array, jax.Array]:
    """Dimensions and the four arrays broadcast to (B, T, Q, V, R+1), (B, T, Q), (B, T_init, V, R_init+1), (B, T-1).

    Raises:
        ValueError: naming the argument whose shape does not fit, and the shape expected.
    """
    c, d, u, s = (_as_float(n, v) for n, v in (("c", c), ("d", d), ("u", u), ("s", s)))
    expected = {"c": 5, "d": 3, "u": 4, "s": 2}
    written = {
        "c": "(B, T, Q, V, R+1)",
        "d": "(B, T, Q)",
        "u": "(B, T_init, V, R_init+1)",
        "s": "(B, T-1)",
    }
    for name, array in (("c", c), ("d", d), ("u", u), ("s", s)):
        if array.ndim != expected[name]:
            raise ValueError(f"{name} has {array.ndim} dimensions, shape {array.shape}; expected {written[name]}")
    dtype = jnp.result_type(c, d, u, s)
    batch = max(c.shape[0], d.shape[0], u.shape[0], s.shape[0])
    times = max(c.shape[1], d.shape[1], s.shape[1] + 1)
    if times < 2:
        raise ValueError(f"T = {times}: S-MNN needs at least two time points (c, d of shape (B, T, ...), s (B, T-1))")
    equations, variables, order = max(c.shape[2], d.shape[2]), max(c.shape[3], u.shape[2]), c.shape[4] - 1
    initial_times, initial_order = u.shape[1], u.shape[3] - 1
    if order < 0 or initial_order < 0:
        raise ValueError("c and u need at least one derivative slot in their last axis (order 0)")
    if initial_times > times:
        raise ValueError(f"u has T_init = {initial_times} time points, more than T = {times}")
    if initial_order > order:
        raise ValueError(f"u gives derivatives up to R_init = {initial_order}, above c's order R = {order}")
    dims = Dimensions(batch, times, equations, variables, order, initial_times, initial_order)
    c = _fit("c", c, (batch, times, equations, variables, order + 1), written["c"]).astype(dtype)
    d = _fit("d", d, (batch, times, equations), written["d"]).astype(dtype)
    u = _fit("u", u, (batch, initial_times, variables, initial_order + 1), written["u"]).astype(dtype)
    s = _fit("s", s, (batch, times - 1), written["s"]).astype(dtype)
    return dims, c, d, u, s
