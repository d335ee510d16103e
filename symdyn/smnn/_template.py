"""S-MNN coefficient templates from linear model files: c, d, u, s as JAX functions of the parameters.

An equation Σ_{v,r} c_{q,v,r}(t, p) y_v^{(r)} = d_q(t, p) of a model file, written at
any order, gives the paper's arrays on a time grid (Chen et al., eq. 4-5). The
coefficients may depend on time, on parameters and on `@unknowns`; the template
is differentiable in all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from jaxtyping import Array, ArrayLike, Float

from .._errors import SymdynSemanticError
from ..lower.internal import LoweringContext, compile_module, function_source, module_source
from ..model import Model, expression_to_text
from ._solve import Method, solve


class LinearTemplate(eqx.Module):
    """The S-MNN arrays of a linear model on a time grid.

    Call it with a parameter vector p (the model's parameters, then its unknowns;
    (P,) or a batch (B, P)) to get `c, d, u, s` of shapes (B, T, Q, V, R+1), (B, T, Q),
    (B, 1, V, R_init+1) and (B, T-1). `solve(p)` solves them.
    """

    name: str = eqx.field(static=True)
    state_names: tuple[str, ...] = eqx.field(static=True)
    parameter_names: tuple[str, ...] = eqx.field(static=True)
    equations: int = eqx.field(static=True)
    order: int = eqx.field(static=True)
    initial_order: int = eqx.field(static=True)
    coefficient_function: Callable = eqx.field(static=True)
    initial_function: Callable = eqx.field(static=True)
    source: str = eqx.field(static=True, repr=False)
    times: jax.Array
    p: jax.Array | None

    @eqx.filter_jit
    def __call__(
        self, p: Float[ArrayLike, "*B P"] | None = None
    ) -> tuple[
        Float[Array, "B T Q V R+1"], Float[Array, "B T Q"], Float[Array, "B 1 V R_init+1"], Float[Array, "B T-1"]
    ]:
        params = self._parameters(p)
        batch, variables = params.shape[0], len(self.state_names)
        width = self.equations * variables * (self.order + 1)
        values = self.coefficient_function(self.times[None, :], params[:, None, :])
        c = values[..., :width].reshape(batch, -1, self.equations, variables, self.order + 1)
        d = values[..., width:]
        u = self.initial_function(params).reshape(batch, 1, variables, self.initial_order + 1)
        s = jnp.broadcast_to(jnp.diff(self.times), (batch, self.times.shape[0] - 1))
        return c, d, u, s

    def solve(self, p: Any = None, *, weights=(1.0, 1.0, 1.0), method: Method = "auto") -> jax.Array:
        """y (B, T, V, R+1): the S-MNN solution at parameters p."""
        return solve(*self(p), weights=weights, method=method)

    def _parameters(self, p: Any) -> jax.Array:
        if p is None:
            if self.p is None:
                raise ValueError(f"{self.name}: a parameter has no default; pass p (in order {self.parameter_names})")
            p = self.p
        p = jnp.asarray(p, self.times.dtype)
        if p.shape[-1:] != (len(self.parameter_names),) or p.ndim > 2:
            raise ValueError(
                f"p has shape {p.shape}; expected ({len(self.parameter_names)},) or (B, {len(self.parameter_names)})"
            )
        return p.reshape(-1, p.shape[-1])


def template(model: Model, t_grid: Any, *, order: int | None = None, dtype: Any = None) -> LinearTemplate:
    """The S-MNN template of a linear ODE model on the time points `t_grid`.

    Args:
        model: a model whose equations are linear in the states and their derivatives,
            with coefficients of time, parameters, constants and unknowns.
        t_grid: (T,) increasing time points; the steps s are their differences.
        order: the highest derivative R the solver represents (default: the model's order).
            A higher R adds Taylor terms to the smoothness constraints.
        dtype: float32 or float64 (default: JAX's default float).

    Raises:
        SymdynSemanticError: an equation is not linear, located at it, naming the term.
        ValueError: a PDE model, a bad grid or order, or a state without an initial value.

    Example:
        >>> tpl = template(symdyn.load("examples/harmonic_oscillator.sdyn"), jnp.linspace(0, 10, 1001))
        >>> tpl.solve().shape
        (1, 1001, 1, 3)
    """
    if model.is_pde:
        raise ValueError(f"{model.name} is a PDE: S-MNN templates take ODE models")
    times = np.asarray(t_grid, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or not np.all(np.diff(times) > 0):
        raise ValueError(f"t_grid must be one increasing array of at least two times, not shape {times.shape}")
    model_order = model.order
    order = model_order if order is None else order
    if not isinstance(order, int) or order < model_order:
        raise ValueError(f"order must be an int at least the model's order, {model_order}; got {order!r}")
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)

    context = LoweringContext.of(model)
    constants = context.constants
    jets, forms = {}, {}  # (state index, derivative order) -> a symbol for y_v^{(r)}, and back
    for v, state in enumerate(model.states):
        for r in range(state.order + 1):
            forms[v, r] = sp.Derivative(state.applied, (model.time, r)) if r else state.applied
            jets[v, r] = sp.Dummy(f"{state.name}{r}", real=True)
    to_symbols = {forms[key]: jets[key] for key in jets}
    entries: list[sp.Expr] = []
    rhs: list[sp.Expr] = []
    for equation in model.equations:
        residual = (equation.lhs - equation.rhs).xreplace(to_symbols).xreplace(constants)
        row = {}
        for key, symbol in jets.items():
            row[key] = sp.diff(residual, symbol)
            if row[key].free_symbols & set(jets.values()):
                back = {jets[key]: forms[key] for key in jets}
                raise _not_linear(model, equation, residual, set(jets.values()), back)
        rest = residual.xreplace({symbol: 0 for symbol in jets.values()})
        for v in range(len(model.states)):
            entries.extend(row.get((v, r), sp.Integer(0)) for r in range(order + 1))
        rhs.append(-rest)

    initial_order, initial_values = _initial_values(model)
    names = context.symbol_table()
    functions = [
        function_source(
            "coefficients",
            "_t, _p",
            "c then d, flat, on the grid.",
            entries + rhs,
            names,
            "jnp.zeros(jnp.broadcast_shapes(_t.shape, _p.shape[:-1]), _t.dtype)",
        ),
        function_source(
            "initial",
            "_p",
            "The initial values u.",
            [value.xreplace(constants) for value in initial_values],
            names,
            "jnp.zeros(_p.shape[:-1], _p.dtype)",
        ),
    ]
    source = module_source(f"S-MNN template of {model.name}.", functions)
    namespace = compile_module(source, f"{model.name} template")
    return LinearTemplate(
        name=model.name,
        state_names=tuple(s.name for s in model.states),
        parameter_names=context.parameter_names,
        equations=len(model.equations),
        order=order,
        initial_order=initial_order,
        coefficient_function=namespace["coefficients"],
        initial_function=namespace["initial"],
        source=source,
        times=jnp.asarray(times, dtype),
        p=context.default_parameters(dtype),
    )


def _initial_values(model: Model) -> tuple[int, list[sp.Expr]]:
    """R_init, the orders every state has initial values for from 0 up, and those values (v, r order)."""
    given = {}
    for value in model.initial_values:
        jet = model.jet(model.system.to_jets(value.target))
        given[jet.state.name, jet.time_order] = value.value
    counts = []
    for state in model.states:
        count = 0
        while (state.name, count) in given:
            count += 1
        if count == 0:
            raise ValueError(f"{model.name}: the state {state.name} has no initial value; S-MNN needs one")
        counts.append(count)
    initial_order = min(counts) - 1
    return initial_order, [given[s.name, r] for s in model.states for r in range(initial_order + 1)]


def _not_linear(model: Model, equation, residual: sp.Expr, jets: set, forms: dict) -> SymdynSemanticError:
    terms = sp.Add.make_args(sp.expand(residual))
    offending = next(
        (t for t in terms if any(sp.diff(t, j).free_symbols & jets for j in t.free_symbols & jets)), residual
    )
    return SymdynSemanticError(
        f"S-MNN solves linear ODEs: the term `{expression_to_text(offending.xreplace(forms))}` is not linear "
        "in the states",
        source=model.source,
        span=equation.span,
        hint="for equation discovery, give each nonlinear term an unknown coefficient (`a₅*x*z` with "
        "`@unknowns a₅`): `symdyn discover` evaluates such terms on the data",
    )
