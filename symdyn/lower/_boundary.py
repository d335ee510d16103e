"""Dirichlet and Neumann conditions at the ends of bounded axes, for finite differences.

The grid includes both ends. A boundary node is algebraic: before the jet is
computed, a Dirichlet node takes its value g(t), and a Neumann node the value that
makes the one-sided stencil of ∂u/∂n equal g(t). Its time derivative follows from
the same relation (Dirichlet: g'(t); Neumann: the stencil applied to the interior
rates), so a trajectory keeps satisfying the condition and the system stays an ODE
whose exact Jacobian is still the linearised operator (with homogeneous conditions).

The same homogeneous projection and rates turn the linear part's stencils into the
matrix L that split integrators use on a bounded grid (`LoweredPDE.linear_operator`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..model import Model
from ._grid import AbstractDerivatives, Domain, StencilDerivatives
from ._source import SymbolTable, function_source


@dataclass(frozen=True, eq=False)
class Boundary:
    """One condition: entries `fields[m]` (the state and its time derivatives) at `end` of axis `axis`."""

    axis: int
    end: int  # 0 or n - 1
    fields: tuple[int, ...]
    neumann: bool
    nodes: np.ndarray  # Neumann: the stencil's nodes along the axis
    weights: np.ndarray  # and its weights (1/h included)
    function: str  # the generated values(t, p, x) -> (order + 1, *grid): g and its time derivatives
    values: Callable | None = None  # that function, once compiled

    @property
    def reach(self) -> int:
        """How far from the end its Neumann stencil reads (0 for Dirichlet): a boundary rate reads the rates
        there, so it widens the Jacobian's coupling along the axis by this much."""
        return int(np.max(np.abs(self.nodes - self.end))) if self.neumann else 0

    def _at(self, field: int) -> tuple:
        return (field,) + (slice(None),) * self.axis + (self.end,)

    def _stencil_rest(self, u, field: int):
        """Σ_{j ≠ end} w_j u_j along the axis, and w_end."""
        moved = jnp.moveaxis(u[field], self.axis, -1)
        total = sum(w * moved[..., int(j)] for j, w in zip(self.nodes, self.weights) if int(j) != self.end)
        own = float(self.weights[list(self.nodes).index(self.end)])
        return total, own

    def _g(self, t, p, x, order: int):
        return jnp.take(self.values(t, p, x)[order], self.end, axis=self.axis)

    def project(self, u, t, p, x, homogeneous: bool = False):
        for m, field in enumerate(self.fields):
            g = 0.0 if homogeneous else self._g(t, p, x, m)
            if self.neumann:
                rest, own = self._stencil_rest(u, field)
                u = u.at[self._at(field)].set((g - rest) / own)
            else:
                u = u.at[self._at(field)].set(jnp.broadcast_to(g, u[self._at(field)].shape))
        return u

    def rates(self, f, t, p, x, homogeneous: bool = False):
        for m, field in enumerate(self.fields):
            g = 0.0 if homogeneous else self._g(t, p, x, m + 1)
            if self.neumann:
                rest, own = self._stencil_rest(f, field)
                f = f.at[self._at(field)].set((g - rest) / own)
            else:
                f = f.at[self._at(field)].set(jnp.broadcast_to(g, f[self._at(field)].shape))
        return f


def boundaries_of(
    model: Model,
    domain: Domain,
    derivatives: AbstractDerivatives,
    field_of: dict[tuple[str, int], int],
    names: SymbolTable,
    exact: Callable[[sp.Expr], sp.Expr],
) -> tuple[tuple[Boundary, ...], list[str]]:
    """The model's boundary conditions, and the generated functions of their values (set `values` once compiled)."""
    if not model.boundary_conditions:
        return (), []
    if not isinstance(derivatives, StencilDerivatives):
        raise ValueError(f"{model.name}: boundary conditions need finite differences (derivatives='fd2' or 'fd4')")
    coordinates = model.coordinates
    boundaries, sources = [], []
    for k, condition in enumerate(model.boundary_conditions):
        axis = coordinates.index(condition.coordinate)
        at = float(sp.sympify(condition.at).xreplace(model.defaults))
        end = 0 if abs(at - domain.lower[axis]) <= abs(at - domain.upper[axis]) else domain.points[axis] - 1
        lhs = exact(condition.lhs)
        jets = [s for s in lhs.free_symbols if s in model.system.jets]
        if len(jets) != 1:
            raise ValueError(f"{model.name}: a boundary condition sets one field or its normal derivative")
        jet = model.jet(jets[0])
        coefficient = sp.cancel(lhs / jets[0])
        orders = dict(jet.space)
        order = orders.get(condition.coordinate, 0)
        if coefficient.free_symbols & set(model.system.jets) or order > 1 or len(orders) > (order > 0):
            raise ValueError(
                f"{model.name}: boundary conditions are Dirichlet (`u(t, a) ~ g`) or Neumann (`∂x(u(t, a)) ~ g`)"
            )
        g = (exact(condition.rhs) / coefficient).xreplace({condition.coordinate: condition.at})
        state = jet.state
        fields = tuple(field_of[(state.name, m)] for m in range(state.order))
        values = [sp.diff(g, model.time, m) for m in range(state.order + 1)]
        name = f"boundary{k}"
        sources.append(
            function_source(
                name,
                "_t, _p, _x",
                f"g(t) of boundary condition {k} and its time derivatives.",
                values,
                names,
                f"jnp.zeros(_x[0].shape, _p.dtype), {domain.ndim}",
                "_fields",
            )
        )
        nodes, weights = (np.zeros(0, int), np.zeros(0))
        if order == 1:
            indices, rows = derivatives.rows(axis, 1)
            nodes, weights = indices[end], rows[end]
        boundaries.append(Boundary(axis, end, fields, order == 1, nodes, weights, name))
    return tuple(boundaries), sources
