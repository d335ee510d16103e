"""A Model rewritten with first-order states only: `D^2(x) ~ -x` becomes `D(x) ~ xˍt`, `D(xˍt) ~ -x`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import sympy as sp

from .._errors import Source
from ._components import BoundaryCondition, Definition, Equation, InitialValue, State
from ._first_order import reduce_to_first_order

if TYPE_CHECKING:
    from ._model import Model


def first_order_model(model: Model) -> Model:
    system = model.system
    new_states: dict[tuple[str, int], State] = {}
    for state in model.states:
        for order in range(state.order):
            symbol = system.to_jets(sp.Derivative(state.applied, (model.time, order)) if order else state.applied)
            function = sp.Function(symbol.name, real=True)
            new_states[state.name, order] = State(function, state.arguments, 1, state.span)

    def rewrite(expr: sp.Expr) -> sp.Expr:
        expr = system.to_jets(expr)
        forms = {}
        for symbol in expr.free_symbols & set(system.jets):
            jet = system.jets[symbol]
            applied = new_states[jet.state.name, jet.time_order].applied
            forms[symbol] = sp.Derivative(applied, *jet.space) if jet.space else applied
        return expr.xreplace(forms)

    states = tuple(new_states.values())
    equations = tuple(
        Equation(sp.Derivative(state.applied, model.time), rewrite(rhs)) for state, rhs in zip(states, system.rhs)
    )
    initial_values = tuple(InitialValue(rewrite(i.target), i.value, i.span) for i in model.initial_values)
    return dataclasses.replace(
        model,
        states=states,
        equations=equations,
        initial_values=initial_values,
        observed=tuple(Definition(d.symbol, rewrite(d.expression), d.span) for d in model.observed),
        conserved=tuple(Definition(d.symbol, rewrite(d.expression), d.span) for d in model.conserved),
        boundary_conditions=tuple(
            BoundaryCondition(b.coordinate, b.at, rewrite(b.lhs), rewrite(b.rhs), b.span)
            for b in model.boundary_conditions
        ),
        system=reduce_to_first_order(states, equations, model.source or Source("")),
    )
