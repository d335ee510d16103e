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
        unknown_names: the unknowns, in the order of the coefficient vector `a`.
        guesses: their initial values (the model's guesses, else 0).
        affine: whether f is affine in the unknowns (then one least-squares solve fits them).
        terms: for each unknown, what it multiplies, as `D(y): x*z` (joined by `; ` when shared).
        equations: the first-order equations, with the unknowns in each.
        rhs: `rhs(t, x, a) -> (..., *state)`, f at states x (..., V), or fields (..., F, *grid), and unknowns a (J,).
    """

    template: Model
    state_names: tuple[str, ...]
    unknown_names: tuple[str, ...]
    guesses: np.ndarray
    affine: bool
    terms: tuple[str, ...]
    equations: tuple[FirstOrderEquation, ...]
    rhs: Callable


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
    affine, terms = True, []
    for symbol in unknowns:
        where = []
        for entry, state in zip(rhs, template.state_vector):
            slope = sp.diff(entry, symbol)
            if slope == 0:
                continue
            affine = affine and not (slope.free_symbols & set(unknowns))
            where.append(f"D({state.name}): {expression_to_text(slope)}")
        terms.append("; ".join(where) or "(unused)")
    unused = [u.name for u, where in zip(template.unknowns, terms) if where == "(unused)"]
    if unused:
        raise ValueError(f"{template.name}: the unknown {', '.join(unused)} appears in no equation")

    lowered = template.lower()
    fixed = len(template.parameters)
    parameters = lowered.p[:fixed]

    def f(t, x, a):
        p = jnp.concatenate([parameters.astype(a.dtype), a])
        return lowered.rhs(t, x, p)

    return Candidates(
        template=template,
        state_names=tuple(s.name for s in template.state_vector),
        unknown_names=tuple(u.name for u in template.unknowns),
        guesses=np.array([float(defaults.get(u, 0)) for u in unknowns]),
        affine=affine,
        terms=tuple(terms),
        equations=tuple(
            FirstOrderEquation(state.name, entry, tuple(j for j, u in enumerate(unknowns) if entry.has(u)))
            for entry, state in zip(rhs, template.state_vector)
        ),
        rhs=f,
    )


def _source_rhs(template: Model) -> list[sp.Expr]:
    """A PDE's right-hand sides as written (∂x^2(u), not the jet's uˍxx), in the order of its fields."""
    by_field = {equation.lhs.args[0].func: equation.rhs for equation in template.equations}
    return [by_field[state.function] for state in template.states]
