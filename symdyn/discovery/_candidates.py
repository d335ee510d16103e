"""A template model made ready to fit: its right-hand side as a JAX function of the unknowns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..model import Model, expression_to_text


@dataclass(frozen=True)
class FirstOrderEquation:
    """One equation of a template's first-order form, D(state) ~ rhs, and the indices of the unknowns in it."""

    state: str
    rhs: sp.Expr
    unknowns: tuple[int, ...]


@dataclass(frozen=True)
class Candidates:
    """The unknowns of a template and how its first-order right-hand side depends on them.

    Attributes:
        template: the model with `@unknowns`.
        state_names: the entries of its first-order state, which the data must hold.
        input_names: its @inputs, which the data must hold too: the terms see the states, then the inputs, as
            the columns of x.
        unknown_names: the unknowns, in the order of the coefficient vector `a`.
        guesses: their initial values (the model's guesses, else 0).
        affine: whether f is affine in the unknowns (then one least-squares solve fits them).
        terms: for each unknown, what it multiplies, as `D(y): x*z` (joined by `; ` when shared).
        equations: the first-order equations, with the unknowns in each.
        rhs: `rhs(t, x, a) -> (..., *state)`, f at states x (..., V) (with the inputs, (..., V + m)), or fields
            (..., F, *grid), and unknowns a (J,).
        affine_parts: for an ODE template affine in its unknowns, `(t, x) -> (f₀, S)` in NumPy with
            f(t, x; a) = f₀ + S·a, f₀ (..., V) and S (..., V, J), x as for `rhs`: the design of a least-squares
            fit, built without compiling anything; None otherwise.
    """

    template: Model
    state_names: tuple[str, ...]
    unknown_names: tuple[str, ...]
    guesses: np.ndarray
    affine: bool
    terms: tuple[str, ...]
    equations: tuple[FirstOrderEquation, ...]
    rhs: Callable
    affine_parts: Callable | None = None
    input_names: tuple[str, ...] = ()


def candidates(template: Model) -> Candidates:
    """Check a template for discovery and lower it.

    Raises:
        ValueError: no `@unknowns`, or a parameter without a value.
    """
    if not template.unknowns:
        raise ValueError(
            f"{template.name} has no @unknowns: declare the coefficients to fit (`@unknowns a₁ a₂`), "
            "or fit a candidate library instead"
        )
    defaults = template.defaults
    missing = [p.name for p in template.parameters if p.symbol not in defaults]
    if missing:
        raise ValueError(f"{template.name}: parameter {', '.join(missing)} has no value; give it one in the file")
    unknowns = [u.symbol for u in template.unknowns]
    rhs = _source_rhs(template) if template.is_pde else list(template.rhs())
    slopes = [[sp.diff(entry, u) if u in entry.free_symbols else sp.Integer(0) for u in unknowns] for entry in rhs]
    affine = not any(slope.free_symbols & set(unknowns) for row in slopes for slope in row)
    terms = []
    for j in range(len(unknowns)):
        where = [
            f"D({state.name}): {expression_to_text(row[j])}"
            for row, state in zip(slopes, template.state_vector)
            if row[j] != 0
        ]
        terms.append("; ".join(where) or "(unused)")
    unused = [u.name for u, where in zip(template.unknowns, terms) if where == "(unused)"]
    if unused:
        raise ValueError(f"{template.name}: the unknown {', '.join(unused)} appears in no equation")

    lowered = template.lower()
    fixed = len(template.parameters)
    parameters = lowered.p[:fixed]
    count = len(template.state_vector)

    def f(t, x, a):
        p = jnp.concatenate([parameters.astype(a.dtype), a])
        if template.inputs:  # the columns after the states are the inputs
            return lowered.driven[0](t, x[..., :count], p, x[..., count:])
        return lowered.rhs(t, x, p)

    return Candidates(
        affine_parts=_affine_parts(template, rhs, slopes, unknowns) if affine and not template.is_pde else None,
        template=template,
        state_names=tuple(s.name for s in template.state_vector),
        unknown_names=tuple(u.name for u in template.unknowns),
        guesses=np.array([float(defaults.get(u, 0)) for u in unknowns]),
        affine=affine,
        terms=tuple(terms),
        equations=tuple(
            FirstOrderEquation(state.name, entry, tuple(j for j, slope in enumerate(row) if slope != 0))
            for entry, row, state in zip(rhs, slopes, template.state_vector)
        ),
        rhs=f,
        input_names=tuple(i.name for i in template.inputs),
    )


def _source_rhs(template: Model) -> list[sp.Expr]:
    """A PDE's right-hand sides as written (∂x^2(u), not the jet's uˍxx), in the order of its fields."""
    by_field = {equation.lhs.args[0].func: equation.rhs for equation in template.equations}
    return [by_field[state.function] for state in template.states]


def _affine_parts(
    template: Model, rhs: list[sp.Expr], slopes: list[list[sp.Expr]], unknowns: list[sp.Symbol]
) -> Callable:
    """(t, x) ↦ (f₀, S) for f = f₀ + S·a, every entry a NumPy function of t and the states (parameters at their
    values), generated as one function."""
    values = {symbol: value for symbol, value in template.defaults.items() if symbol not in set(unknowns)}
    zero = dict.fromkeys(unknowns, sp.Integer(0))
    entries = [e for entry, row in zip(rhs, slopes) for e in (entry.xreplace(zero), *row)]
    inputs = [i.symbol for i in template.inputs]
    function = sp.lambdify([template.time, *template.state_vector, *inputs, *values], entries, "numpy")
    width = 1 + len(unknowns)

    def parts(t, x):
        shape = np.broadcast_shapes(np.shape(t), x.shape[:-1])
        found = function(t, *np.moveaxis(x, -1, 0), *(float(v) for v in values.values()))
        columns = np.stack([np.broadcast_to(column, shape) for column in found], -1)
        columns = columns.reshape(*shape, len(rhs), width)  # (..., V, 1 + J)
        return columns[..., 0], columns[..., 1:]

    return parts
