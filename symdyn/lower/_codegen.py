"""A Model's exact first-order forms as the source of a small JAX module, with common subexpressions shared.

The module defines `rhs(t, x, p)`, `jac(t, x, p)`, `jvp(t, x, p, v)`, `observed(t, x, p)`,
`conserved(t, x, p)` and, when every initial value is given, `initial(p)`. Each
works on the last axis of its arrays, so it broadcasts over leading batch axes and
composes with `jit`, `vmap` and `grad`. `symdyn codegen FILE` prints this source.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..model import Model
from ._source import SymbolTable, function_source, module_source


@dataclass(frozen=True)
class GeneratedModule:
    """The generated source and the names of what its arrays hold, entry by entry."""

    source: str
    state_names: tuple[str, ...]
    parameter_names: tuple[str, ...]
    observed_names: tuple[str, ...]
    conserved_names: tuple[str, ...]
    has_initial: bool


def generate_module(model: Model) -> GeneratedModule:
    """The JAX source of `model`'s first-order forms, generated once, constants substituted."""
    if model.is_pde:
        raise NotImplementedError(
            f"{model.name} is a PDE: lowering fields to grid arrays is not available yet. "
            "Its exact symbolic forms are: model.rhs() and model.jvp()."
        )
    defaults = model.defaults
    constants = {c.symbol: defaults[c.symbol] for c in model.constants}
    vector = model.state_vector
    coefficients = [p.symbol for p in model.parameters] + [u.symbol for u in model.unknowns]
    direction = model.direction()

    names = SymbolTable()
    names.add(model.time, "_t")
    for i, symbol in enumerate(vector):
        names.add(symbol, f"_x[..., {i}]")
    for i, symbol in enumerate(coefficients):
        names.add(symbol, f"_p[..., {i}]")
    for i, (symbol, state) in enumerate(zip(direction, vector)):
        names.add(symbol, f"_v[..., {i}]", name="d_" + state.name)

    def exact(expr: sp.Expr) -> sp.Expr:
        return model.system.to_jets(sp.sympify(expr)).xreplace(constants)

    rhs = [exact(e) for e in model.rhs()]
    jacobian = sp.Matrix(rhs).jacobian(vector)
    jvp = [exact(e) for e in model.jvp()]
    observed = [exact(d.expression) for d in model.observed]
    conserved = [exact(d.expression) for d in model.conserved]
    initial = model.initial_state()

    state_list = ", ".join(s.name for s in vector)
    functions = [
        function_source("rhs", "_t, _x, _p", f"D({state_list}) of {model.name}.", rhs, names, "_x[..., 0]"),
        function_source(
            "jac",
            "_t, _x, _p",
            "The exact Jacobian of rhs, (..., n, n).",
            [list(jacobian.row(i)) for i in range(jacobian.rows)],
            names,
            "_x[..., 0]",
        ),
        function_source(
            "jvp", "_t, _x, _p, _v", "The exact Jacobian of rhs times _v, without forming it.", jvp, names, "_x[..., 0]"
        ),
        function_source("observed", "_t, _x, _p", "The @observed quantities.", observed, names, "_x[..., 0]"),
        function_source("conserved", "_t, _x, _p", "The @conserved quantities.", conserved, names, "_x[..., 0]"),
    ]
    has_initial = all(value is not None for value in initial)
    if has_initial:
        values = [exact(value) for value in initial]
        functions.append(
            function_source(
                "initial",
                "_p",
                "The initial state, from the parameters.",
                values,
                names,
                "jnp.zeros(_p.shape[:-1], _p.dtype)",
            )
        )

    origin = f" from {model.filename}" if model.filename else ""
    docstring = (
        f"{model.name}, lowered by symdyn{origin}.\n\n"
        f"x = ({state_list})\np = ({', '.join(s.name for s in coefficients)})\n"
    )
    source = module_source(docstring, functions)
    return GeneratedModule(
        source=source,
        state_names=tuple(s.name for s in vector),
        parameter_names=tuple(s.name for s in coefficients),
        observed_names=tuple(d.name for d in model.observed),
        conserved_names=tuple(d.name for d in model.conserved),
        has_initial=has_initial,
    )
