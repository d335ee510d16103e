"""The vector field an integrator steps: f(t, x), and its Jacobian, exact when the model gives one."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..lower import LoweredModel


class AbstractVectorField(eqx.Module):
    """`rhs(t, x)`, and `jacobian(t, x)` of shape (n, n) over the flattened state."""

    @abc.abstractmethod
    def rhs(self, t: Any, x: jax.Array) -> jax.Array: ...

    @abc.abstractmethod
    def jacobian(self, t: Any, x: jax.Array) -> jax.Array: ...


class ModelField(AbstractVectorField):
    """A lowered model at parameters `p`: its generated rhs, and its exact Jacobian."""

    model_rhs: Callable = eqx.field(static=True)
    model_jac: Callable = eqx.field(static=True)
    p: jax.Array

    def rhs(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model_rhs(t, x, self.p)

    def jacobian(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model_jac(t, x, self.p)


class CallableField(AbstractVectorField):
    """A callable `f(t, x)` (a function, or an equinox module such as a network); Jacobian by `jax.jacfwd`."""

    f: Callable

    def rhs(self, t: Any, x: jax.Array) -> jax.Array:
        return self.f(t, x)

    def jacobian(self, t: Any, x: jax.Array) -> jax.Array:
        return jax.jacfwd(lambda y: self.f(t, y.reshape(x.shape)).ravel())(x.ravel())


def vector_field(f: LoweredModel | Callable | AbstractVectorField, p: Any = None) -> AbstractVectorField:
    """The field of a lowered model (at `p`, default its own) or of a callable `f(t, x)`.

    Raises:
        ValueError: the model has a parameter without a default and no `p` is given.
        TypeError: `f` is neither, or `p` comes with a callable.
    """
    if isinstance(f, AbstractVectorField):
        return f
    if isinstance(f, LoweredModel):
        params = f.p if p is None else jnp.asarray(p)
        if params is None:
            raise ValueError(f"{f.name}: a parameter has no default; pass p (in order {f.parameter_names})")
        if params.shape[-1:] != (len(f.parameter_names),):
            raise ValueError(f"p has shape {params.shape}; {f.name} takes {len(f.parameter_names)} parameters")
        return ModelField(f.rhs, f.jac, params)
    if not callable(f):
        raise TypeError(f"f must be a lowered model or a callable f(t, x), not {type(f).__name__}")
    if p is not None:
        raise TypeError("p is only taken with a lowered model; close over it in your f(t, x)")
    return CallableField(f)
