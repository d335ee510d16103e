"""The integrator interface: a method is data (its coefficients) plus a JAX step."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import sympy as sp

from ._tableau import ButcherTableau

VectorField = Callable[[Any, jax.Array], jax.Array]


class AbstractIntegrator(eqx.Module):
    """A fixed-step method for x' = f(t, x).

    `init` builds what the method carries between steps (None for one-step
    methods); `step` advances one step of size h. Both are pure JAX.
    """

    name: ClassVar[str]
    order: ClassVar[int]

    def init(self, f: VectorField, t0: Any, x0: jax.Array, h: Any) -> Any:
        return None

    @abc.abstractmethod
    def step(self, f: VectorField, t: Any, x: jax.Array, state: Any, h: Any) -> tuple[jax.Array, Any]:
        """`(x_{n+1}, state)` from `x_n` at time `t`."""

    @abc.abstractmethod
    def stability_function(self) -> sp.Expr:
        """The exact R(z) with x_{n+1} = R(hλ) x_n on x' = λx."""


class AbstractExplicitRungeKutta(AbstractIntegrator):
    """An explicit Runge-Kutta method given by its Butcher tableau."""

    tableau: ClassVar[ButcherTableau]

    def __check_init__(self) -> None:
        if not self.tableau.explicit:
            raise ValueError(f"{type(self).__name__}: an explicit method needs a strictly lower triangular a")

    def step(self, f: VectorField, t: Any, x: jax.Array, state: Any, h: Any) -> tuple[jax.Array, Any]:
        a, b, c = self.tableau.numeric
        slopes: list[jax.Array] = []
        for i in range(self.tableau.stages):  # stages, not time steps: unrolled at trace time
            increment = sum((a[i, j] * k for j, k in enumerate(slopes) if a[i, j] != 0), jnp.zeros_like(x))
            slopes.append(f(t + c[i] * h, x + h * increment))
        update = sum((b[i] * k for i, k in enumerate(slopes) if b[i] != 0), jnp.zeros_like(x))
        return x + h * update, state

    def stability_function(self) -> sp.Expr:
        return self.tableau.stability_function()
