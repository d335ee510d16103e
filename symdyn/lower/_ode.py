"""An ODE model lowered: its exact first-order forms as a small generated JAX module, with shared subexpressions.

The module defines `rhs(t, x, p)`, `jac(t, x, p)`, `jvp(t, x, p, v)`, `observed(t, x, p)`,
`conserved(t, x, p)` and, when every initial value is given, `initial(p)`. Each works on
the last axis of its arrays, so it broadcasts over leading batch axes and composes with
`jit`, `vmap` and `grad`. `symdyn codegen FILE` prints this source.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

from ._abstract import AbstractLoweredModel
from ._context import LoweringContext
from ._source import compile_module, function_source, module_source


class LoweredModel(AbstractLoweredModel):
    """JAX functions of an ODE model's first-order form, with its default parameters and initial state.

    A state is `(n,)`, in the order of `state_names`; `jac` is `(..., n, n)`. All functions
    broadcast over leading batch axes. See `AbstractLoweredModel` for the attributes.

    Example:
        >>> low = symdyn.load("examples/lorenz.sdyn").lower()
        >>> low.jac(0.0, low.x0, low.p).shape
        (3, 3)
    """

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (len(self.state_names),)

    @property
    def grid(self) -> tuple[np.ndarray, ...]:
        return ()

    @property
    def coordinate_names(self) -> tuple[str, ...]:
        return ()


def lower_ode(context: LoweringContext, dtype: Any) -> LoweredModel:
    """Generate, compile and wrap the JAX functions of an ODE model (see `Model.lower`)."""
    model = context.model
    vector = model.state_vector
    direction = model.direction()
    names = context.symbol_table()
    for i, symbol in enumerate(vector):
        names.add(symbol, f"_x[..., {i}]")
    for i, (symbol, state) in enumerate(zip(direction, vector)):
        names.add(symbol, f"_v[..., {i}]", name="d_" + state.name)

    rhs = [context.exact(e) for e in model.rhs()]
    jacobian = sp.Matrix(rhs).jacobian(vector)
    state_list = ", ".join(s.name for s in vector)
    like = "_x[..., 0]"
    functions = [
        function_source("rhs", "_t, _x, _p", f"D({state_list}) of {model.name}.", rhs, names, like),
        function_source(
            "jac",
            "_t, _x, _p",
            "The exact Jacobian of rhs, (..., n, n).",
            [list(jacobian.row(i)) for i in range(jacobian.rows)],
            names,
            like,
        ),
        function_source(
            "jvp",
            "_t, _x, _p, _v",
            "The exact Jacobian of rhs times _v, without forming it.",
            [context.exact(e) for e in model.jvp()],
            names,
            like,
        ),
        function_source(
            "observed",
            "_t, _x, _p",
            "The @observed quantities.",
            [context.exact(d.expression) for d in model.observed],
            names,
            like,
        ),
        function_source(
            "conserved",
            "_t, _x, _p",
            "The @conserved quantities.",
            [context.exact(d.expression) for d in model.conserved],
            names,
            like,
        ),
    ]
    initial = model.initial_state()
    if all(value is not None for value in initial):
        functions.append(
            function_source(
                "initial",
                "_p",
                "The initial state, from the parameters.",
                [context.exact(value) for value in initial],
                names,
                "jnp.zeros(_p.shape[:-1], _p.dtype)",
            )
        )
    source = module_source(context.docstring(f"x = ({state_list})"), functions)
    namespace = compile_module(source, model.name)
    p = context.default_parameters(dtype)
    initial_function = namespace.get("initial")
    return LoweredModel(
        **context.names(),
        rhs=namespace["rhs"],
        jac=namespace["jac"],
        jvp=namespace["jvp"],
        observed=namespace["observed"],
        conserved=namespace["conserved"],
        initial=initial_function,
        source=source,
        p=p,
        x0=initial_function(p) if initial_function is not None and p is not None else None,
    )
