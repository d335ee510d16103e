"""`lower_model`: a Model to its JAX functions, an ODE's or a PDE's."""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..model import Model
from ._context import LoweringContext
from ._ode import LoweredModel, lower_ode
from ._pde import LoweredPDE, lower_pde


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
    """Generate, compile and wrap the JAX functions of `model` (see `Model.lower`).

    Equal models lowered alike give the same object, so that programs compiled for one serve all.
    """
    return _lower(model, model.filename, _dtype(dtype).name, derivatives, dealias)


@functools.lru_cache(maxsize=256)
def _lower(model: Model, filename: str | None, dtype: str, derivatives: str | None, dealias: bool):
    context = LoweringContext.of(model)
    if model.is_pde:
        return lower_pde(context, dtype, derivatives=derivatives, dealias=dealias)
    if derivatives is not None or dealias:
        raise ValueError(f"{model.name} is an ODE: derivatives and dealias apply to PDE models only")
    return lower_ode(context, dtype)
