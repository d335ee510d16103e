"""Syntax-tree expressions to SymPy: name resolution, functions, derivative operators, integrals.

Never `sympify` user text: every node is built from the tree, so a model file can
only reach the names it declares and the functions of `_functions.BUILTINS`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from .._errors import Source, Span, SymdynSemanticError
from ..language import syntax as syn
from ._functions import BUILTINS, CONSTANTS
from ._scope import KIND_WORDS, Declared, Scope

MAX_DERIVATIVE_ORDER = 16
_LARGEST_FLOAT = sp.Float(1.7976931348623157e308)


@dataclass(frozen=True)
class Context:
    """Where an expression stands, and so what it may refer to; `what` names the place in messages."""

    what: str
    parameters: bool = True
    states: bool = False
    time: bool = False
    coordinates: bool = False
    derivatives: bool = False
    integrals: bool = False
    definitions: bool = False
    boundary: bool = False


@dataclass(frozen=True)
class BoundaryPoint:
    """A field evaluated where `coordinate` equals `value`, as in `u(t, 0)`."""

    coordinate: sp.Symbol
    value: sp.Expr
    span: Span


def canonical_derivatives(expr: sp.Expr, rank: Callable[[sp.Symbol], int]) -> sp.Expr:
    """Derivatives with their variables merged and sorted by `rank` (time first, then space)."""

    def canonical(derivative: sp.Derivative) -> sp.Expr:
        counts: Counter = Counter()
        for variable, count in derivative.variable_count:
            counts[variable] += int(count)
        return sp.Derivative(derivative.expr, *[(v, counts[v]) for v in sorted(counts, key=rank)])

    return expr.replace(lambda e: isinstance(e, sp.Derivative), canonical)


def _log10_abs(number: sp.Number) -> float:
    if number.is_Rational:
        return math.log10(abs(int(number.p))) - math.log10(int(number.q))
    return float(sp.log(abs(number)) / math.log(10))  # mpmath: fine below the float64 range too


def _product(left: sp.Expr, right: sp.Expr) -> sp.Expr:
    """left*right, but a number times a sum stays as written: SymPy would distribute `2*(x + y)`
    into `2*x + 2*y` here and not inside a longer product, and printed models must parse back equal."""
    if left.is_Add and right.is_Number:
        left, right = right, left
    if left.is_Number and right.is_Add:
        return sp.Mul(left, right, evaluate=False)
    return left * right


def _float64(expr: sp.Expr) -> sp.Expr:
    """Floats rounded into the float64 range (tiny values to 0.0), so that printing them round-trips."""
    floats = {f: sp.Float(float(f), precision=53) for f in expr.atoms(sp.Float)}
    return expr.xreplace({f: g for f, g in floats.items() if f != g}) if floats else expr


class ExpressionBuilder:
    """Builds SymPy expressions from syntax nodes in the scope of one model."""

    def __init__(
        self,
        scope: Scope,
        source: Source,
        time: sp.Symbol,
        state_arguments: dict[str, tuple[sp.Symbol, ...]],
        bounds: dict[sp.Symbol, tuple[sp.Expr, sp.Expr]],
        definition: Callable[[Declared, Span], sp.Expr],
    ):
        self.scope = scope
        self.source = source
        self.time = time
        self.state_arguments = state_arguments
        self.bounds = bounds
        self.definition = definition

    def _variable_rank(self, variable: sp.Symbol) -> int:
        """Time first, then the coordinates in the order of @domain."""
        return 0 if variable == self.time else 1 + list(self.bounds).index(variable)

    def error(self, message: str, span: Span, hint: str | None = None) -> SymdynSemanticError:
        return SymdynSemanticError(message, source=self.source, span=span, hint=hint)

    def build(self, node: syn.Expression, context: Context, points: list[BoundaryPoint] | None = None) -> sp.Expr:
        """The SymPy expression of `node`; boundary evaluations such as `u(t, 0)` are appended to `points`."""
        expr = self._build(node, context, points)
        self._check_value(expr, node.span)
        return _float64(expr)

    # --- nodes
    def _build(self, node: syn.Expression, context: Context, points: list[BoundaryPoint] | None) -> sp.Expr:
        if isinstance(node, syn.Number):
            return self._number(node)
        if isinstance(node, syn.Name):
            return self._name(node, context)
        if isinstance(node, syn.UnaryOp):
            operand = self._build(node.operand, context, points)
            return _product(sp.Integer(-1), operand) if node.op == "-" else operand
        if isinstance(node, syn.BinaryOp):
            left = self._build(node.left, context, points)
            right = self._build(node.right, context, points)
            if node.op == "+":
                return left + right
            if node.op == "-":
                return left + _product(sp.Integer(-1), right)
            if node.op == "*":
                return _product(left, right)
            if node.op == "/":
                return _product(left, 1 / right)
            return self._power(left, right, node.span)
        return self._call(node, context, points)

    def _number(self, node: syn.Number) -> sp.Expr:
        text = node.text
        try:
            if text.isdigit():
                return sp.Integer(int(text))
            value = sp.Float(text, precision=53)  # decimal literals are Float64, as in Julia
        except ValueError:
            raise self.error(f"the number `{text[:20]}...` has too many digits", node.span) from None
        if abs(value) > _LARGEST_FLOAT:
            raise self.error(f"the number `{text}` is beyond the range of 64-bit floats", node.span)
        return value

    def _power(self, base: sp.Expr, exponent: sp.Expr, span: Span) -> sp.Expr:
        if base.is_Number and exponent.is_Number and not base.is_zero:
            if abs(float(exponent)) * abs(_log10_abs(base)) > 300:
                raise self.error("this power is too large to compute", span, "keep exact powers below 1e300")
        return base**exponent

    def _name(self, node: syn.Name, context: Context) -> sp.Expr:
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        declared = self.scope.get(node.id)
        if declared is None:
            raise self._undeclared(node.id, node.span)
        if declared.kind == "state":
            if not context.states:
                raise self.error(f"{context.what} cannot use the state `{node.id}`", node.span)
            if context.boundary and self.state_arguments[node.id][1:]:
                args = ", ".join(a.name for a in self.state_arguments[node.id])
                raise self.error(
                    f"say where `{node.id}` is evaluated on the boundary",
                    node.span,
                    f"write the field at a boundary point: `{node.id}({args})` with a number for the coordinate",
                )
            return declared.function(*self.state_arguments[node.id])
        allowed = {
            "constant": True,
            "parameter": context.parameters,
            "unknown": context.parameters,
            "time": context.time,
            "input": context.time,
            "coordinate": context.coordinates,
            "observed": context.definitions,
            "conserved": context.definitions,
        }[declared.kind]
        if not allowed:
            raise self.error(f"{context.what} cannot use `{node.id}`, {KIND_WORDS[declared.kind]}", node.span)
        if declared.kind in ("observed", "conserved"):
            return self.definition(declared, node.span)
        return declared.symbol

    def _undeclared(self, name: str, span: Span) -> SymdynSemanticError:
        if name in BUILTINS:
            return self.error(f"`{name}` is a function", span, f"call it: `{name}(x)`")
        if name == "D":
            return self.error("`D` is the time derivative", span, "apply it to a state: `D(x)`")
        close = self.scope.suggestion(name, tuple(CONSTANTS))
        hint = f"did you mean `{close}`?" if close else "declare it with @parameters, @variables or @constants"
        return self.error(f"`{name}` is not declared", span, hint)

    # --- calls
    def _call(self, node: syn.Call, context: Context, points: list[BoundaryPoint] | None) -> sp.Expr:
        declared = self.scope.get(node.callee)
        if declared is not None:
            if declared.kind == "state" and node.power is None:
                return self._state_call(declared, node, context, points)
            raise self.error(
                f"`{node.callee}` is {KIND_WORDS[declared.kind]}, not a function",
                node.callee_span,
                f"to multiply, write `{node.callee}*(...)`",
            )
        if node.callee in ("∫", "integral"):
            return self._integral(node, context, points)
        builtin = BUILTINS.get(node.callee)
        if builtin is not None:
            if node.power is not None:
                raise self.error(
                    "only derivative operators take a power before their bracket",
                    node.callee_span,
                    f"write `{node.callee}(...)^{node.power}`",
                )
            if not builtin.accepts(len(node.arguments)):
                raise self.error(
                    f"`{builtin.name}` takes {builtin.arity_text}, not {len(node.arguments)}",
                    node.span,
                )
            arguments = [self._build(a, context, points) for a in node.arguments]
            return builtin.build(*arguments)
        counts = self._derivative_operator(node)
        if counts is None:
            raise self._unknown_function(node)
        return self._derivative(node, counts, context, points)

    def _unknown_function(self, node: syn.Call) -> SymdynSemanticError:
        """`∂y(u)` (and `Dy(u)` in a PDE) names a coordinate the domain lacks; anything else is a misspelling."""
        coordinates = [c.name for c in self.bounds]
        if not (node.callee.startswith("∂") or (node.callee.startswith("D") and coordinates)):
            close = self.scope.suggestion(node.callee, tuple(BUILTINS) + ("D",))
            hint = f"did you mean `{close}`?" if close else "see docs/language.md for the functions a model can call"
            return self.error(f"unknown function `{node.callee}`", node.callee_span, hint)
        rest, known = node.callee[1:], sorted([self.time.name, *coordinates], key=len, reverse=True)
        while prefix := next((k for k in known if rest.startswith(k) and rest != k), None):
            rest = rest[len(prefix) :]  # `∂xz(u)`: the fault is `z`
        if not coordinates:
            hint = f"the model has no @domain: declare it, as in `@domain {rest} ∈ Periodic(0, 1; points = 64)`"
        elif len(coordinates) == 1:
            hint = f"the domain has one coordinate, `{coordinates[0]}`"
        else:
            hint = "the coordinates of the domain are " + ", ".join(f"`{c}`" for c in coordinates)
        return self.error(f"`{rest}` is not a coordinate of the domain", node.callee_span, hint)

    def _state_call(
        self, declared: Declared, node: syn.Call, context: Context, points: list[BoundaryPoint] | None
    ) -> sp.Expr:
        if not context.states:
            raise self.error(f"{context.what} cannot use the state `{node.callee}`", node.span)
        expected = self.state_arguments[declared.name]
        written = ", ".join(a.name for a in expected)
        if len(node.arguments) != len(expected):
            raise self.error(
                f"`{declared.name}` takes {len(expected)} argument{'s' * (len(expected) > 1)}",
                node.span,
                f"write `{declared.name}({written})`",
            )
        for argument, variable in zip(node.arguments, expected):
            if isinstance(argument, syn.Name) and argument.id == variable.name:
                continue
            if context.boundary and variable != self.time and points is not None:
                where = Context(f"the boundary point of `{declared.name}`")
                points.append(BoundaryPoint(variable, self.build(argument, where), argument.span))
                continue
            raise self.error(
                f"`{declared.name}` is evaluated at its own arguments here",
                argument.span,
                f"write `{declared.name}({written})`, or just `{declared.name}`",
            )
        return declared.function(*expected)

    def _derivative_operator(self, node: syn.Call) -> Counter | None:
        """Variable counts of `D`, `Dt`, `∂x`, `∂x^4`, `Dxx`, ...; None when the callee is no such operator."""
        name = node.callee
        if name.startswith("∂"):
            variables = self._split_variables(name[1:], node)
        elif name == "D":
            variables = [self.time]
        elif name.startswith("D"):
            variables = self._split_variables(name[1:], node)
        else:
            return None
        if variables is None:
            return None
        counts = Counter(variables)
        for variable in counts:
            counts[variable] *= node.power if node.power is not None else 1
        return counts

    def _split_variables(self, text: str, node: syn.Call) -> list[sp.Symbol] | None:
        names = {c.name: c for c in self.bounds} | {self.time.name: self.time}

        def splits(rest: str) -> list[list[sp.Symbol]]:
            if not rest:
                return [[]]
            return [[names[n], *tail] for n in names if rest.startswith(n) for tail in splits(rest[len(n) :])]

        found = splits(text)
        if len(found) > 1:
            raise self.error(
                f"`{node.callee}` can be read in more than one way", node.callee_span, "write one ∂ per coordinate"
            )
        return found[0] if found else None

    def _derivative(
        self, node: syn.Call, counts: Counter, context: Context, points: list[BoundaryPoint] | None
    ) -> sp.Expr:
        if not context.derivatives:
            raise self.error(f"{context.what} cannot contain derivatives", node.span)
        operator = node.callee + (f"^{node.power}" if node.power is not None else "")
        if len(node.arguments) != 1:
            raise self.error(f"`{operator}` takes one argument", node.span, f"write `{operator}(x)`")
        (argument,) = node.arguments
        if isinstance(argument, syn.Name):
            declared = self.scope.get(argument.id)
            if declared is not None and declared.kind == "input":
                raise self.error(
                    f"`{argument.id}` is an input: the model knows its values, not its derivative",
                    argument.span,
                    f"give the derivative of `{argument.id}` as another input",
                )
            if declared is not None and declared.kind in ("parameter", "constant", "unknown"):
                raise self.error(
                    f"`{argument.id}` is {KIND_WORDS[declared.kind]}: it has no derivative",
                    argument.span,
                    f"declare `{argument.id}` with @variables if it changes",
                )
        order = sum(counts.values())
        if order > MAX_DERIVATIVE_ORDER:
            raise self.error(f"derivatives of order {order} are not supported", node.span, "stay at 16 or below")
        expr = self._build(argument, context, points)
        if not expr.atoms(AppliedUndef):
            raise self.error(
                f"`{operator}` applies to states and expressions of them",
                argument.span,
                "a derivative of something that does not change is 0",
            )
        result = sp.diff(expr, *counts.items())
        if result == 0:
            variables = ", ".join(v.name for v in counts)
            raise self.error(f"this expression does not depend on {variables}", argument.span)
        result = canonical_derivatives(result, self._variable_rank)
        for derivative in result.atoms(sp.Derivative):
            if sum(int(n) for _, n in derivative.variable_count) > MAX_DERIVATIVE_ORDER:
                raise self.error("derivatives above order 16 are not supported", node.span)
        return result

    def _integral(self, node: syn.Call, context: Context, points: list[BoundaryPoint] | None) -> sp.Expr:
        if not context.integrals:
            raise self.error(
                f"{context.what} cannot contain integrals", node.span, "integrals belong in @observed and @conserved"
            )
        if len(node.arguments) < 2:
            raise self.error("an integral names its integrand and coordinates", node.span, "write `∫(u^2, x)`")
        integrand, *variables = node.arguments
        limits = []
        for variable in variables:
            declared = self.scope.get(variable.id) if isinstance(variable, syn.Name) else None
            if declared is None or declared.kind != "coordinate":
                raise self.error("integrate over a coordinate of the @domain", variable.span)
            lower, upper = self.bounds[declared.symbol]
            limits.append((declared.symbol, lower, upper))
        return sp.Integral(self._build(integrand, context, points), *limits)

    # --- checks
    def _check_value(self, expr: sp.Expr, span: Span) -> None:
        if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            raise self.error("this expression is infinite or undefined", span, "look for a division by zero")
        if expr.has(sp.I):
            raise self.error(
                "this expression is complex", span, "models are real: look for sqrt or log of a negative number"
            )
        for number in expr.atoms(sp.Number):
            if abs(number) > _LARGEST_FLOAT:
                raise self.error("this expression holds a number beyond the range of 64-bit floats", span)
