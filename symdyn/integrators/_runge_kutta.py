"""Runge-Kutta methods from their Butcher tableaus: explicit stages in turn, implicit ones by Newton."""

from __future__ import annotations

from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import sympy as sp

from .._results import RESULTS
from ..lower import DENSE_JACOBIAN_LIMIT
from ._field import AbstractVectorField
from ._integrator import AbstractOneStepIntegrator, Z
from ._newton import solve_stages
from ._tableau import ButcherTableau


class AbstractRungeKutta(AbstractOneStepIntegrator):
    """A one-step method given by its exact Butcher tableau (a class variable `tableau`)."""

    tableau: ClassVar[ButcherTableau]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("Abstract") and not isinstance(getattr(cls, "tableau", None), ButcherTableau):
            raise TypeError(f"{cls.__name__} must set the class variable `tableau` (a ButcherTableau)")

    def prepare(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any) -> None:
        return None

    def stability_function(self) -> sp.Expr:
        return self.tableau.stability_function(Z)


class AbstractExplicitRungeKutta(AbstractRungeKutta):
    """Stages computed in turn: each uses only the earlier ones."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("Abstract") and not cls.tableau.explicit:
            raise TypeError(f"{cls.__name__}: an explicit method needs a strictly lower triangular a")

    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, RESULTS]:
        # Python floats are weakly typed: the stages keep the state's dtype, even under jax_enable_x64
        a, b, c = (m.tolist() for m in self.tableau.numeric)
        slopes: list[jax.Array] = []
        for i in range(self.tableau.stages):  # stages, not time steps: unrolled at trace time
            increment = sum((a[i][j] * k for j, k in enumerate(slopes) if a[i][j] != 0), jnp.zeros_like(x))
            slopes.append(field.rhs(t + c[i] * h, x + h * increment))
        update = sum((b[i] * k for i, k in enumerate(slopes) if b[i] != 0), jnp.zeros_like(x))
        return x + h * update, state, RESULTS.successful


class AbstractImplicitRungeKutta(AbstractRungeKutta):
    """Stages solved together by Newton's method, with implicit-function gradients.

    Newton uses the field's Jacobian (exact for a lowered model) at the stage
    values; `max_iterations` bounds it, and a step that does not converge returns
    `RESULTS.newton_failed`. On a bounded grid the Jacobian is banded: it comes from a
    few Jacobian-vector products and Newton's systems are solved by block LU (`_newton`).
    """

    max_iterations: int = 20

    def check(self, field: AbstractVectorField) -> None:
        """Raise when Newton's matrix for `field` would be dense beyond `DENSE_JACOBIAN_LIMIT` (saying what to do)."""
        coupling = field.coupling
        if coupling is not None and not coupling.banded and coupling.size > DENSE_JACOBIAN_LIMIT:
            raise ValueError(
                f"{self.name} on {field.model.name}: Newton's matrix over its {coupling.size} state entries is "
                f"dense on a periodic grid (at most {DENSE_JACOBIAN_LIMIT}); use etdrk4 or imex_trapezoid, "
                "which treat its stiff linear part in Fourier space"
            )

    def prepare(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any) -> None:
        self.check(field)
        return None

    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, RESULTS]:
        a, b, c = self.tableau.numeric
        slopes, converged = solve_stages(field, t, x, h, a, c, self.max_iterations)
        update = jnp.tensordot(jnp.asarray(b, x.dtype), slopes, axes=1)
        return x + h * update, state, RESULTS.where(converged, RESULTS.successful, RESULTS.newton_failed)
