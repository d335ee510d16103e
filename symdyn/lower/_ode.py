"""An ODE model lowered: its exact first-order forms as a small generated JAX module, with shared subexpressions.

The module defines `rhs(t, x, p)`, `jac(t, x, p)`, `jvp(t, x, p, v)`, `observed(t, x, p)`,
`conserved(t, x, p)` and, when every initial value is given, `initial(p)`. Each works on
the last axis of its arrays, so it broadcasts over leading batch axes and composes with
`jit`, `vmap` and `grad`. `symdyn codegen FILE` prints this source.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import equinox as eqx
import numpy as np
import sympy as sp

from ._abstract import AbstractLoweredModel
from ._context import LoweringContext
from ._inputs import InputSignal, forced
from ._source import compile_module, function_source, module_source

_DRIVEN = ("rhs", "jac", "jvp", "observed", "conserved")  # the functions that evaluate a model's inputs


class LoweredModel(AbstractLoweredModel):
    """JAX functions of an ODE model's first-order form, with its default parameters and initial state.

    A state is `(n,)`, in the order of `state_names`; `jac` is `(..., n, n)`. All functions
    broadcast over leading batch axes. See `AbstractLoweredModel` for the attributes.

    A model with `@inputs` evaluates them at the time `t` of every call: from their default
    signals, or from the signal given to `with_inputs`. `input_names` names them, and
    `driven` holds its functions (rhs, jac, jvp, observed, conserved) of `(t, x, p, ..., u)`, with the
    inputs `u` (..., m) last.

    Example:
        >>> low = symdyn.load("examples/lorenz.sdyn").lower()
        >>> low.jac(0.0, low.x0, low.p).shape
        (3, 3)
    """

    input_names: tuple[str, ...] = eqx.field(static=True, default=())
    driven: tuple[Callable, ...] = eqx.field(static=True, default=())
    signal: Callable | None = eqx.field(static=True, default=None)

    def with_inputs(self, signal: InputSignal | Callable) -> LoweredModel:
        """The model driven by `signal`: an `InputSignal` of sampled inputs, or any `(t, p) -> (..., m)`.

        Raises:
            ValueError: the model has no inputs, or the signal has another number of them.
        """
        if not self.input_names:
            raise ValueError(f"{self.name} declares no @inputs to drive")
        if isinstance(signal, InputSignal) and signal.count != len(self.input_names):
            raise ValueError(
                f"{self.name} has {len(self.input_names)} inputs ({', '.join(self.input_names)}); "
                f"the signal gives {signal.count}"
            )
        functions = {name: forced(f, signal) for name, f in zip(_DRIVEN, self.driven)}
        return dataclasses.replace(self, **functions, signal=signal)

    def inputs(self, t: Any, p: Any) -> Any:
        """The inputs at times `t` for parameters `p`, (..., m), from the signal the model is driven by."""
        if self.signal is None:
            raise ValueError(f"{self.name} declares no @inputs")
        return self.signal(t, p)

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
    for i, given in enumerate(model.inputs):
        names.add(given.symbol, f"_u[..., {i}]")
    u = ", _u" if model.inputs else ""

    rhs = [context.exact(e) for e in model.rhs()]
    jacobian = sp.Matrix(rhs).jacobian(vector)
    state_list = ", ".join(s.name for s in vector)
    like = "_x[..., 0]"
    functions = [
        function_source("rhs", f"_t, _x, _p{u}", f"D({state_list}) of {model.name}.", rhs, names, like),
        function_source(
            "jac",
            f"_t, _x, _p{u}",
            "The exact Jacobian of rhs, (..., n, n).",
            [list(jacobian.row(i)) for i in range(jacobian.rows)],
            names,
            like,
        ),
        function_source(
            "jvp",
            f"_t, _x, _p, _v{u}",
            "The exact Jacobian of rhs times _v, without forming it.",
            [context.exact(e) for e in model.jvp()],
            names,
            like,
        ),
        function_source(
            "observed",
            f"_t, _x, _p{u}",
            "The @observed quantities.",
            [context.exact(d.expression) for d in model.observed],
            names,
            like,
        ),
        function_source(
            "conserved",
            f"_t, _x, _p{u}",
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
    signals = model.input_signals()
    if model.inputs and all(signal is not None for signal in signals):
        functions.append(
            function_source(
                "inputs",
                "_t, _p",
                "The default signals of the @inputs, (..., m).",
                [context.exact(signal) for signal in signals],
                names,
                "(_t + _p[..., 0])" if context.coefficients else "jnp.asarray(_t)",
            )
        )
    inputs = f"\nu = ({', '.join(i.name for i in model.inputs)}), the inputs" if model.inputs else ""
    source = module_source(context.docstring(f"x = ({state_list}){inputs}"), functions)
    namespace = compile_module(source, model.name)
    p = context.default_parameters(dtype)
    initial_function = namespace.get("initial")
    functions = {name: namespace[name] for name in _DRIVEN}
    driven = tuple(functions.values()) if model.inputs else ()
    signal = None
    if model.inputs:
        signal = namespace.get("inputs", _no_signal(model.name, [i.name for i in model.inputs]))
        functions = {name: forced(f, signal) for name, f in functions.items()}
    return LoweredModel(
        **context.names(),
        **functions,
        input_names=tuple(i.name for i in model.inputs),
        driven=driven,
        signal=signal,
        initial=initial_function,
        source=source,
        p=p,
        x0=initial_function(p) if initial_function is not None and p is not None else None,
    )


def _no_signal(model: str, inputs: list[str]) -> Callable:
    def missing(t, p):
        raise ValueError(
            f"{model} has inputs without a default signal ({', '.join(inputs)}): drive it with "
            "`lowered.with_inputs(InputSignal(times, values))`, or `symdyn simulate --inputs FILE`"
        )

    return missing
