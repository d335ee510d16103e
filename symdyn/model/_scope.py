"""The names a model declares, what each one is, and where it was declared."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import sympy as sp

from .._errors import Source, Span, SymdynSemanticError
from ._functions import BUILTINS, CONSTANTS, OPERATORS
from ._names import closest_name

Kind = Literal["constant", "parameter", "unknown", "state", "input", "coordinate", "observed", "conserved", "time"]

KIND_WORDS: dict[str, str] = {
    "constant": "a constant",
    "parameter": "a parameter",
    "unknown": "an unknown coefficient",
    "state": "a state",
    "input": "an input",
    "coordinate": "a spatial coordinate",
    "observed": "an observed quantity",
    "conserved": "a conserved quantity",
    "time": "the independent variable",
}

# Where a name is declared, for the hint of an "undeclared name" error.
DECLARED_WITH: dict[str, str] = {
    "constant": "@constants",
    "parameter": "@parameters",
    "unknown": "@unknowns",
    "state": "@variables",
    "input": "@inputs",
    "coordinate": "@domain",
    "observed": "@observed",
    "conserved": "@conserved",
}


@dataclass(frozen=True)
class Declared:
    kind: Kind
    name: str
    span: Span | None
    symbol: sp.Symbol | None = None  # None for states, whose function is made when built
    function: sp.core.function.UndefinedFunction | None = None


def real_symbol(name: str) -> sp.Symbol:
    # Real symbols keep derivatives honest: d|x|/dx = sign(x), not an expression in re(x), im(x).
    return sp.Symbol(name, real=True)


class Scope:
    """Declared names, checked for duplicates and for clashes with built-in names."""

    def __init__(self, source: Source):
        self.source = source
        self._names: dict[str, Declared] = {}

    def declare(self, kind: Kind, name: str, span: Span | None) -> Declared:
        if name in BUILTINS or name in CONSTANTS or name in OPERATORS:
            what = "a built-in function" if name in BUILTINS else "built in"
            raise SymdynSemanticError(
                f"`{name}` is {what} and cannot be declared",
                source=self.source,
                span=span,
                hint="choose another name",
            )
        previous = self._names.get(name)
        if previous is not None:
            where = f" on line {previous.span.line}" if previous.span else ""
            raise SymdynSemanticError(
                f"`{name}` is declared twice",
                source=self.source,
                span=span,
                hint=f"it is already {KIND_WORDS[previous.kind]}{where}; every name has one meaning",
            )
        if kind == "state":
            declared = Declared(kind, name, span, function=sp.Function(name, real=True))
        else:
            declared = Declared(kind, name, span, symbol=real_symbol(name))
        self._names[name] = declared
        return declared

    def get(self, name: str) -> Declared | None:
        return self._names.get(name)

    def of_kind(self, *kinds: Kind) -> list[Declared]:
        return [d for d in self._names.values() if d.kind in kinds]

    def suggestion(self, name: str, extra: tuple[str, ...] = ()) -> str | None:
        """The declared (or `extra`) name closest to a misspelt `name`: `sigm` -> `sigma`, `gamma` -> `γ`."""
        return closest_name(name, [n for n, d in self._names.items() if d.kind != "time"] + list(extra))
