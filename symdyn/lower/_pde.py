"""A PDE model lowered at the level of operators: the jet on the grid, then pointwise JAX.

The right-hand side of a PDE is a pointwise expression in the jet of its fields
(u, u_x, u_xx, ...). Lowering generates that expression once, as a small JAX
function of the jet arrays; at run time the jet is computed on the grid (FFT or
stencils) and the function is evaluated over all points at once. Nothing is
generated per grid point, so the code, the time to lower and the time to compile
do not grow with the resolution.

The exact Jacobian-vector product is the linearised operator
Σ_k (∂f/∂(D_k u))(jet of u) · D_k v, generated the same way and applied to the jet
of v, without a matrix.

With spectral derivatives, the nonlinear terms that are derivatives ∂^k(g) of a function g
of the fields (`model.total_derivatives`: −u·∂x(u) is ∂x(−u²/2), whether the file writes
one or the other) are evaluated as written conservatively: g pointwise, then one spectral
derivative of it. This needs one inverse transform (of u) and one forward transform (of g)
per evaluation where −u·u_x reads two inverse transforms (u and u_x). On the grid the two
discretisations differ by aliasing only: they agree to rounding when u's modes lie below a
quarter of the points (u² is then resolved), and with the 2/3 rule below a third. The
linearisation is that of the same discretisation, ∂^k(Σ ∂g/∂u_i · v_i), so `jvp` stays
the derivative of `rhs`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..model import total_derivatives
from ._abstract import AbstractLoweredModel
from ._boundary import Boundary, boundaries_of
from ._context import LoweringContext
from ._grid import AbstractDerivatives, Domain, GridCoupling, SpectralDerivatives, complex_of, derivatives_named
from ._source import compile_module, function_source, module_source

FLUXED = {"rhs": "fluxes", "remainder": "fluxes", "jvp": "fluxes_jvp", "remainder_jvp": "fluxes_jvp"}
DENSE_JACOBIAN_LIMIT = 4096  # state entries; the dense Jacobian (or L) of 4096 has 16.8 million entries


class LoweredPDE(AbstractLoweredModel):
    """JAX functions of a PDE model on its grid.

    A state `u` has shape `(n_fields, *grid_shape)`, also for one field; leading axes
    before those are a batch. Functions, besides those of `AbstractLoweredModel`:

    - `jvp(t, u, p, v)`: the exact linearised operator applied to a direction field `v`.
    - `jac(t, u, p)`: the dense Jacobian `(*state, *state)`, for small grids only
      (at most 4096 state entries): it is the matrix of `jvp`, one column per entry.
    - `observed(t, u, p) -> (k, *grid)`, `conserved(t, u, p) -> (k,)`: integrals are
      quadratures on the grid (spectrally accurate on periodic axes).
    - The split rhs = L u + N(t, u) that exponential and IMEX integrators step, L each field's
      linear constant-coefficient part (`Model.linear_split()`) in the discretisation in use:
      `linear_operator(p, v)` is L v (with homogeneous boundary conditions on a bounded grid),
      `nonlinear(t, u, p)` is N = rhs − L u (on a bounded grid it holds the inhomogeneous
      boundary data too), `linear_matrix(p)` is L over the flattened state `(size, size)`,
      assembled from a few products (`coupling`), for states of at most 4096 entries.
      On periodic domains `linear(p)` is L's Fourier multiplier on the `rfftn` modes
      `(n_fields, *modes)`, complex, and `nonlinear_of_modes(t, modes, p)` is N from and to them.

    Attributes:
        grid: one coordinate array per dimension.
        domain: the `Domain` (names, bounds, points, periodicity).
        derivatives: the scheme for spatial derivatives.
        coupling: which state entries each entry of the rhs reads (stencil reach, boundaries, fields).

    Example:
        >>> low = symdyn.load("examples/kuramoto_sivashinsky.sdyn").lower()
        >>> low.x0.shape, low.grid[0].shape
        ((1, 256), (256,))
    """

    linear: Callable = eqx.field(static=True)
    linear_operator: Callable = eqx.field(static=True)
    linear_matrix: Callable = eqx.field(static=True)
    nonlinear: Callable = eqx.field(static=True)
    nonlinear_of_modes: Callable = eqx.field(static=True)
    domain: Domain = eqx.field(static=True)
    derivatives: AbstractDerivatives = eqx.field(static=True)
    dealias: bool = eqx.field(static=True)
    coupling: GridCoupling = eqx.field(static=True)

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (len(self.state_names), *self.domain.shape)

    @property
    def grid(self) -> tuple[np.ndarray, ...]:
        return self.domain.axes

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        return self.domain.names


@dataclass(frozen=True, eq=False)
class _Program:
    """The generated pointwise functions and how to feed them: jets, coordinates, integrals, boundaries.

    Its methods are the lowered PDE's functions (a frozen object hashed by identity, so they jit as they are).
    """

    name: str
    namespace: dict
    requests: tuple[tuple[int, tuple[int, ...]], ...]  # jets of u (and of v in jvp): (field, counts)
    fluxes: tuple[tuple[int, tuple[int, ...]], ...]  # (field, counts): the rhs of field has ∂^counts of a flux
    pointwise: tuple[int, ...]  # the fields whose remainder has terms besides fluxes
    needs: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]  # function → the jets of u and of v it reads
    linear_terms: tuple[tuple[tuple[Callable, tuple[int, ...]], ...], ...]  # per field: (coefficient(p), counts)
    domain: Domain
    derivatives: AbstractDerivatives
    dealias: bool
    boundaries: tuple[Boundary, ...]
    integral_weights: np.ndarray
    state_shape: tuple[int, ...]
    coupling: GridCoupling

    def rhs(self, t, u, p):
        if self.dealias:
            return self.domain.from_modes(self.linear(p) * self.domain.to_modes(u)) + self.nonlinear(t, u, p)
        return self._evaluate(t, u, p, "rhs")

    def jvp(self, t, u, p, v):
        if self.dealias:
            linear = self.domain.from_modes(self.linear(p) * self.domain.to_modes(v))
            modes = self.domain.to_modes(self._evaluate(t, u, p, "remainder_jvp", v))
            return linear + self.domain.from_modes(self.domain.dealiased(modes))
        return self._evaluate(t, u, p, "jvp", v)

    def jac(self, t, u, p):
        """The dense Jacobian from `coupling.count` products of the jvp (the colours), not one per entry."""
        self._refuse_dense("Jacobian", "use jvp(t, u, p, v), the linearised operator")
        products = jax.vmap(lambda v: self.jvp(t, u, p, v))(self.coupling.indicators(u.dtype))
        return self.coupling.dense(products.reshape(self.coupling.count, -1)).reshape(
            *self.state_shape, *self.state_shape
        )

    def linear_operator(self, p, v):
        """L v: the linear part's terms through the rhs's own jets, with homogeneous boundary conditions."""
        v = jnp.asarray(v)
        return self._over_batch(lambda w: self._linear_pointwise(p, w), v, self.domain.ndim + 1)

    def linear_matrix(self, p):
        """L over the flattened state, `(size, size)`, from `coupling.count` products of `linear_operator`."""
        self._refuse_dense("matrix of the linear part", "step it with rk4 or an implicit method")
        products = jax.vmap(lambda v: self.linear_operator(p, v))(self.coupling.indicators(p.dtype))
        return self.coupling.dense(products.reshape(self.coupling.count, -1))

    def _refuse_dense(self, what: str, instead: str) -> None:
        size = int(np.prod(self.state_shape))
        if size > DENSE_JACOBIAN_LIMIT:
            raise ValueError(
                f"{self.name}: the dense {what} of {size} state entries is too large "
                f"(limit {DENSE_JACOBIAN_LIMIT}); {instead}"
            )

    def linear(self, p):
        """The linear part's multiplier `(n_fields, *modes)` at parameters `p` (periodic domains)."""
        if not all(self.domain.periodic):
            raise ValueError(
                f"{self.name}: a bounded domain has no Fourier multiplier; its linear part is the matrix "
                "linear_matrix(p) (or linear_operator(p, v) without a matrix)"
            )
        complex_dtype = complex_of(p.dtype)
        rows = []
        for terms in self.linear_terms:
            total = jnp.zeros(self.domain.spectral_shape(), complex_dtype)
            for coefficient, counts in terms:
                multiplier = jnp.asarray(self.derivatives.multiplier(counts), complex_dtype)
                total = total + coefficient(p).astype(complex_dtype) * multiplier
            rows.append(total)
        return jnp.stack(rows)

    def nonlinear(self, t, u, p):
        """The right-hand side less its linear part (2/3-dealiased when lowered with dealias=True).

        On a bounded grid, rhs − L u itself: the boundary nodes' rates and the inhomogeneous boundary
        values that reach the stencils are in N, so that L u + N is the rhs to rounding.
        """
        if not all(self.domain.periodic):
            return self.rhs(t, u, p) - self.linear_operator(p, u)
        remainder = self._evaluate(t, u, p, "remainder")
        if self.dealias:
            return self.domain.from_modes(self.domain.dealiased(self.domain.to_modes(remainder)))
        return remainder

    def nonlinear_of_modes(self, t, modes, p, u=None):
        """`nonlinear` from and to `rfftn` modes, the form split integrators step in (periodic domains).

        With spectral derivatives the jet comes straight from the modes: two transforms per
        evaluation instead of four. `u`, the state of these modes when at hand, saves the
        inverse transform of the fields themselves.
        """
        if not all(self.domain.periodic):
            raise ValueError(f"{self.name}: a bounded domain has no Fourier modes; use nonlinear(t, u, p)")
        if not isinstance(self.derivatives, SpectralDerivatives):
            return self.domain.to_modes(self.nonlinear(t, self.domain.from_modes(modes) if u is None else u, p))
        state_ndim = self.domain.ndim + 1
        if u is None:
            remainder = self._over_batch(lambda m: self._remainder_of_modes(t, m, p), modes, state_ndim)
        else:
            remainder = self._over_batch(lambda m, w: self._remainder_of_modes(t, m, p, w), modes, state_ndim, u)
        return self.domain.dealiased(remainder) if self.dealias else remainder

    def observed(self, t, u, p):
        return self._evaluate(t, u, p, "observed")

    def conserved(self, t, u, p):
        return self._evaluate(t, u, p, "conserved")

    def initial(self, p):
        dtype = p.dtype
        x = self._mesh(dtype)
        u = self.namespace["initial"](p, x)
        for boundary in self.boundaries:
            u = boundary.project(u, jnp.asarray(0, dtype), p, x)
        return u

    @staticmethod
    def _over_batch(function, u, state_ndim: int, *directions):
        """`function` of one state, mapped over the leading batch axes of `u` (and of the directions)."""
        if u.ndim <= state_ndim:
            return function(u, *directions)
        flat = u.reshape(-1, *u.shape[-state_ndim:])
        batch = u.shape[:-state_ndim]
        rest = [
            jnp.broadcast_to(d, batch + d.shape[-state_ndim:]).reshape(-1, *d.shape[-state_ndim:]) for d in directions
        ]
        out = jax.vmap(function)(flat, *rest)
        return out.reshape(*u.shape[:-state_ndim], *out.shape[1:])

    def _mesh(self, dtype):
        return tuple(jnp.asarray(c, dtype) for c in self.domain.mesh())

    def _evaluate(self, t, u, p, name: str, v=None):
        u = jnp.asarray(u)
        directions = () if v is None else (v,)
        return self._over_batch(lambda w, *d: self._pointwise(t, w, p, name, *d), u, self.domain.ndim + 1, *directions)

    def _pointwise(self, t, u, p, name: str, v=None):
        t = jnp.asarray(t, u.dtype)
        x = self._mesh(u.dtype)
        if v is not None:
            v = jnp.asarray(v, u.dtype)
        for boundary in self.boundaries:
            u = boundary.project(u, t, p, x)
            if v is not None:
                v = boundary.project(v, t, p, x, homogeneous=True)
        of_u, of_v = self.needs[name]
        jets = self._jets(self.derivatives.jets, u, of_u)
        if name in ("observed", "conserved"):
            integrands = self.namespace["integrands"](t, jets, p, x)
            weights = jnp.asarray(self.integral_weights, u.dtype)
            integrals = jnp.sum(integrands * weights, axis=tuple(range(1, integrands.ndim)))
            return self.namespace[name](t, jets, p, x, integrals)
        if v is None:
            result = self.namespace[name](t, jets, p, x)
        else:
            v_jets = self._jets(self.derivatives.jets, v, of_v)
            result = self.namespace[name](t, jets, v_jets, p, x)
        if self.fluxes and name in FLUXED:
            flux = (
                self.namespace[FLUXED[name]](t, jets, p, x)
                if v is None
                else self.namespace[FLUXED[name]](t, jets, v_jets, p, x)
            )
            result = result + self.domain.from_modes(self._modes_with_fluxes(None, flux))
        if name in ("rhs", "jvp"):
            for boundary in self.boundaries:
                result = boundary.rates(result, t, p, x, homogeneous=name == "jvp")
        return result

    def _linear_pointwise(self, p, v):
        zero = jnp.zeros((), v.dtype)
        x = self._mesh(v.dtype)
        for boundary in self.boundaries:
            v = boundary.project(v, zero, p, x, homogeneous=True)
        requests = [(field, counts) for field, terms in enumerate(self.linear_terms) for _, counts in terms]
        jets = iter(self.derivatives.jets(v, requests))
        rows = []
        for terms in self.linear_terms:
            row = jnp.zeros(v.shape[1:], v.dtype)
            for coefficient, _ in terms:
                row = row + coefficient(p).astype(v.dtype) * next(jets)
            rows.append(row)
        result = jnp.stack(rows)
        for boundary in self.boundaries:
            result = boundary.rates(result, zero, p, x, homogeneous=True)
        return result

    def _remainder_of_modes(self, t, modes, p, u=None):
        """The remainder's `rfftn` modes from those of one state (spectral derivatives, no boundaries), and from
        the state `u` itself when given."""
        real = jnp.finfo(modes.dtype).dtype
        t, x = jnp.asarray(t, real), self._mesh(real)
        take = lambda m, requests: self.derivatives.jets_of_modes(m, requests, fields=u)
        jets = self._jets(take, modes, self.needs["remainder"][0])
        remainder = self.namespace["remainder"](t, jets, p, x)
        if not self.fluxes:
            return self.domain.to_modes(remainder)
        return self._modes_with_fluxes(remainder, self.namespace["fluxes"](t, jets, p, x))

    def _modes_with_fluxes(self, pointwise, fluxes):
        """The modes of `pointwise` (n_fields, *grid) plus ∂^counts of each flux (n_fluxes, *grid) on its field.

        One forward transform of the fluxes and of the rows of `pointwise` that can be nonzero (all of it
        is left out when None: fluxes only).
        """
        rows = [] if pointwise is None else [pointwise[f] for f in self.pointwise]
        targets = ([] if pointwise is None else list(self.pointwise)) + [f for f, _ in self.fluxes]
        modes = self.domain.to_modes(jnp.concatenate([jnp.stack(rows), fluxes]) if rows else fluxes)
        ones = np.ones(self.domain.spectral_shape(), complex)
        multipliers = [ones] * len(rows) + [self.derivatives.multiplier(counts) for _, counts in self.fluxes]
        modes = modes * jnp.asarray(np.stack(multipliers), modes.dtype)
        fields = self.state_shape[0]
        if targets == list(range(fields)):
            return modes
        return jnp.zeros((fields, *modes.shape[1:]), modes.dtype).at[np.asarray(targets)].add(modes)

    def _jets(self, take, u, wanted: tuple[int, ...]) -> list:
        """The requested jets that a function reads; None stands for the others."""
        jets = [None] * len(self.requests)
        for k, value in zip(wanted, take(u, [self.requests[k] for k in wanted])):
            jets[k] = value
        return jets


def lower_pde(
    context: LoweringContext, dtype: Any, *, derivatives: str | None = None, dealias: bool = False
) -> LoweredPDE:
    """Generate and compile a PDE model's pointwise functions; see `LoweredPDE`."""
    model, exact = context.model, context.exact
    domain = Domain.of(model.domain, model.defaults)
    scheme = derivatives or ("spectral" if all(domain.periodic) else "fd2")
    derivative_scheme = derivatives_named(scheme, domain)
    if dealias and not all(domain.periodic):
        raise ValueError(f"{model.name}: dealiasing needs a periodic domain")

    vector = model.state_vector
    coordinates = model.coordinates
    field_of = {}
    for index, symbol in enumerate(vector):
        jet = model.jet(symbol)
        field_of[(jet.state.name, jet.time_order)] = index

    def request(symbol: sp.Symbol) -> tuple[int, tuple[int, ...]]:
        jet = model.jet(symbol)
        counts = dict(jet.space)
        return field_of[(jet.state.name, jet.time_order)], tuple(int(counts.get(c, 0)) for c in coordinates)

    rhs = [exact(e) for e in model.rhs()]
    split = model.linear_split()
    remainder = [exact(e) for e in split.remainder]
    fluxes: list[tuple[int, tuple[int, ...], sp.Expr]] = []  # (field, counts, g): ∂^counts(g) in the field's rhs
    if isinstance(derivative_scheme, SpectralDerivatives):
        for field, (f, entry) in enumerate(zip(list(rhs), list(remainder))):
            found, rest = total_derivatives(entry, model.system, coordinates)
            if found:
                rhs[field], remainder[field] = sp.expand(f - entry + rest), rest
            for flux in found:
                counts = dict(flux.space)
                fluxes.append((field, tuple(int(counts.get(c, 0)) for c in coordinates), flux.flux))
    flux_values = [g for _, _, g in fluxes]

    integrals: list[sp.Integral] = []

    def without_integrals(expr: sp.Expr) -> sp.Expr:
        def placeholder(integral: sp.Integral) -> sp.Symbol:
            if tuple(v for v, *_ in integral.limits) and {v for v, *_ in integral.limits} != set(coordinates):
                raise ValueError(
                    f"{model.name}: ∫ over {', '.join(str(v) for v, *_ in integral.limits)}: "
                    f"integrals run over the whole domain ({', '.join(map(str, coordinates))})"
                )
            integrals.append(integral.function)
            return sp.Symbol(f"_I{len(integrals) - 1}")

        return expr.replace(lambda e: isinstance(e, sp.Integral), placeholder)

    observed = [without_integrals(exact(d.expression)) for d in model.observed]
    conserved = [without_integrals(exact(d.expression)) for d in model.conserved]
    for definition, expr in zip(model.conserved, conserved):
        if expr.free_symbols & (set(model.system.jets) | set(coordinates)):
            raise ValueError(
                f"{model.name}: the conserved quantity `{definition.name}` is not a number; "
                f"integrate it over the domain, as in `∫(u, {coordinates[0]})`"
            )

    jet_symbols = sorted(
        set().union(*(e.free_symbols for e in rhs + remainder + flux_values + observed + integrals))
        & set(model.system.jets),
        key=lambda s: (request(s)[0], sum(request(s)[1]), s.name),
    )
    base = [s for s in vector]  # the fields themselves first: `_j[0]` sets the output's shape
    jet_symbols = base + [s for s in jet_symbols if s not in base]
    requests = tuple(request(s) for s in jet_symbols)

    names = context.symbol_table()
    for d, symbol in enumerate(coordinates):
        names.add(symbol, f"_x[{d}]")
    for k, symbol in enumerate(jet_symbols):
        names.add(symbol, f"_j[{k}]")
    for k in range(len(integrals)):
        names.add(sp.Symbol(f"_I{k}"), f"_I[{k}]", name=f"integral{k}")

    # linearisation: one direction symbol per jet entering the expression
    direction = {s: sp.Symbol(f"δ{s.name}", real=True) for s in jet_symbols}
    direction_order = [s for s in jet_symbols]
    for k, symbol in enumerate(direction_order):
        names.add(direction[symbol], f"_v[{k}]", name="d_" + symbol.name)

    def linearised(exprs):
        return [sum((sp.diff(f, s) * direction[s] for s in jet_symbols if f.has(s)), sp.S.Zero) for f in exprs]

    position = {s: k for k, s in enumerate(jet_symbols)}

    def reads(exprs, among=position) -> tuple[int, ...]:
        """The jets `exprs` read; `_j[0]` always, as it gives the output its shape."""
        return tuple(sorted({0} | {among[s] for e in exprs for s in e.free_symbols if s in among}))

    of_direction = {direction[s]: position[s] for s in jet_symbols}
    flux_slopes = linearised(flux_values)
    needs = {
        "rhs": (reads(rhs + flux_values), ()),
        "remainder": (reads(remainder + flux_values), ()),
        "jvp": (reads(linearised(rhs) + flux_slopes), reads(linearised(rhs) + flux_slopes, of_direction)),
        "remainder_jvp": (
            reads(linearised(remainder) + flux_slopes),
            reads(linearised(remainder) + flux_slopes, of_direction),
        ),
        "observed": (reads(integrals + observed), ()),
        "conserved": (reads(integrals + conserved), ()),
    }

    ndim = domain.ndim
    like = f"_j[0], {ndim}"
    functions = [
        function_source(
            "rhs",
            "_t, _j, _p, _x",
            "The right-hand side, pointwise, less its ∂^k(g) terms.",
            rhs,
            names,
            like,
            "_fields",
        ),
        function_source(
            "remainder", "_t, _j, _p, _x", "The rhs less its linear part.", remainder, names, like, "_fields"
        ),
        function_source("jvp", "_t, _j, _v, _p, _x", "The linearised rhs.", linearised(rhs), names, like, "_fields"),
        function_source(
            "remainder_jvp",
            "_t, _j, _v, _p, _x",
            "The linearised remainder.",
            linearised(remainder),
            names,
            like,
            "_fields",
        ),
        function_source(
            "fluxes",
            "_t, _j, _p, _x",
            "The functions g of the ∂^k(g) terms, differentiated spectrally and added to rhs.",
            flux_values,
            names,
            like,
            "_fields",
        ),
        function_source(
            "fluxes_jvp", "_t, _j, _v, _p, _x", "The linearised fluxes.", flux_slopes, names, like, "_fields"
        ),
        function_source("integrands", "_t, _j, _p, _x", "Integrands of ∫ terms.", integrals, names, like, "_fields"),
        function_source(
            "observed", "_t, _j, _p, _x, _I", "The @observed quantities.", observed, names, like, "_fields"
        ),
        function_source("conserved", "_t, _j, _p, _x, _I", "The @conserved quantities.", conserved, names, "_t"),
    ]
    initial = model.initial_state()
    has_initial = all(value is not None for value in initial)
    if has_initial:
        functions.append(
            function_source(
                "initial",
                "_p, _x",
                "The initial fields.",
                [exact(v) for v in initial],
                names,
                f"jnp.zeros(_x[0].shape, _p.dtype), {ndim}",
                "_fields",
            )
        )
    boundaries, boundary_functions = boundaries_of(model, domain, derivative_scheme, field_of, names, exact)
    functions += boundary_functions
    flux_requests = tuple((field, counts) for field, counts, _ in fluxes)
    coupling = _coupling(len(vector), domain, derivative_scheme, requests + flux_requests, boundaries, dealias)

    coefficient_functions = []
    for terms in split.linear:
        row = []
        for term in terms:
            counts = dict(term.space)
            row.append(
                (
                    _scalar_function(exact(term.coefficient), context),
                    tuple(int(counts.get(c, 0)) for c in coordinates),
                )
            )
        coefficient_functions.append(tuple(row))

    jets_listed = ", ".join(s.name for s in jet_symbols)
    source = module_source(
        context.docstring(f"Pointwise in the jet _j = ({jets_listed}) of the fields on the grid _x."), functions
    )
    namespace = compile_module(source, model.name)
    program = _Program(
        name=model.name,
        namespace=namespace,
        requests=requests,
        fluxes=flux_requests,
        pointwise=tuple(i for i, e in enumerate(remainder) if e != 0),
        needs=needs,
        linear_terms=tuple(coefficient_functions),
        domain=domain,
        derivatives=derivative_scheme,
        dealias=dealias,
        boundaries=tuple(dataclasses.replace(b, values=namespace[b.function]) for b in boundaries),
        integral_weights=domain.quadrature_weights(),
        state_shape=(len(vector), *domain.shape),
        coupling=coupling,
    )
    p = context.default_parameters(dtype)
    initial_function = program.initial if has_initial else None
    return LoweredPDE(
        **context.names(),
        rhs=program.rhs,
        jac=program.jac,
        jvp=program.jvp,
        observed=program.observed,
        conserved=program.conserved,
        initial=initial_function,
        linear=program.linear,
        linear_operator=program.linear_operator,
        linear_matrix=program.linear_matrix,
        nonlinear=program.nonlinear,
        nonlinear_of_modes=program.nonlinear_of_modes,
        domain=domain,
        derivatives=derivative_scheme,
        dealias=dealias,
        coupling=coupling,
        source=source,
        p=p,
        x0=initial_function(p) if initial_function is not None and p is not None else None,
    )


def _coupling(
    fields: int,
    domain: Domain,
    derivatives: AbstractDerivatives,
    requests: tuple[tuple[int, tuple[int, ...]], ...],
    boundaries: tuple[Boundary, ...],
    dealias: bool,
) -> GridCoupling:
    """Along each axis: the widest stencil row the jets use, plus the reach of a Neumann condition there (its
    rate reads the rates near the end). Dealiasing transforms the whole grid: every point reads every other."""
    reach = []
    for d, n in enumerate(domain.shape):
        widest = max((derivatives.reach(d, counts[d]) for _, counts in requests), default=0)
        widest += max((b.reach for b in boundaries if b.axis == d), default=0)
        reach.append(n - 1 if dealias else min(widest, n - 1))
    return GridCoupling(fields, domain.shape, tuple(reach), domain.periodic)


def _scalar_function(expr: sp.Expr, context: LoweringContext) -> Callable:
    """A constant coefficient as a function of p (it may use parameters, nothing that varies)."""
    table = context.symbol_table()
    source = module_source(
        "A linear coefficient.", [function_source("c", "_p", "", [expr], table, "jnp.zeros(_p.shape[:-1], _p.dtype)")]
    )
    function = compile_module(source, "coefficient")["c"]
    return lambda p: function(p)[..., 0]
