"""`LoweredModel`: a Model's JAX functions and default arrays, generated once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..model import Model
from ._codegen import generate_module
from ._pde import LoweredPDE, lower_pde
from ._source import compile_module


class LoweredModel(eqx.Module):
    """JAX functions of a model's first-order form, with its default parameters and initial state.

    Attributes:
        rhs: `rhs(t, x, p) -> (..., n)`, the right-hand side.
        jac: `jac(t, x, p) -> (..., n, n)`, its exact Jacobian.
        jvp: `jvp(t, x, p, v) -> (..., n)`, the exact Jacobian-vector product, without forming J.
        observed, conserved: `(t, x, p) -> (..., k)`, the model's @observed and @conserved quantities.
        initial: `initial(p) -> (..., n)`, the initial state as the model defines it from `p`;
            None when the model leaves some initial value out.
        p: default parameters (then unknowns, at their guesses or 0), or None when one has no default.
        x0: the initial state at `p`, or None.

    All functions broadcast over leading batch axes and compose with `jit`, `vmap` and `grad`.

    Example:
        >>> low = symdyn.load("examples/lorenz.sdyn").lower()
        >>> low.jac(0.0, low.x0, low.p).shape
        (3, 3)
    """

    name: str = eqx.field(static=True)
    state_names: tuple[str, ...] = eqx.field(static=True)
    parameter_names: tuple[str, ...] = eqx.field(static=True)
    observed_names: tuple[str, ...] = eqx.field(static=True)
    conserved_names: tuple[str, ...] = eqx.field(static=True)
    rhs: Callable = eqx.field(static=True)
    jac: Callable = eqx.field(static=True)
    jvp: Callable = eqx.field(static=True)
    observed: Callable = eqx.field(static=True)
    conserved: Callable = eqx.field(static=True)
    initial: Callable | None = eqx.field(static=True)
    source: str = eqx.field(static=True, repr=False)
    p: jax.Array | None
    x0: jax.Array | None

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (len(self.state_names),)


def _dtype(dtype: Any) -> np.dtype:
    if dtype is None:
        return jnp.result_type(float)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, not {dtype}")
    if dtype == np.float64 and jax.dtypes.canonicalize_dtype(np.float64) != np.float64:
        raise ValueError("dtype float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) first")
    return dtype


def lower_model(
    model: Model, dtype: Any = None, *, derivatives: str | None = None, dealias: bool = False
) -> LoweredModel | LoweredPDE:
    """Generate, compile and wrap the JAX functions of `model` (see `Model.lower`)."""
    dtype = _dtype(dtype)
    if model.is_pde:
        return lower_pde(model, dtype, derivatives=derivatives, dealias=dealias)
    if derivatives is not None or dealias:
        raise ValueError(f"{model.name} is an ODE: derivatives and dealias apply to PDE models only")
    module = generate_module(model)
    namespace = compile_module(module.source, model.name)

    values = model.parameter_values
    p = None if any(v is None for v in values) else jnp.asarray([float(v) for v in values], dtype=dtype)
    initial = namespace.get("initial")
    x0 = initial(p) if initial is not None and p is not None else None
    return LoweredModel(
        name=model.name,
        state_names=module.state_names,
        parameter_names=module.parameter_names,
        observed_names=module.observed_names,
        conserved_names=module.conserved_names,
        rhs=namespace["rhs"],
        jac=namespace["jac"],
        jvp=namespace["jvp"],
        observed=namespace["observed"],
        conserved=namespace["conserved"],
        initial=initial,
        source=module.source,
        p=p,
        x0=x0,
    )
