"""The parts of a model: declared symbols, states, equations, definitions, the spatial domain.

Expressions are SymPy objects. A state is an undefined function applied to its
independent variables (`x(t)`, `u(t, x)`); its time and space derivatives are
`sympy.Derivative` objects, so spatial operators stay operators. Source spans
take no part in equality: a model printed and parsed again equals itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sympy as sp

from .._errors import Span


def _span() -> Span | None:
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Constant:
    """A named exact constant (`@constants g = 9.81`): substituted when lowering."""

    symbol: sp.Symbol
    value: sp.Expr
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Parameter:
    """A parameter (`@parameters σ = 10`): an entry of `p` in the lowered model."""

    symbol: sp.Symbol
    default: sp.Expr | None
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Unknown:
    """A coefficient to be fitted (`@unknowns a₁ = 0.5`), with an optional initial guess."""

    symbol: sp.Symbol
    guess: sp.Expr | None
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Input:
    """An input `F(t)` (`@inputs`): a signal of time the equations use, given with the data, or `signal`, its
    default, an expression of t and the parameters."""

    symbol: sp.Symbol
    signal: sp.Expr | None
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class State:
    """A state `x(t)` or a field `u(t, x)`; `order` is its highest time derivative in the equations."""

    function: sp.core.function.UndefinedFunction
    arguments: tuple[sp.Symbol, ...]
    order: int
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def applied(self) -> sp.Expr:
        """`x(t)` or `u(t, x)`."""
        return self.function(*self.arguments)

    @property
    def coordinates(self) -> tuple[sp.Symbol, ...]:
        """The spatial arguments; empty for an ODE state."""
        return self.arguments[1:]


@dataclass(frozen=True)
class Equation:
    """`lhs ~ rhs`, as written (observed quantities substituted), derivatives kept to their order."""

    lhs: sp.Expr
    rhs: sp.Expr
    span: Span | None = _span()


@dataclass(frozen=True)
class Definition:
    """A named expression: an `@observed` quantity or a `@conserved` one."""

    symbol: sp.Symbol
    expression: sp.Expr
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class InitialValue:
    """The value at the initial time of a state (`x(t)`) or of one of its derivatives."""

    target: sp.Expr
    value: sp.Expr
    span: Span | None = _span()


@dataclass(frozen=True)
class Coordinate:
    """A spatial coordinate of the domain: `x ∈ Periodic(0, 64; points = 256)`."""

    symbol: sp.Symbol
    kind: Literal["Periodic", "Interval"]
    lower: sp.Expr
    upper: sp.Expr
    points: int
    span: Span | None = _span()

    @property
    def name(self) -> str:
        return self.symbol.name

    @property
    def periodic(self) -> bool:
        return self.kind == "Periodic"


@dataclass(frozen=True)
class BoundaryCondition:
    """`lhs ~ rhs` holding where `coordinate` equals `at` (an end of a bounded interval).

    `lhs` and `rhs` are written at a general point; `at` says where they are evaluated.
    """

    coordinate: sp.Symbol
    at: sp.Expr
    lhs: sp.Expr
    rhs: sp.Expr
    span: Span | None = _span()
