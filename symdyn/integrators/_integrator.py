"""The integrator interface: a method is data (its coefficients) plus a JAX step.

Every method also knows its exact characteristic polynomial P(ζ, z): applied to
x' = λx with z = hλ, its iterates are combinations of ζⁿ over the roots ζ of P.
For a one-step method P = ζ·Q(z) − N(z) with R = N/Q its stability function.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax
import sympy as sp

from ._field import AbstractVectorField

ZETA = sp.Symbol("ζ")
Z = sp.Symbol("z")


class AbstractIntegrator(eqx.Module):
    """A fixed-step method for x' = f(t, x).

    `init` builds what the method carries between steps; `step` advances one step
    of size h and says whether it failed (an implicit solve that did not converge).
    Both are pure JAX, so an integrator composes with `jit`, `vmap` and `grad`.
    """

    name: ClassVar[str]
    order: ClassVar[int]

    @abc.abstractmethod
    def init(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any, x1: jax.Array | None = None) -> Any:
        """What the first step needs besides x0 (`x1`: the second starting value of a two-step method)."""

    @abc.abstractmethod
    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, jax.Array]:
        """`(x_{n+1}, state, failed)` from `x_n` at time `t`."""

    @abc.abstractmethod
    def characteristic_polynomial(self) -> sp.Expr:
        """The exact P(ζ, z) whose roots in ζ are the method's multipliers on x' = λx, z = hλ."""

    @abc.abstractmethod
    def stability_function(self) -> sp.Expr:
        """R(z) for one-step methods; the characteristic polynomial P(ζ, z) for multistep ones."""

    def characteristic_roots(self) -> list[sp.Expr]:
        """The multipliers ζ(z): [R(z)] for a one-step method, the principal and parasitic roots otherwise."""
        return sp.solve(self.characteristic_polynomial(), ZETA)
