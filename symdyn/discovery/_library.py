"""Candidate libraries: when the form is unknown, a template with one unknown per candidate term.

A library lists terms in the model language; `template` writes them into a model with one
unknown per term and equation, so that both fitting methods, thresholding and the written-back
model share the template path. Libraries combine: `a + b` joins their terms, `a * b` takes every
product of a term of `a` with a term of `b` (PySINDy's concatenated and tensored libraries).
"""

from __future__ import annotations

import abc
import dataclasses
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data import Trajectories
from ..model import Model, parse

_RESERVED = ("t", "D", "end", "model")
_NAME = re.compile(r"[^\W\d_]\w*")  # the model language's names (x₁ included)
_SIMPLE = re.compile(r"[^\W\d]\w*(\(.*\))?|∂\w+(\^\d+)?\(\w+\)", re.UNICODE)


class AbstractLibrary(abc.ABC):
    """Candidate terms over the states (and, for fields, their spatial derivatives)."""

    @abc.abstractmethod
    def factors(self, names: Sequence[str], coordinates: Sequence[str]) -> list[Counter]:
        """The terms, each as a multiset of factors (`Counter({"x": 2, "y": 1})` is x^2*y; empty is 1)."""

    def terms(self, names: Sequence[str], coordinates: Sequence[str] = ()) -> list[str]:
        """The candidate terms as model-language expressions, without repeats."""
        return [_render(term) for term in _unique(self.factors(names, coordinates))]

    def template(self, data: Trajectories | Sequence[str], name: str = "Discovered") -> Model:
        """A template model over the data's states: D(s) ~ Σ ξ_k·term_k for each state s.

        `data` is the `Trajectories` to fit (its states; for fields also the domain, boundary
        conditions and parameters of the model that made them) or, for ODEs, just the state names.
        """
        names, coordinates = _names(data)
        inputs = tuple(data.inputs) if isinstance(data, Trajectories) else ()
        return library_template(self.terms(names + inputs, coordinates), data, name)

    def __add__(self, other: AbstractLibrary) -> AbstractLibrary:
        return SumLibrary((self, other))

    def __mul__(self, other: AbstractLibrary) -> AbstractLibrary:
        return ProductLibrary((self, other))


@dataclass(frozen=True)
class PolynomialLibrary(AbstractLibrary):
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

    def factors(self, names, coordinates=()):
        terms = [Counter()] if self.constant else []
        for degree in range(1, self.degree + 1):
            terms += [Counter(c) for c in itertools.combinations_with_replacement(names, degree)]
        return terms


@dataclass(frozen=True)
class FourierLibrary(AbstractLibrary):
    """sin(k·s) and cos(k·s) of every state s for k = 1 ... `frequencies`."""

    frequencies: int = 1

    def __post_init__(self):
        if not (isinstance(self.frequencies, int) and self.frequencies >= 1):
            raise ValueError(f"FourierLibrary frequencies must be a positive int, not {self.frequencies!r}")

    def factors(self, names, coordinates=()):
        scaled = lambda k, s: s if k == 1 else f"{k}*{s}"
        return [
            Counter({f"{f}({scaled(k, s)})": 1})
            for k in range(1, self.frequencies + 1)
            for s in names
            for f in ("sin", "cos")
        ]


@dataclass(frozen=True)
class CustomLibrary(AbstractLibrary):
    """Terms written in the model language: `CustomLibrary(("sin(x)", "x*y", "exp(-z)", "cos(ω*t)"))`.

    Terms may use the states, `t` (forcing) and the parameters of the data's model.
    """

    expressions: tuple[str, ...]

    def __post_init__(self):
        if isinstance(self.expressions, str) or not self.expressions:
            raise ValueError("CustomLibrary takes a non-empty tuple of terms, as in ('sin(x)', 'x*y')")
        object.__setattr__(self, "expressions", tuple(e.strip() for e in self.expressions if e.strip()))

    @classmethod
    def parse(cls, text: str) -> CustomLibrary:
        """Terms separated by commas or new lines (`#` starts a comment), as in "sin(x), x*y"."""
        lines = (line.split("#", 1)[0] for line in text.splitlines())
        return cls(tuple(term for line in lines for term in _split_top_level(line)))

    def factors(self, names, coordinates=()):
        return [Counter({e: 1}) for e in self.expressions]


@dataclass(frozen=True)
class DerivativeLibrary(AbstractLibrary):
    """The spatial derivatives ∂^k s of every field s along every coordinate, k = 1 ... `order` (PDE-FIND's), or
    with `of` a library, of each of its terms: `DerivativeLibrary(4, of=PolynomialLibrary(2))` holds ∂x(u^2) and
    ∂x^4(u^2), the conservative form that the weak form integrates by parts without differentiating the data.

    Multiply by a polynomial library for products such as u·∂x(u): `PolynomialLibrary(2) * DerivativeLibrary(4)`.
    """

    order: int = 2
    of: AbstractLibrary | None = None

    def __post_init__(self):
        if not (isinstance(self.order, int) and 1 <= self.order <= 6):
            raise ValueError(f"DerivativeLibrary order must be an int from 1 to 6, not {self.order!r}")

    def factors(self, names, coordinates=()):
        if not coordinates:
            raise ValueError("a DerivativeLibrary needs field data (states on a grid), and these states are not fields")
        power = lambda k: "" if k == 1 else f"^{k}"
        inner = names if self.of is None else [_render(t) for t in _unique(self.of.factors(names, coordinates)) if t]
        orders = range(1, self.order + 1)
        return [Counter({f"∂{c}{power(k)}({s})": 1}) for k in orders for c in coordinates for s in inner]


@dataclass(frozen=True)
class SumLibrary(AbstractLibrary):
    """The terms of every library in `parts`, repeats once."""

    parts: tuple[AbstractLibrary, ...]

    def factors(self, names, coordinates=()):
        return [term for part in self.parts for term in part.factors(names, coordinates)]


@dataclass(frozen=True)
class ProductLibrary(AbstractLibrary):
    """Every product of one term from each library in `parts`."""

    parts: tuple[AbstractLibrary, ...]

    def factors(self, names, coordinates=()):
        products = [Counter()]
        for part in self.parts:
            products = [a + b for a in products for b in part.factors(names, coordinates)]
        return products


def parse_library(spec: str) -> AbstractLibrary:
    """A library from its short form: `poly3`, `fourier2`, `deriv4`, `deriv4(poly2)` (derivatives of each term),
    joined by `+` and `*` (`poly2 + poly2*deriv4`, `poly2 + deriv4(poly2)`)."""
    kinds = {"poly": PolynomialLibrary, "fourier": FourierLibrary, "deriv": DerivativeLibrary}
    summands = []
    for summand in spec.split("+"):
        factors = []
        for factor in summand.split("*"):
            match = re.fullmatch(r"\s*(poly|fourier|deriv)(\d+)(?:\((poly|fourier)(\d+)\))?\s*", factor)
            if not match or (match[3] and match[1] != "deriv"):
                raise ValueError(
                    f"--library {spec!r}: {factor.strip()!r} is not polyN, fourierN, derivN or derivN(polyM); "
                    "join them with + and *, as in poly2*fourier1 or poly2 + poly2*deriv4"
                )
            if match[3]:
                factors.append(DerivativeLibrary(int(match[2]), of=kinds[match[3]](int(match[4]))))
            else:
                factors.append(kinds[match[1]](int(match[2])))
        summands.append(factors[0] if len(factors) == 1 else ProductLibrary(tuple(factors)))
    return summands[0] if len(summands) == 1 else SumLibrary(tuple(summands))


def library_template(terms: Sequence[str], data: Trajectories | Sequence[str], name: str = "Discovered") -> Model:
    """The template D(s) ~ ξ₁·term₁ + ξ₂·term₂ + ... for each state s of `data`, one unknown per term and equation.

    For field data the domain, boundary conditions, parameters and initial fields are those of the
    model that made the data; for ODE data its parameters are declared when all trajectories share them.
    """
    names, coordinates = _names(data)
    if not names:
        raise ValueError("a library needs at least one state name")
    for state in names:
        if not _NAME.fullmatch(state) or state in _RESERVED:
            raise ValueError(f"{state!r} cannot name a state in a model file; rename that data column")
    if not terms:
        raise ValueError("the library has no terms")
    unknowns = [_subscripted("ξ", k + 1) for k in range(len(terms) * len(names))]
    header = [f"model {name}", "    @unknowns begin", *(f"        {u}" for u in unknowns), "    end"]
    equations = []
    for i, state in enumerate(names):
        own = unknowns[i * len(terms) : (i + 1) * len(terms)]
        products = [u if term == "1" else f"{u}*{_factor(term)}" for u, term in zip(own, terms)]
        equations.append(f"    D({state}) ~ " + " + ".join(products))
    text = "\n".join([*header, *_context(data, names, terms), *equations, "end"]) + "\n"
    return parse(text, filename=f"<library of {len(terms)} terms>")


def _names(data) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if isinstance(data, Trajectories):
        return tuple(data.names), tuple(data.coordinate_names)
    return tuple(data), ()


def _context(data, names: Sequence[str], terms: Sequence[str]) -> list[str]:
    """The declarations around the equations: states, the data's parameters that the terms use (for fields, all
    that the data's model may use), and for fields the domain of the data's model."""
    if not isinstance(data, Trajectories):
        return ["    @variables " + "  ".join(f"{s}(t)" for s in names)]
    if data.inputs:
        lines = ["    @inputs " + "  ".join(f"{name}(t)" for name in data.inputs)]
        return lines + _context(dataclasses.replace(data, inputs={}), names, terms)
    used = lambda name: bool(data.grid) or any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", t) for t in terms)
    parameters = [
        f"{name} = {float(values[0])!r}"
        for name, values in zip(data.parameter_names, np.asarray(data.parameters).T)
        if np.all(values == values[0]) and used(name)
    ]
    lines = ["    @parameters " + "  ".join(parameters)] if parameters else []
    if not data.grid:
        return [*lines, "    @variables " + "  ".join(f"{s}(t)" for s in names)]
    if not data.model:
        raise ValueError(
            f"{data.origin}: field data without the model that made it cannot say its domain; "
            "use data written by `symdyn simulate`"
        )
    source = parse(data.model, filename=f"<model of {data.origin}>")
    keep = ("@domain", "@variables", "@boundary", "@constants")
    return [*lines, *(line for line in str(source).splitlines() if line.strip().startswith(keep))]


def _unique(terms: list[Counter]) -> list[Counter]:
    seen, unique = set(), []
    for term in terms:
        key = frozenset(term.items())
        if key not in seen:
            seen.add(key)
            unique.append(term)
    return unique


def _render(term: Counter) -> str:
    if not term:
        return "1"
    parts = []
    for factor, power in term.items():
        if power > 1:
            base = factor if _SIMPLE.fullmatch(factor) else f"({factor})"
        else:
            base = _factor(factor) if len(term) > 1 else factor
        parts.append(base if power == 1 else f"{base}^{power}")
    return "*".join(parts)


def _factor(term: str) -> str:
    """A term as a factor of a product: parenthesised when it is a sum."""
    depth = 0
    for i, character in enumerate(term):
        depth += character == "("
        depth -= character == ")"
        if depth == 0 and character in "+-" and (i == 0 or term[i - 1] not in "eE^*/("):
            return f"({term})"
    return term


def _split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, character in enumerate(text):
        depth += character in "(["
        depth -= character in ")]"
        if character == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _subscripted(letter: str, number: int) -> str:
    return letter + str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))
