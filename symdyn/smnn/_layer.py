"""`MechanisticLayer`: encoder outputs in, the solution of the linear ODEs they describe out (Chen et al., Section 2).

The encoder predicts some of {c, d, u, s} (eq. 1-2 and 4-5); the rest is fixed: the leading
coefficient, the steps from the data's time axis, the initial value from the data. The linear
ODE solver behind the layer is an object: S-MNN's block solver, or a dense baseline.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ._dense import dense_solve, mnn_dense_solve
from ._problem import Solution
from ._solve import solve


class AbstractLinearODESolver(eqx.Module):
    """Solves Σ c y^(r) = d from (c, d, u, s) in the shapes of `symdyn.smnn.solve`; `name` is its CLI name."""

    name: ClassVar[str]

    @abc.abstractmethod
    def __call__(self, c, d, u, s) -> Solution: ...


class SMNN(AbstractLinearODESolver):
    """S-MNN's block-tridiagonal least squares (`solve`), O(T) time and memory, analytic backward pass.

    Args:
        method: "auto", "sequential" or "parallel" (see `solve`).
        weights: (w_gov, w_init, w_smooth).
    """

    name: ClassVar[str] = "smnn"
    method: Literal["auto", "sequential", "parallel"] = eqx.field(static=True, default="auto")
    weights: tuple[float, float, float] = eqx.field(static=True, default=(1.0, 1.0, 1.0))

    def __call__(self, c, d, u, s) -> Solution:
        # no host check inside a training step: a bad solve shows as a NaN loss, which the loop reports
        return solve(c, d, u, s, weights=self.weights, method=self.method, throw=False)


class DenseLeastSquares(AbstractLinearODESolver):
    """The same least squares as `SMNN` with A built in full (`dense_solve`): the reference for its gradients."""

    name: ClassVar[str] = "dense-least-squares"

    def __call__(self, c, d, u, s) -> Solution:
        return dense_solve(c, d, u, s)


class DenseMNN(AbstractLinearODESolver):
    """The original MNN's dense QP with a slack variable (`mnn_dense_solve`, Appendix C): the seed's "MNN dense"."""

    name: ClassVar[str] = "dense"
    gamma: float = eqx.field(static=True, default=0.5)
    delta: float = eqx.field(static=True, default=0.1)

    def __call__(self, c, d, u, s) -> Solution:
        return mnn_dense_solve(c, d, u, s, gamma=self.gamma, delta=self.delta)


LINEAR_ODE_SOLVERS: dict[str, type[AbstractLinearODESolver]] = {
    kind.name: kind for kind in (SMNN, DenseMNN, DenseLeastSquares)
}


def linear_ode_solver(name: str, **options) -> AbstractLinearODESolver:
    """The solver called `name`: "smnn", "dense" (the original MNN) or "dense-least-squares"."""
    if name not in LINEAR_ODE_SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(LINEAR_ODE_SOLVERS)}, not {name!r}")
    return LINEAR_ODE_SOLVERS[name](**options)


class MechanisticLayer(eqx.Module):
    """Q linear ODEs of order R in V variables over T time points, their representation read from features.

    Each of B systems gets a feature vector of `size` entries, split in this order into the parts
    the encoder predicts:
    - the coefficients c (T, Q, V, R+1), or without the last order when `leading` fixes
      c_{q,v,R} = leading·δ_qv (a monic equation, the seed's usual choice);
    - the right-hand sides d (T, Q);
    - the initial values u (1, V, R_init+1) at the first time point, less the value y_0 itself when it
      is given at call time (a forecaster passes the last observed frame);
    - the steps s (T-1), through softplus, unless `step` fixes them (the data's time step).

    Args:
        order: R. times: T. equations: Q. variables: V.
        initial_order: R_init, the highest derivative fixed at t_0 (default R-1, an initial value problem).
        leading: the fixed leading coefficient, or None to predict it.
        step: the fixed step, or None to predict the steps.
        given_value: y_0 comes from the caller, not from the features.
        solver: `SMNN()` (default), `DenseMNN()` or `DenseLeastSquares()`.

    Example: y'' + c_1 y' + c_0 y = d per system, 10 points 0.1 apart, y_0 given:
        >>> layer = MechanisticLayer(2, 10, step=0.1)
        >>> layer.size  # c_0, c_1 and d at 10 points, y'_0
        31
        >>> y = layer(jnp.zeros((4, 31)), jnp.ones((4, 1)))  # y'' = 0, y_0 = 1, y'_0 = 0
        >>> y.shape  # (B, T, V, R+1): y, y', y'' at each point
        (4, 10, 1, 3)
    """

    order: int = eqx.field(static=True)
    times: int = eqx.field(static=True)
    equations: int = eqx.field(static=True)
    variables: int = eqx.field(static=True)
    initial_order: int = eqx.field(static=True)
    leading: float | None = eqx.field(static=True)
    step: float | None = eqx.field(static=True)
    given_value: bool = eqx.field(static=True)
    solver: AbstractLinearODESolver

    def __init__(
        self,
        order: int,
        times: int,
        *,
        equations: int = 1,
        variables: int = 1,
        initial_order: int | None = None,
        leading: float | None = 1.0,
        step: float | None = None,
        given_value: bool = True,
        solver: AbstractLinearODESolver | None = None,
    ):
        for name, value, least in (("order", order, 0), ("times", times, 2), ("equations", equations, 1)):
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"{name} must be an int >= {least}, not {value!r}")
        if not isinstance(variables, int) or variables < 1:
            raise ValueError(f"variables must be a positive int, not {variables!r}")
        initial_order = max(order - 1, 0) if initial_order is None else initial_order
        if not 0 <= initial_order <= order:
            raise ValueError(f"initial_order must lie in 0..{order}, not {initial_order}")
        if step is not None and not step > 0:
            raise ValueError(f"step must be positive, not {step}")
        self.order, self.times, self.equations, self.variables = order, times, equations, variables
        self.initial_order, self.leading, self.step = initial_order, leading, step
        self.given_value = bool(given_value)
        self.solver = SMNN() if solver is None else solver

    @property
    def parts(self) -> dict[str, tuple[int, ...]]:
        """The shape of each predicted part, in the order the features hold them."""
        orders = self.order + (self.leading is None)
        parts = {
            "c": (self.times, self.equations, self.variables, orders),
            "d": (self.times, self.equations),
            "u": (1, self.variables, self.initial_order + 1 - self.given_value),
            "s": (self.times - 1,) if self.step is None else (0,),
        }
        return parts

    @property
    def size(self) -> int:
        """Features per system."""
        return sum(math.prod(shape) for shape in self.parts.values())

    def __call__(
        self, features: Float[Array, "B size"], value: Float[Array, "B V"] | None = None
    ) -> Float[Array, "B T V R+1"]:
        """The solution y (B, T, V, R+1) of the B systems that `features` (B, size) describe; `value` is y_0."""
        if features.ndim != 2 or features.shape[1] != self.size:
            raise ValueError(f"features have shape {features.shape}; expected (B, {self.size})")
        if self.given_value != (value is not None):
            raise ValueError("pass y_0 as `value` exactly when the layer has given_value=True")
        batch = features.shape[0]
        split, start = {}, 0
        for name, shape in self.parts.items():
            size = math.prod(shape)
            split[name] = features[:, start : start + size].reshape(batch, *shape)
            start += size
        c = split["c"]
        if self.leading is not None:
            eye = self.leading * jnp.eye(self.equations, self.variables, dtype=c.dtype)
            c = jnp.concatenate([c, jnp.broadcast_to(eye[..., None], (*c.shape[:-1], 1))], axis=-1)
        u = split["u"]
        if self.given_value:
            u = jnp.concatenate([value.astype(u.dtype).reshape(batch, 1, self.variables, 1), u], axis=-1)
        if self.step is None:
            s = jax.nn.softplus(split["s"])
        else:
            s = jnp.full((batch, self.times - 1), self.step, features.dtype)
        return self.solver(c, split["d"], u, s)

    @property
    def config(self) -> dict:
        """What rebuilds the layer (JSON-ready)."""
        solver = {"name": self.solver.name}
        if isinstance(self.solver, SMNN):
            solver["method"] = self.solver.method
        return {
            "order": self.order,
            "times": self.times,
            "equations": self.equations,
            "variables": self.variables,
            "initial_order": self.initial_order,
            "leading": self.leading,
            "step": self.step,
            "given_value": self.given_value,
            "solver": solver,
        }

    @classmethod
    def from_config(cls, config: dict) -> MechanisticLayer:
        config = dict(config)
        solver = dict(config.pop("solver"))
        return cls(**config, solver=linear_ode_solver(solver.pop("name"), **solver))
