"""Terms written as spatial derivatives of functions of the fields, ∂x^k(g(u)).

The language expands ∂x(u^2) into 2·u·∂x(u), so a term arrives as a polynomial in the fields and
their derivatives along one coordinate (a differential polynomial). It is a total derivative
D_x(G) exactly when it is linear in its highest derivative u_n with a coefficient c that
makes s − D_x(∫ c du_{n−1}) of lower order, and the remainder is again a total derivative:
`conservative_form` peels off as many total derivatives as it can and checks each by expanding.

`total_derivatives` finds, in a right-hand side over jet symbols, the pieces ∂^k(g) whose g is a
function of the fields alone: the weak form in space integrates them by parts, and lowering on a
periodic grid evaluates them as one spectral derivative of g (the conservative discretisation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ._first_order import FirstOrderSystem, Jet


def conservative_form(term: sp.Expr, fields: Sequence[sp.Function], coordinate: sp.Symbol) -> list[tuple[int, sp.Expr]]:
    """Pieces (k, g) with term = Σ ∂^k g / ∂coordinate^k, each k as large as possible: g holds no derivatives
    where a piece is a k-th derivative of a function of the fields (u·∂x(u) → [(1, u²/2)]), else the
    derivatives it keeps (u·∂x^2(u) → [(0, u·∂x^2(u))])."""
    jet, back = _to_jet(term, fields, coordinate)
    k = 0
    while _order(jet) > 0 and (antiderivative := _total_antiderivative(jet)) is not None:
        jet, k = antiderivative, k + 1
    summands = sp.Add.make_args(jet)
    if _order(jet) == 0 or len(summands) == 1:
        return [(k, back(jet))]
    return [(k + j, g) for summand in summands for j, g in conservative_form(back(summand), fields, coordinate)]


def _to_jet(term, fields, coordinate):
    """The term over symbols u__0 = u, u__1 = ∂x(u), ...; and the map back."""
    by_name = {f.func.__name__: f for f in fields}
    forward = {f: sp.Symbol(f"{name}__0") for name, f in by_name.items()}
    for derivative in term.atoms(sp.Derivative):
        if derivative.expr in forward and set(derivative.variables) == {coordinate}:
            forward[derivative] = sp.Symbol(f"{derivative.expr.func.__name__}__{len(derivative.variables)}")

    def back(expression: sp.Expr) -> sp.Expr:
        expression = sp.expand(expression)
        found = {}
        for symbol in expression.free_symbols:
            if (parts := _parts(symbol)) and parts[0] in by_name:
                field, n = by_name[parts[0]], parts[1]
                found[symbol] = sp.Derivative(field, (coordinate, n)) if n else field
        return expression.xreplace(found)

    return sp.expand(term.xreplace(forward)), back


def _parts(symbol: sp.Symbol) -> tuple[str, int] | None:
    name, _, n = symbol.name.rpartition("__")
    return (name, int(n)) if name and n.isdigit() else None


def _order(jet: sp.Expr) -> int:
    return max((_parts(s)[1] for s in jet.free_symbols if _parts(s)), default=0)


def _total_derivative(jet: sp.Expr) -> sp.Expr:
    """D_x: Σ u_{n+1}·∂/∂u_n over every jet symbol."""
    terms = []
    for symbol in jet.free_symbols:
        if parts := _parts(symbol):
            name, n = parts
            terms.append(sp.diff(jet, symbol) * sp.Symbol(f"{name}__{n + 1}"))
    return sp.expand(sp.Add(*terms))


def _total_antiderivative(jet: sp.Expr) -> sp.Expr | None:
    """G with D_x(G) = jet, or None when there is none."""
    result = sp.Integer(0)
    while jet != 0:
        n = _order(jet)
        if n == 0:
            return None  # a nonzero function of the fields alone is no total derivative
        tops = sorted((s for s in jet.free_symbols if _parts(s) and _parts(s)[1] == n), key=str)
        step = sp.Integer(0)
        for top in tops:  # one field at a time: D_x(u·v) = u_1·v + u·v_1 is found from u_1 alone
            coefficient = sp.diff(jet, top)
            if coefficient == 0:
                continue
            if coefficient.has(top):
                return None  # not linear in its highest derivative
            piece = sp.integrate(coefficient, sp.Symbol(f"{_parts(top)[0]}__{n - 1}"))
            step, jet = step + piece, sp.expand(jet - _total_derivative(piece))
        if _order(jet) >= n:
            return None
        result += step
    return sp.expand(result)


@dataclass(frozen=True)
class Flux:
    """∂^space(flux): a spatial derivative of `flux`, a pointwise function of the fields (jet symbols without
    derivatives)."""

    flux: sp.Expr
    space: tuple[tuple[sp.Symbol, int], ...]


def total_derivatives(
    expr: sp.Expr, system: FirstOrderSystem, coordinates: Sequence[sp.Symbol]
) -> tuple[tuple[Flux, ...], sp.Expr]:
    """`expr` (over the jet symbols of `system`) as Σ ∂^k(g) + rest, each g a function of the fields alone.

    Terms are grouped by the one coordinate they differentiate along and by their number of derivatives (terms
    with mixed derivatives, none, or the coordinates themselves stay in rest); each group's total derivatives
    are peeled off together (u_x·v + u·v_x is ∂x(u·v)), then those of its leftover terms one by one. Fluxes of
    the same derivative are summed. The identity is exact: rest is expr less the expanded fluxes.

    Example: `-u*uˍx` gives `((Flux(-u**2/2, ((x, 1),)),), 0)`.
    """
    bases = {(j.state.name, j.time_order): s for s, j in system.jets.items() if not j.space}
    functions = {key: sp.Function(symbol.name)(*coordinates) for key, symbol in bases.items()}
    # jet symbol → function form, and back through the jets' own source forms
    forward, sources = {}, {}
    for symbol in expr.free_symbols & set(system.jets):
        jet = system.jets[symbol]
        applied = functions[(jet.state.name, jet.time_order)]
        forward[symbol] = sp.Derivative(applied, *jet.space) if jet.space else applied
    for (name, order), applied in functions.items():
        state = system.jets[bases[name, order]].state
        sources[applied] = Jet(state, order, ()).source_form()
    back = lambda e: system.to_jets(e.xreplace(sources).doit())

    groups: dict[tuple[sp.Symbol, int], list[sp.Expr]] = {}
    rest = []
    for summand in sp.Add.make_args(sp.expand(expr)):
        axes = {c for s in summand.free_symbols & set(system.jets) for c, _ in system.jets[s].space}
        weight = _weight(summand, system.jets)
        if len(axes) == 1 and weight and not summand.free_symbols & set(coordinates):
            groups.setdefault((axes.pop(), weight), []).append(summand.xreplace(forward))
        else:
            rest.append(summand)
    fluxes: dict[tuple, sp.Expr] = {}
    fields = list(functions.values())
    for (coordinate, _), summands in groups.items():
        found, leftover = _peel(sp.Add(*summands), fields, coordinate)
        for summand in sp.Add.make_args(leftover):
            more, left = _peel(summand, fields, coordinate)
            found += more
            rest.append(back(left))
        for k, g in found:
            space = ((coordinate, k),)
            fluxes[space] = fluxes.get(space, sp.S.Zero) + back(g)
    return tuple(Flux(g, space) for space, g in fluxes.items() if g != 0), sp.Add(*rest)


def _weight(summand: sp.Expr, jets: dict[sp.Symbol, Jet]) -> int | None:
    """The number of derivatives in a product of jet symbols (u·u_x²: 2), None where a derivative sits inside a
    function. Every term of ∂^k(g(u)) has weight k, so terms of different weights are peeled apart."""
    weight = 0
    for factor in sp.Mul.make_args(summand):
        base, exponent = factor.as_base_exp()
        if base in jets and jets[base].space and exponent.is_Integer and exponent > 0:
            weight += sum(n for _, n in jets[base].space) * int(exponent)
        elif any(jets[s].space for s in factor.free_symbols & set(jets)):
            return None
    return weight


def _peel(term: sp.Expr, fields: list, coordinate: sp.Symbol) -> tuple[list[tuple[int, sp.Expr]], sp.Expr]:
    """The pieces (k ≥ 1, g) of `term` with g a nonlinear function of the fields, and what is left:
    term − Σ ∂^k g, expanded. A linear g stays a derivative of the fields: nothing to gain from a flux."""
    pieces = [
        (k, g)
        for k, g in conservative_form(term, fields, coordinate)
        if k and not g.has(sp.Derivative, sp.Integral) and any(sp.diff(g, f).has(*fields) for f in fields)
    ]
    leftover = sp.expand(term - sp.Add(*(sp.diff(g, (coordinate, k)) for k, g in pieces)))
    return pieces, leftover
