"""A PDE right-hand side split into its linear, constant-coefficient part and the rest.

Each entry f_i of the first-order right-hand side is expanded into terms; a term
c · D_k u_i, with c free of the fields, the coordinates and time, and u_i the same
field the entry advances, belongs to the linear part L_i. Everything else
(products, variable coefficients, terms in other fields) is the remainder N_i, so
that f_i = L_i u_i + N_i. On a periodic domain L_i is diagonal in Fourier space:
∂x^n has the symbol (i k)^n, and L_i's symbol is Σ c (i k_x)^n (i k_y)^m ...
(Kuramoto-Sivashinsky, u_t = -u u_x - u_xx - u_xxxx: k² - k⁴).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ._first_order import Jet


@dataclass(frozen=True)
class LinearTerm:
    """`coefficient` times the spatial derivative `space` ((coordinate, order), ...) of the field advanced."""

    coefficient: sp.Expr
    space: tuple[tuple[sp.Symbol, int], ...]


@dataclass(frozen=True)
class LinearSplit:
    """f_i = Σ linear[i] + remainder[i], entry by entry of the first-order form."""

    linear: tuple[tuple[LinearTerm, ...], ...]
    remainder: tuple[sp.Expr, ...]
    coordinates: tuple[sp.Symbol, ...]

    @property
    def wavenumbers(self) -> tuple[sp.Symbol, ...]:
        """k for a single coordinate x; k_x, k_y, ... otherwise."""
        if len(self.coordinates) == 1:
            return (sp.Symbol("k", real=True),)
        return tuple(sp.Symbol(f"k_{c.name}", real=True) for c in self.coordinates)

    def symbol(self, i: int) -> sp.Expr:
        """The exact Fourier symbol of L_i in the wavenumbers (k for x, k_y for y, ...)."""
        k = dict(zip(self.coordinates, self.wavenumbers))
        return sp.expand(
            sp.Add(*(t.coefficient * sp.Mul(*((sp.I * k[c]) ** n for c, n in t.space)) for t in self.linear[i]))
        )


def split_linear(
    rhs: tuple[sp.Expr, ...],
    state_vector: tuple[sp.Symbol, ...],
    jets: dict[sp.Symbol, Jet],
    coordinates: tuple[sp.Symbol, ...],
    time: sp.Symbol,
) -> LinearSplit:
    """The linear terms and remainders of each entry of `rhs` (see the module docstring)."""
    varying = set(jets) | set(coordinates) | {time}
    linear, remainder = [], []
    for own, f in zip(state_vector, rhs):
        own_jet = jets[own]
        terms, rest = [], []
        for term in sp.Add.make_args(sp.expand(f)):
            placed = False
            for symbol in term.free_symbols & set(jets):
                jet = jets[symbol]
                if jet.state != own_jet.state or jet.time_order != own_jet.time_order:
                    continue
                coefficient = sp.cancel(term / symbol)
                if not coefficient.free_symbols & varying:
                    terms.append(LinearTerm(coefficient, jet.space))
                    placed = True
                break
            if not placed:
                rest.append(term)
        linear.append(tuple(_merge(terms)))
        remainder.append(sp.Add(*rest))
    return LinearSplit(tuple(linear), tuple(remainder), coordinates)


def _merge(terms: list[LinearTerm]) -> list[LinearTerm]:
    """One term per derivative, coefficients summed, zeros dropped, lowest order first."""
    merged: dict[tuple, sp.Expr] = {}
    for term in terms:
        merged[term.space] = merged.get(term.space, sp.S.Zero) + term.coefficient
    ordered = sorted(merged.items(), key=lambda item: (sum(n for _, n in item[0]), str(item[0])))
    return [LinearTerm(sp.simplify(c), space) for space, c in ordered if sp.simplify(c) != 0]
