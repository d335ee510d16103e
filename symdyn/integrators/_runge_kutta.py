"""Runge-Kutta methods from their Butcher tableaus: explicit stages in turn, implicit ones by Newton."""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import sympy as sp

from ._field import AbstractVectorField
from ._integrator import ZETA, AbstractIntegrator, Z
from ._newton import solve_stages
from ._tableau import ButcherTableau


class AbstractRungeKutta(AbstractIntegrator):
    """A one-step method given by its exact Butcher tableau."""

    tableau: ClassVar[ButcherTableau]

    def init(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any, x1: jax.Array | None = None) -> None:
        if x1 is not None:
            raise ValueError(f"{self.name} is a one-step method: it takes no second starting value x1")
        return None

    def stability_function(self) -> sp.Expr:
        return self.tableau.stability_function(Z)

    def characteristic_polynomial(self) -> sp.Expr:
        numerator, denominator = sp.fraction(sp.together(self.stability_function()))
        return sp.expand(ZETA * denominator - numerator)


class AbstractExplicitRungeKutta(AbstractRungeKutta):
    """Stages computed in turn: each uses only the earlier ones."""

    def __check_init__(self) -> None:
        if not self.tableau.explicit:
            raise ValueError(f"{type(self).__name__}: an explicit method needs a strictly lower triangular a")

    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, jax.Array]:
        # Python floats are weakly typed: the stages keep the state's dtype, even under jax_enable_x64
        a, b, c = (m.tolist() for m in self.tableau.numeric)
        slopes: list[jax.Array] = []
        for i in range(self.tableau.stages):  # stages, not time steps: unrolled at trace time
            increment = sum((a[i][j] * k for j, k in enumerate(slopes) if a[i][j] != 0), jnp.zeros_like(x))
            slopes.append(field.rhs(t + c[i] * h, x + h * increment))
        update = sum((b[i] * k for i, k in enumerate(slopes) if b[i] != 0), jnp.zeros_like(x))
        return x + h * update, state, jnp.asarray(False)


class AbstractImplicitRungeKutta(AbstractRungeKutta):
    """Stages solved together by Newton's method, with implicit-function gradients.

    Newton uses the field's Jacobian (exact for a lowered model) at the stage
    values; `max_iterations` bounds it, and a step that does not converge is
    reported as failed.
    """

    max_iterations: int = 20

    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, jax.Array]:
        a, b, c = self.tableau.numeric
        slopes, converged = solve_stages(field, t, x, h, a, c, self.max_iterations)
        update = jnp.tensordot(jnp.asarray(b, x.dtype), slopes, axes=1)
        return x + h * update, state, ~converged
