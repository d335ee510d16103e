"""A Model printed back as symdyn text, so that `parse(str(model)) == model`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.precedence import precedence
from sympy.printing.str import StrPrinter

from ._functions import JULIA_NAMES

if TYPE_CHECKING:
    from ._model import Model

INDENT = "    "
_ITEMS_PER_LINE = 4


class SymdynPrinter(StrPrinter):
    """SymPy expressions in symdyn syntax: `^`, `D^2(x)`, `∂x^4(u)`, `∫(u, x)`, Julia function names.

    `at` maps coordinates to values: fields are then printed at that boundary point, `u(t, 0)`.
    """

    power, sqrt, pi, e = "^", "sqrt", "π", "ℯ"

    def __init__(self, at: dict[sp.Symbol, sp.Expr] | None = None):
        super().__init__({"order": "lex"})
        self.at = at or {}

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return expr.name

    def _print_Float(self, expr: sp.Float) -> str:
        return repr(float(expr))

    def _print_Pi(self, expr) -> str:
        return self.pi

    def _print_Exp1(self, expr) -> str:
        return self.e

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        if expr.exp is sp.S.Half:
            return f"{self.sqrt}({self._print(expr.base)})"
        if -expr.exp is sp.S.Half:
            return f"1/{self.sqrt}({self._print(expr.base)})"
        level = precedence(expr)
        if expr.exp is sp.S.NegativeOne:
            return f"1/{self.parenthesize(expr.base, level, strict=False)}"
        base = self.parenthesize(expr.base, level, strict=False)
        return f"{base}{self.power}{self.parenthesize(expr.exp, level, strict=False)}"

    def _print_Function(self, expr: sp.Function) -> str:
        if isinstance(expr, AppliedUndef):
            return self._state(expr)
        name = JULIA_NAMES.get(type(expr), expr.func.__name__)
        return f"{name}({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return self._print_Function(expr)

    def _print_Min(self, expr) -> str:
        return self._print_Function(expr)

    def _print_Max(self, expr) -> str:
        return self._print_Function(expr)

    def _state(self, expr: AppliedUndef) -> str:
        name = expr.func.__name__
        if not any(a in self.at for a in expr.args):
            return name
        return f"{name}({', '.join(self._print(self.at.get(a, a)) for a in expr.args)})"

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        text = self._print(expr.expr)
        time = expr.expr.args[0] if isinstance(expr.expr, AppliedUndef) else None
        for variable, count in reversed(expr.variable_count):
            operator = "D" if variable == time else f"∂{variable.name}"
            power = f"^{count}" if count != 1 else ""
            text = f"{operator}{power}({text})"
        return text

    def _print_Integral(self, expr: sp.Integral) -> str:
        variables = ", ".join(self._print(limit[0]) for limit in expr.limits)
        return f"∫({self._print(expr.function)}, {variables})"


def expression_to_text(expr: sp.Expr, at: dict[sp.Symbol, sp.Expr] | None = None) -> str:
    return SymdynPrinter(at).doprint(expr)


def _declaration(macro: str, items: list[str]) -> list[str]:
    if not items:
        return []
    if len(items) <= _ITEMS_PER_LINE and sum(len(i) for i in items) < 72:
        return [f"{INDENT}{macro} " + "  ".join(items)]
    return [f"{INDENT}{macro} begin", *(f"{INDENT * 2}{i}" for i in items), f"{INDENT}end"]


def _item(name: str, value: sp.Expr | None) -> str:
    return name if value is None else f"{name} = {expression_to_text(value)}"


def model_to_text(model: Model) -> str:
    """The model in the symdyn language, one declaration kind per line or block."""
    show = expression_to_text
    initial = {i.target: i.value for i in model.initial_values}
    derivative_initials = [i for i in model.initial_values if isinstance(i.target, sp.Derivative)]
    lines = [f"model {model.name}"]
    lines += _declaration("@constants", [_item(c.name, c.value) for c in model.constants])
    lines += _declaration("@parameters", [_item(p.name, p.default) for p in model.parameters])
    lines += _declaration("@unknowns", [_item(u.name, u.guess) for u in model.unknowns])
    lines += _declaration(
        "@domain",
        [f"{c.name} ∈ {c.kind}({show(c.lower)}, {show(c.upper)}; points = {c.points})" for c in model.domain],
    )
    lines += _declaration(
        "@variables",
        [_item(f"{s.name}({', '.join(a.name for a in s.arguments)})", initial.get(s.applied)) for s in model.states],
    )
    lines += _declaration("@inputs", [_item(f"{i.name}({model.time.name})", i.signal) for i in model.inputs])
    lines += _declaration("@initial", [f"{show(i.target)} = {show(i.value)}" for i in derivative_initials])
    lines += [f"{INDENT}{show(e.lhs)} ~ {show(e.rhs)}" for e in model.equations]
    for condition in model.boundary_conditions:
        at = {condition.coordinate: condition.at}
        lhs, rhs = expression_to_text(condition.lhs, at), expression_to_text(condition.rhs, at)
        lines.append(f"{INDENT}@boundary {lhs} ~ {rhs}")
    lines += [f"{INDENT}@observed {d.name} = {show(d.expression)}" for d in model.observed]
    lines += [f"{INDENT}@conserved {d.name} = {show(d.expression)}" for d in model.conserved]
    lines.append("end")
    return "\n".join(lines) + "\n"
