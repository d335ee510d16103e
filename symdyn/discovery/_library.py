"""Candidate libraries: when the form is unknown, a template with one unknown per candidate term."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Model, parse


@dataclass(frozen=True)
class PolynomialLibrary:
    """Every monomial of the states up to `degree` (the SINDy library), one unknown coefficient each.

    For states x, y and degree 2: 1, x, y, x^2, x*y, y^2 in every equation. The
    discovered model keeps the terms whose coefficients survive the threshold.

    Example:
        >>> print(PolynomialLibrary(degree=1).template(["x", "y"]))
        model Discovered ... D(x) ~ ξ₁ + ξ₂*x + ξ₃*y ...
    """

    degree: int = 2
    constant: bool = True

    def __post_init__(self):
        if not (isinstance(self.degree, int) and 1 <= self.degree <= 5):
            raise ValueError(f"PolynomialLibrary degree must be an int from 1 to 5, not {self.degree!r}")

    def terms(self, names: Sequence[str]) -> list[str]:
        """The candidate terms as symdyn expressions, constant first, then by degree."""
        terms = ["1"] if self.constant else []
        for degree in range(1, self.degree + 1):
            for combination in itertools.combinations_with_replacement(names, degree):
                powers = {name: combination.count(name) for name in dict.fromkeys(combination)}
                terms.append("*".join(name if k == 1 else f"{name}^{k}" for name, k in powers.items()))
        return terms

    def template(self, names: Sequence[str], name: str = "Discovered") -> Model:
        """A template model over the states `names`: D(s) ~ Σ ξ_k·term_k for each state s."""
        if not names:
            raise ValueError("a library needs at least one state name")
        for state in names:
            if not state.isidentifier() or state in ("t", "D", "end", "model"):
                raise ValueError(f"{state!r} cannot name a state in a model file; rename that data column")
        terms = self.terms(names)
        unknowns = [_subscripted("ξ", k + 1) for k in range(len(terms) * len(names))]
        lines = [f"model {name}", "    @unknowns begin", *(f"        {u}" for u in unknowns), "    end"]
        lines.append("    @variables " + "  ".join(f"{s}(t)" for s in names))
        for i, state in enumerate(names):
            own = unknowns[i * len(terms) : (i + 1) * len(terms)]
            products = [u if term == "1" else f"{u}*{term}" for u, term in zip(own, terms)]
            lines.append(f"    D({state}) ~ " + " + ".join(products))
        lines.append("end")
        return parse("\n".join(lines) + "\n", filename=f"<{self.degree}-degree polynomial library>")


def _subscripted(letter: str, number: int) -> str:
    return letter + str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
