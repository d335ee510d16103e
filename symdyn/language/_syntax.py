"""The syntax tree of a model file: frozen dataclasses that remember where they came from.

Nothing here knows SymPy or JAX; meaning is given to these nodes in `symdyn.model`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .._errors import Span

# --- expressions --------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class Call:
    """`f(args)`, `D(x)`, `D^2(x)`, `∂x^4(u)`, `∫(u, x)`; `power` is the integer after `^`, if any."""

    callee: str
    power: int | None
    arguments: tuple[Expression, ...]
    span: Span
    callee_span: Span


@dataclass(frozen=True)
class BinaryOp:
    """`+ - * / ^`; `implicit` marks Julia-style juxtaposition such as `2x`."""

    op: Literal["+", "-", "*", "/", "^"]
    left: Expression
    right: Expression
    span: Span
    implicit: bool = False


@dataclass(frozen=True)
class UnaryOp:
    op: Literal["-", "+"]
    operand: Expression
    span: Span


Expression = Number | Name | Call | BinaryOp | UnaryOp

# --- statements ---------------------------------------------------------------


@dataclass(frozen=True)
class SymbolDeclaration:
    """An item of `@parameters`, `@constants` or `@unknowns`: a name and an optional value."""

    kind: Literal["parameter", "constant", "unknown"]
    name: Name
    value: Expression | None
    span: Span


@dataclass(frozen=True)
class VariableDeclaration:
    """An item of `@variables`: `x(t) = 1` or `u(t, x) = cos(x)`."""

    name: Name
    arguments: tuple[Name, ...]
    value: Expression | None
    span: Span


@dataclass(frozen=True)
class InputDeclaration:
    """An item of `@inputs`: `F(t)`, a signal given with the data, or `F(t) = cos(ω*t)`, with a default."""

    name: Name
    argument: Name | None
    value: Expression | None
    span: Span


@dataclass(frozen=True)
class InitialValue:
    """An item of `@initial`: `D(x) = 0.5`."""

    target: Expression
    value: Expression
    span: Span


@dataclass(frozen=True)
class Definition:
    """An item of `@observed` or `@conserved`: `E = x^2 + y^2`."""

    kind: Literal["observed", "conserved"]
    name: Name
    value: Expression
    span: Span


@dataclass(frozen=True)
class Keyword:
    name: Name
    value: Expression
    span: Span


@dataclass(frozen=True)
class CoordinateDeclaration:
    """An item of `@domain`: `x ∈ Periodic(0, 64; points = 256)`."""

    name: Name
    kind: Name
    arguments: tuple[Expression, ...]
    keywords: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class Equation:
    """`lhs ~ rhs`, in the model body, an `@equations` block or `@boundary`."""

    lhs: Expression
    rhs: Expression
    span: Span
    boundary: bool = False


Statement = (
    SymbolDeclaration
    | VariableDeclaration
    | InputDeclaration
    | InitialValue
    | Definition
    | CoordinateDeclaration
    | Equation
)


@dataclass(frozen=True)
class ModelSyntax:
    """A whole `model Name ... end` block, its statements in source order."""

    name: Name
    statements: tuple[Statement, ...]
    span: Span
