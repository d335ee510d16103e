"""The integrator interface: a method is data (its coefficients) plus a JAX step.

Every method knows its exact characteristic polynomial P(ζ, z): applied to x' = λx with
z = hλ, its iterates are combinations of ζⁿ over the roots ζ of P. One-step methods are
given by their stability function R(z) = N(z)/Q(z), and P = ζ·Q(z) − N(z) follows;
multistep methods give P itself. A concrete method declares its `name` and `order`,
checked when the class is defined.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import equinox as eqx
import jax
import sympy as sp

from .._results import RESULTS
from ._field import AbstractVectorField

ZETA = sp.Symbol("ζ")
Z = sp.Symbol("z")


class AbstractIntegrator(eqx.Module):
    """A fixed-step method for x' = f(t, x).

    `init` builds what the method carries between steps; `step` advances one step of
    size h and returns a `RESULTS` item (an implicit solve that did not converge says so).
    Both are pure JAX, so an integrator composes with `jit`, `vmap` and `grad`.
    """

    name: ClassVar[str]
    order: ClassVar[int]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__name__.startswith("Abstract"):
            return
        for attribute, kind in (("name", str), ("order", int)):
            if not isinstance(getattr(cls, attribute, None), kind):
                raise TypeError(f"{cls.__name__} must set the class variable `{attribute}` (a {kind.__name__})")

    @abc.abstractmethod
    def init(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any, x1: jax.Array | None = None) -> Any:
        """What the first step needs besides x0 (`x1`: the second starting value of a two-step method)."""

    @abc.abstractmethod
    def step(
        self, field: AbstractVectorField, t: Any, x: jax.Array, state: Any, h: Any
    ) -> tuple[jax.Array, Any, RESULTS]:
        """`(x_{n+1}, state, result)` from `x_n` at time `t`."""

    @abc.abstractmethod
    def characteristic_polynomial(self) -> sp.Expr:
        """The exact P(ζ, z) whose roots in ζ are the method's multipliers on x' = λx, z = hλ."""

    @abc.abstractmethod
    def stability_function(self) -> sp.Expr:
        """R(z) for one-step methods; the characteristic polynomial P(ζ, z) for multistep ones."""

    def characteristic_roots(self) -> list[sp.Expr]:
        """The multipliers ζ(z): [R(z)] for a one-step method, the principal and parasitic roots otherwise."""
        return sp.solve(self.characteristic_polynomial(), ZETA)


class AbstractOneStepIntegrator(AbstractIntegrator):
    """A method that needs only x_n: its stability function R(z) says everything about x' = λx."""

    @abc.abstractmethod
    def prepare(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any) -> Any:
        """What every step reuses (None when nothing)."""

    def init(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any, x1: jax.Array | None = None) -> Any:
        if x1 is not None:
            raise ValueError(f"{self.name} is a one-step method: it takes no second starting value x1")
        return self.prepare(field, t0, x0, h)

    def characteristic_polynomial(self) -> sp.Expr:
        numerator, denominator = sp.fraction(sp.together(self.stability_function()))
        return sp.expand(ZETA * denominator - numerator)


class AbstractMultistepIntegrator(AbstractIntegrator):
    """A method that carries earlier values: its characteristic polynomial has a root per carried value,
    the principal one and parasitic ones."""

    steps: ClassVar[int]

    def stability_function(self) -> sp.Expr:
        return self.characteristic_polynomial()
