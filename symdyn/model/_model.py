"""`Model`: an exact symbolic dynamical system, as a model file describes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sympy as sp

from .._errors import Source
from ._components import (
    BoundaryCondition,
    Constant,
    Coordinate,
    Definition,
    Equation,
    InitialValue,
    Input,
    Parameter,
    State,
    Unknown,
)
from ._first_order import FirstOrderSystem, Jet
from ._linear import LinearSplit, split_linear

if TYPE_CHECKING:
    from ..lower import LoweredModel, LoweredPDE


def resolve_values(
    constants: tuple[Constant, ...], parameters: tuple[Parameter, ...], unknowns: tuple[Unknown, ...]
) -> tuple[dict[sp.Symbol, sp.Expr], dict[sp.Symbol, sp.Expr]]:
    """Values of constants, parameter defaults and guesses with their references substituted.

    Returns the resolved values, and the definitions left unresolved: those in a cycle or
    that use a parameter without a default.
    """
    pending: dict[sp.Symbol, sp.Expr] = {c.symbol: c.value for c in constants}
    pending |= {p.symbol: p.default for p in parameters if p.default is not None}
    pending |= {u.symbol: u.guess for u in unknowns if u.guess is not None}
    values: dict[sp.Symbol, sp.Expr] = {}
    while ready := [s for s, v in pending.items() if v.free_symbols <= set(values)]:
        for symbol in ready:
            values[symbol] = pending.pop(symbol).xreplace(values)
    return values, pending


@dataclass(frozen=True)
class Model:
    """A dynamical system from a model file: exact SymPy equations and what surrounds them.

    Build one with `symdyn.parse` or `symdyn.load`. Equations keep the order in
    which they were written (`D^2(x)` stays second order, as S-MNN wants it);
    `rhs()`, `jacobian()` and `jvp()` give the first-order form that integrators
    use, in the symbols of `state_vector`.

    Two models are equal when they declare the same things with the same exact
    expressions, wherever those came from: `parse(str(model)) == model`.

    Example:
        >>> m = symdyn.parse("model Decay\\n @parameters k = 1/2\\n @variables x(t) = 1\\n D(x) ~ -k*x\\nend")
        >>> m.jacobian()
        Matrix([[-k]])
    """

    name: str
    time: sp.Symbol
    constants: tuple[Constant, ...]
    parameters: tuple[Parameter, ...]
    unknowns: tuple[Unknown, ...]
    states: tuple[State, ...]
    equations: tuple[Equation, ...]
    initial_values: tuple[InitialValue, ...]
    observed: tuple[Definition, ...]
    conserved: tuple[Definition, ...]
    domain: tuple[Coordinate, ...]
    boundary_conditions: tuple[BoundaryCondition, ...]
    system: FirstOrderSystem = field(compare=False, repr=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    inputs: tuple[Input, ...] = ()

    @property
    def filename(self) -> str | None:
        """The file the model was read from, if any."""
        return self.source.filename if self.source is not None else None

    # --- what the model is
    @property
    def is_pde(self) -> bool:
        """True when the states are fields over a spatial domain."""
        return bool(self.domain)

    @property
    def order(self) -> int:
        """The highest time derivative in the equations."""
        return max(s.order for s in self.states)

    @property
    def state_vector(self) -> tuple[sp.Symbol, ...]:
        """The first-order state: each state and its time derivatives below its order (x, xˍt, ...)."""
        return self.system.state_vector

    @property
    def defaults(self) -> dict[sp.Symbol, sp.Expr]:
        """Exact values of constants, parameter defaults and unknown guesses, references resolved."""
        values, _ = resolve_values(self.constants, self.parameters, self.unknowns)
        return values

    @property
    def parameter_values(self) -> tuple[sp.Expr | None, ...]:
        """The value of each entry of the lowered `p`: parameters (None without a default), then
        unknowns (their guess, or 0)."""
        defaults = self.defaults
        return tuple(defaults.get(p.symbol) for p in self.parameters) + tuple(
            defaults.get(u.symbol, 0) for u in self.unknowns
        )

    def initial_state(self) -> tuple[sp.Expr | None, ...]:
        """The initial value of each entry of `state_vector`, None where the model gives none.

        For fields, the values are expressions of the coordinates.
        """
        given = {self.system.to_jets(i.target): i.value for i in self.initial_values}
        return tuple(given.get(symbol) for symbol in self.state_vector)

    def jet(self, symbol: sp.Symbol) -> Jet:
        """What a symbol of the first-order form stands for: a state and its derivative orders."""
        return self.system.jets[symbol]

    # --- exact forms
    def rhs(self) -> sp.Matrix:
        """The first-order right-hand side f, with D(state_vector) = f(t, state_vector, p).

        For a PDE each entry is pointwise in the jet of the fields (`u`, `uˍx`, ...).
        """
        return sp.Matrix(self.system.rhs)

    def jacobian(self) -> sp.Matrix:
        """The exact Jacobian ∂f/∂x of `rhs()` with respect to `state_vector`.

        Raises:
            ValueError: for a PDE, whose Jacobian is an operator; use `jvp()`.
        """
        if self.is_pde:
            raise ValueError(
                f"{self.name} is a PDE: its Jacobian is a differential operator; "
                "use model.jvp() for its action on a direction field"
            )
        return self.rhs().jacobian(self.state_vector)

    def direction(self) -> tuple[sp.Symbol, ...]:
        """The symbols `δx, δy, ...` of the direction vector that `jvp()` uses by default."""
        taken = {s.name for s in self.rhs().free_symbols}
        names = []
        for symbol in self.state_vector:
            name = "δ" + symbol.name
            while name in taken:
                name += "′"
            names.append(name)
        return tuple(sp.Symbol(n, real=True) for n in names)

    def jvp(self, direction: Any = None) -> sp.Matrix:
        """The exact Jacobian-vector product J(x)·v, one expression per entry.

        Args:
            direction: the vector v, a sequence of SymPy expressions as long as
                `state_vector`; by default the symbols of `direction()`.

        For a PDE, v is a direction field and the product is the linearised
        operator Σ_k ∂f/∂(D_k u) · D_k v, pointwise in the jets of u and v
        (by default the jets of v are symbols `δu`, `δuˍx`, ...; a given
        direction is differentiated in the coordinates).
        """
        v = tuple(self.direction() if direction is None else (sp.sympify(e, strict=True) for e in direction))
        if len(v) != len(self.state_vector):
            raise ValueError(f"direction has {len(v)} entries; the state vector has {len(self.state_vector)}")
        rhs = self.rhs()
        if not self.is_pde:
            return sp.Matrix([sum(sp.diff(f, x) * vi for x, vi in zip(self.state_vector, v)) for f in rhs])
        along = dict(zip(self.state_vector, v))
        products = []
        for f in rhs:
            terms = []
            for symbol in sorted(f.free_symbols & set(self.system.jets), key=str):
                jet = self.system.jets[symbol]
                base = self.system.to_jets(Jet(jet.state, jet.time_order, ()).source_form())
                if direction is None:
                    moved = sp.Symbol(along[base].name + symbol.name[len(base.name) :], real=True)
                else:
                    moved = sp.diff(along[base], *jet.space) if jet.space else along[base]
                terms.append(sp.diff(f, symbol) * moved)
            products.append(sp.Add(*terms))
        return sp.Matrix(products)

    def input_signals(self) -> tuple[sp.Expr | None, ...]:
        """Each input's default signal, a function of t and the parameters (None where the data must give it)."""
        values = {c.symbol: c.value for c in self.constants}
        return tuple(None if i.signal is None else i.signal.xreplace(values) for i in self.inputs)

    @property
    def coordinates(self) -> tuple[sp.Symbol, ...]:
        """The spatial coordinates, in the order of @domain; empty for an ODE."""
        return tuple(c.symbol for c in self.domain)

    def linear_split(self) -> LinearSplit:
        """`rhs()` as L u + N(u): the linear, constant-coefficient part and the rest, entry by entry.

        `split.symbol(i)` is the exact Fourier symbol of entry i's linear part; for
        `D(u) ~ -u*∂x(u) - ∂x^2(u) - ∂x^4(u)` it is k² - k⁴. Exponential and IMEX
        integrators treat L exactly or implicitly and N explicitly.
        """
        return split_linear(self.system.rhs, self.state_vector, self.system.jets, self.coordinates, self.time)

    # --- other forms
    def first_order(self) -> Model:
        """The same system written with first-order states only (x, xˍt, ...), as a new Model."""
        from ._reduced import first_order_model

        return first_order_model(self)

    def to_latex(self) -> str:
        """The model as a LaTeX `aligned` block: its domain, equations and boundary conditions."""
        from ._latex import model_to_latex

        return model_to_latex(self)

    def _repr_latex_(self) -> str:
        return f"$$\n{self.to_latex()}\n$$"

    def __str__(self) -> str:
        from ._text import model_to_text

        return model_to_text(self)

    def lower(
        self, dtype: Any = None, *, derivatives: str | None = None, dealias: bool = False
    ) -> LoweredModel | LoweredPDE:
        """JAX functions `rhs(t, x, p)`, `jac(t, x, p)`, `jvp(t, x, p, v)` with default `p` and `x0`.

        An ODE lowers to a `LoweredModel` (states `(n,)`), a PDE to a `LoweredPDE` on its grid
        (states `(n_fields, *grid)`); both are `symdyn.lower.AbstractLoweredModel`s.

        Args:
            dtype: float32 or float64 (float64 needs `jax_enable_x64`); by default JAX's default float.
            derivatives: PDEs only: `"spectral"` (the default on periodic domains) or finite
                differences `"fd2"`, `"fd4"` (the default on bounded ones is `"fd2"`).
            dealias: PDEs only: apply the 2/3 rule to the nonlinear part.
        """
        from ..lower import lower_model  # the layer above: imported when used

        return lower_model(self, dtype=dtype, derivatives=derivatives, dealias=dealias)
