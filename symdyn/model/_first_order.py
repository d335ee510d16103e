"""The first-order form of a model: solve the equations for each state's highest derivative.

A state `x` of order k becomes the vector entries x, xˍt, ..., (k-1 t's), named as
ModelingToolkit names them. Spatial derivatives of fields stay operators: in the
first-order right-hand side they are jet symbols (`u`, `uˍx`, `uˍxxxx`), so a PDE
right-hand side is a pointwise expression in the jet of its fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from .._errors import Source, SymdynSemanticError
from ._components import Equation, State
from ._names import JET_MARK
from ._scope import real_symbol


@dataclass(frozen=True)
class Jet:
    """What a jet symbol stands for: `state` differentiated `time_order` times in t and `space` in x."""

    state: State
    time_order: int
    space: tuple[tuple[sp.Symbol, int], ...]

    def source_form(self) -> sp.Expr:
        """`x(t)`, `Derivative(x(t), t)` or `Derivative(u(t, x), t, (x, 2))`."""
        time = self.state.arguments[0]
        variables = ([(time, self.time_order)] if self.time_order else []) + list(self.space)
        return sp.Derivative(self.state.applied, *variables) if variables else self.state.applied


def jet_name(state: State, time_order: int, space: tuple[tuple[sp.Symbol, int], ...]) -> str:
    """`x`, `xˍt`, `xˍtt`, `uˍxxxx`; names longer than a letter are separated: `uˍξ₁ˍξ₁`."""
    letters = [state.arguments[0].name] * time_order + [v.name for v, n in space for _ in range(n)]
    if not letters:
        return state.name
    joiner = "" if all(len(letter) == 1 for letter in letters) else JET_MARK
    return state.name + JET_MARK + joiner.join(letters)


def jet_of(expr: sp.Expr, states: dict[str, State]) -> Jet | None:
    """The jet that a state application or a derivative of one stands for."""
    if isinstance(expr, AppliedUndef) and expr.func.__name__ in states:
        return Jet(states[expr.func.__name__], 0, ())
    if isinstance(expr, sp.Derivative) and isinstance(expr.expr, AppliedUndef):
        state = states.get(expr.expr.func.__name__)
        if state is None:
            return None
        time = state.arguments[0]
        time_order = sum(int(n) for v, n in expr.variable_count if v == time)
        space = tuple((v, int(n)) for v, n in expr.variable_count if v != time)
        return Jet(state, time_order, space)
    return None


@dataclass(frozen=True)
class FirstOrderSystem:
    """`D(state_vector) = rhs`, pointwise in the jet symbols of `jets`."""

    state_vector: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    jets: dict[sp.Symbol, Jet]

    def to_jets(self, expr: sp.Expr) -> sp.Expr:
        """`expr` with state applications and their derivatives replaced by jet symbols."""
        symbols = {jet.source_form(): symbol for symbol, jet in self.jets.items()}
        found = {e for e in expr.atoms(AppliedUndef, sp.Derivative) if e not in symbols}
        states = {jet.state.name: jet.state for jet in self.jets.values()}
        for e in found:
            jet = jet_of(e, states)
            if jet is not None:
                symbols[e] = _register(self.jets, jet)
        return expr.xreplace(symbols)


def _register(jets: dict[sp.Symbol, Jet], jet: Jet) -> sp.Symbol:
    """The symbol of `jet`, registered; a name another jet holds gets a further mark.

    In a first-order model the state `xˍt` and the derivative D(x) would share a name.
    """
    name = jet_name(jet.state, jet.time_order, jet.space)
    while jets.get(real_symbol(name), jet) != jet:
        name += JET_MARK
    symbol = real_symbol(name)
    jets.setdefault(symbol, jet)
    return symbol


def reduce_to_first_order(
    states: tuple[State, ...], equations: tuple[Equation, ...], source: Source
) -> FirstOrderSystem:
    """Solve `equations` for the highest time derivative of every state.

    The equations must be linear in those derivatives (any coefficients, coupled or
    not) and determine each of them: one equation per state, a non-singular system.

    Raises:
        SymdynSemanticError: located at the equation or declaration at fault.
    """

    def error(message: str, span, hint: str | None = None) -> SymdynSemanticError:
        return SymdynSemanticError(message, source=source, span=span, hint=hint)

    active = {s.name: s for s in states if s.order > 0}
    leading = {name: Jet(s, s.order, ()).source_form() for name, s in active.items()}
    unknowns = {name: sp.Dummy(f"D{name}") for name in active}
    residuals = []
    for equation in equations:
        residual = (equation.lhs - equation.rhs).xreplace({leading[n]: unknowns[n] for n in active})
        for derivative in residual.atoms(sp.Derivative):
            jet = jet_of(derivative, active)
            if jet is not None and jet.time_order >= jet.state.order:
                raise error(
                    f"`{jet.state.name}` is differentiated in time and space at its highest order",
                    equation.span,
                    "mixed derivatives such as D(∂x(u)) are not supported at the highest time order",
                )
        residuals.append(residual)

    coefficients = []
    for equation, residual in zip(equations, residuals):
        row = [sp.diff(residual, unknowns[n]) for n in active]
        for name, coefficient in zip(active, row):
            if coefficient.has(*unknowns.values()):
                raise error(
                    f"this equation is not linear in {_written(leading[name])}",
                    equation.span,
                    "write it solved for the derivative, as `D(x) ~ ...`",
                )
        coefficients.append(row)

    _check_one_equation_per_state(states, equations, coefficients, leading, error)
    names = list(active)
    constants = [-r.xreplace({u: 0 for u in unknowns.values()}) for r in residuals]
    solution = _solve_linear(coefficients, constants, equations, names, leading, error)

    jets: dict[sp.Symbol, Jet] = {}
    vector: list[sp.Symbol] = []
    rhs: list[sp.Expr] = []
    for state in states:
        for order in range(state.order):
            vector.append(_register(jets, Jet(state, order, ())))
            if order + 1 < state.order:
                rhs.append(_register(jets, Jet(state, order + 1, ())))
            else:
                rhs.append(solution[state.name])
    system = FirstOrderSystem(tuple(vector), (), jets)
    return FirstOrderSystem(system.state_vector, tuple(system.to_jets(e) for e in rhs), jets)


def _written(derivative: sp.Derivative) -> str:
    """`D(x)` or `D^2(x)`, as a model file writes a highest derivative."""
    order = sum(int(n) for _, n in derivative.variable_count)
    name = derivative.expr.func.__name__
    return f"D({name})" if order == 1 else f"D^{order}({name})"


def _check_one_equation_per_state(states, equations, coefficients, leading, error) -> None:
    """Locate the usual faults: an equation without a highest derivative, a state with two or none."""
    active = [s for s in states if s.order > 0]
    defined_by: dict[str, Equation] = {}
    for equation, row in zip(equations, coefficients):
        nonzero = [s for s, c in zip(active, row) if c != 0]
        if not nonzero and active:
            highest = ", ".join(_written(leading[s.name]) for s in active)
            raise error(
                "this equation holds no highest derivative of any state",
                equation.span,
                f"each equation gives one of {highest}; one without them is a constraint (a DAE)",
            )
        if len(nonzero) == 1:
            name = nonzero[0].name
            if name in defined_by:
                first = defined_by[name].span
                where = f" on line {first.line}" if first else ""
                raise error(
                    f"a second equation for {_written(leading[name])}",
                    equation.span,
                    f"`{name}` already has its equation{where}",
                )
            defined_by[name] = equation
    for state in states:
        if state.order == 0:
            raise error(
                f"the state `{state.name}` has no equation",
                state.span,
                f"add `D({state.name}) ~ ...`, or declare `{state.name}` with @parameters if it is constant",
            )
    if len(equations) != len(states):
        span = equations[len(states)].span if len(equations) > len(states) else states[-1].span
        raise error(
            f"{len(equations)} equations for {len(states)} states",
            span,
            "a model needs exactly one equation for each state",
        )


def _solve_linear(coefficients, constants, equations, names, leading, error) -> dict[str, sp.Expr]:
    """Solve A·ℓ = b for the highest derivatives ℓ; one nonzero per row is the usual, explicit, case."""
    pivots = [[j for j, c in enumerate(row) if c != 0] for row in coefficients]
    if all(len(p) == 1 for p in pivots) and len({p[0] for p in pivots}) == len(names):
        return {names[p[0]]: b / row[p[0]] for p, row, b in zip(pivots, coefficients, constants)}
    matrix = sp.Matrix(coefficients)
    if sp.simplify(matrix.det(method="berkowitz")) == 0:
        involved = ", ".join(_written(leading[n]) for n in names)
        raise error(
            f"these equations do not determine {involved}",
            equations[0].span,
            "the system is singular: some equation repeats or combines the others (a DAE)",
        )
    solved = matrix.LUsolve(sp.Matrix(constants))
    return {name: sp.cancel(value) for name, value in zip(names, solved)}
