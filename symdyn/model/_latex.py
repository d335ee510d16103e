"""A Model's equations in LaTeX: `d x/d t` for ODE states, partial derivatives for fields."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter

from ._names import ascii_name

if TYPE_CHECKING:
    from ._model import Model


class _ModelLatexPrinter(LatexPrinter):
    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        if expr.name.startswith("δ") and len(expr.name) > 1:  # a direction of jvp(): δu, δuˍx
            return r"\delta " + self._print_Symbol(sp.Symbol(expr.name[1:]), style)
        return super()._print_Symbol(sp.Symbol(ascii_name(expr.name)), style)

    def _print_Function(self, expr, exp=None) -> str:
        if isinstance(expr, AppliedUndef):
            text = self._print(sp.Symbol(expr.func.__name__))
            return f"{text}^{{{exp}}}" if exp else text
        return super()._print_Function(expr, exp)

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        function = self._print(expr.expr)
        order = sum(int(n) for _, n in expr.variable_count)
        ordinary = isinstance(expr.expr, AppliedUndef) and len(expr.expr.args) == 1
        d = r"\mathrm{d}" if ordinary else r"\partial"
        top = d if order == 1 else f"{d}^{{{order}}}"
        bottom = " ".join(f"{d} {self._print(v)}" + (f"^{{{n}}}" if n != 1 else "") for v, n in expr.variable_count)
        return rf"\frac{{{top} {function}}}{{{bottom}}}"


def expression_to_latex(expr: sp.Expr) -> str:
    return _ModelLatexPrinter().doprint(expr)


def model_to_latex(model: Model) -> str:
    """`\\begin{aligned} ... \\end{aligned}`: a line per coordinate of the domain, per equation and
    per boundary condition."""
    show = expression_to_latex
    rows = []
    for c in model.domain:
        interval = f"[{show(c.lower)}, {show(c.upper)}" + (")" if c.periodic else "]")
        what = f"periodic, {c.points} points" if c.periodic else f"{c.points} points"
        rows.append(rf"{show(c.symbol)} &\in {interval} \quad \text{{{what}}}")
    rows += [f"{show(e.lhs)} &= {show(e.rhs)}" for e in model.equations]
    for b in model.boundary_conditions:
        rows.append(rf"{show(b.lhs)} &= {show(b.rhs)} \quad \text{{at }} {show(b.coordinate)} = {show(b.at)}")
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"
