"""The two-step Leap Frog method and its parasitic root."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import sympy as sp

from .._results import RESULTS
from ._explicit import Rk4
from ._field import AbstractVectorField
from ._integrator import ZETA, AbstractMultistepIntegrator, AbstractOneStepIntegrator, Z


class Leapfrog(AbstractMultistepIntegrator):
    """Leap Frog, x_{n+1} = x_{n−1} + 2h f(t_n, x_n): two-step, order 2.

    On x' = λx its characteristic polynomial ζ² − 2zζ − 1 has two roots, the
    physical one and a parasitic one whose product is −1 (Lu & Tsai). The start
    follows their convention: from the pair (x0, x1), with x1 given (the data's
    own second value) or, by default, one step of `starter` from x0.
    """

    name = "leapfrog"
    order = 2
    steps = 2
    starter: AbstractOneStepIntegrator = eqx.field(default_factory=Rk4)

    def init(
        self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any, x1: jax.Array | None = None
    ) -> jax.Array:
        if x1 is None:
            x1, _, _ = self.starter.step(field, t0, x0, self.starter.init(field, t0, x0, h), h)
        # carry the x_{-1} for which the recurrence gives x1 as its first step
        return x1 - 2 * h * field.rhs(t0, x0)

    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, previous: jax.Array, h: Any
    ) -> tuple[jax.Array, jax.Array, RESULTS]:
        return previous + 2 * h * field.rhs(t, x), x, RESULTS.successful

    def characteristic_polynomial(self) -> sp.Expr:
        return ZETA**2 - 2 * Z * ZETA - 1
