"""The elementary functions a model file may call, with their Julia names and arities."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp


@dataclass(frozen=True)
class Builtin:
    """A function callable from a model file: `arities` lists the argument counts it accepts."""

    name: str
    build: Callable[..., sp.Expr]
    arities: tuple[int, ...]
    min_arity_only: bool = False  # `min`/`max`: at least arities[0] arguments

    def accepts(self, count: int) -> bool:
        if self.min_arity_only:
            return count >= self.arities[0]
        return count in self.arities

    @property
    def arity_text(self) -> str:
        if self.min_arity_only:
            return f"{self.arities[0]} or more arguments"
        words = " or ".join(str(a) for a in self.arities)
        return f"{words} argument{'s' if self.arities != (1,) else ''}"


def _atan(*args: sp.Expr) -> sp.Expr:
    return sp.atan(args[0]) if len(args) == 1 else sp.atan2(args[0], args[1])  # Julia atan(y, x)


def _log(*args: sp.Expr) -> sp.Expr:
    return sp.log(args[0]) if len(args) == 1 else sp.log(args[1], args[0])  # Julia log(b, x)


_ONE_ARGUMENT = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sec": sp.sec, "csc": sp.csc, "cot": sp.cot,
    "asin": sp.asin, "acos": sp.acos,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "sech": sp.sech, "csch": sp.csch, "coth": sp.coth,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh,
    "exp": sp.exp, "sqrt": sp.sqrt, "abs": sp.Abs, "sign": sp.sign, "erf": sp.erf,
    "log2": lambda x: sp.log(x, 2), "log10": lambda x: sp.log(x, 10),
}  # fmt: skip

BUILTINS: dict[str, Builtin] = {
    **{name: Builtin(name, fn, (1,)) for name, fn in _ONE_ARGUMENT.items()},
    "atan": Builtin("atan", _atan, (1, 2)),
    "log": Builtin("log", _log, (1, 2)),
    "min": Builtin("min", sp.Min, (2,), min_arity_only=True),
    "max": Builtin("max", sp.Max, (2,), min_arity_only=True),
}

# Names with a fixed meaning that a model cannot declare.
CONSTANTS: dict[str, sp.Expr] = {"π": sp.pi, "pi": sp.pi, "ℯ": sp.E}
OPERATORS = ("D", "∫", "integral")
RESERVED = frozenset(BUILTINS) | frozenset(CONSTANTS) | frozenset(OPERATORS)

# SymPy function classes printed back under their Julia names.
JULIA_NAMES: dict[type, str] = {
    sp.Abs: "abs",
    sp.atan2: "atan",
    sp.Min: "min",
    sp.Max: "max",
}
