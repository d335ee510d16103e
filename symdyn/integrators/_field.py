"""The vector field an integrator steps: f(t, x), and its Jacobian, exact when the model gives one."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..lower import AbstractLoweredModel, LoweredPDE


class AbstractVectorField(eqx.Module):
    """`rhs(t, x)`, and `jacobian(t, x)` of shape (n, n) over the flattened state."""

    @abc.abstractmethod
    def rhs(self, t: Any, x: jax.Array) -> jax.Array: ...

    @abc.abstractmethod
    def jacobian(self, t: Any, x: jax.Array) -> jax.Array: ...


class AbstractLoweredVectorField(AbstractVectorField):
    """A lowered model at parameters `p`: its generated rhs, and its exact Jacobian over the flattened state."""

    model: eqx.AbstractVar[AbstractLoweredModel]
    p: eqx.AbstractVar[jax.Array]

    def rhs(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model.rhs(t, x, self.p)

    def jacobian(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model.jac(t, x, self.p).reshape(x.size, x.size)


class ModelVectorField(AbstractLoweredVectorField):
    """An ODE model (or a PDE stepped as a whole) at parameters `p`."""

    model: AbstractLoweredModel
    p: jax.Array


class PDEVectorField(AbstractLoweredVectorField):
    """A lowered PDE at parameters `p`, with its split u' = L u + N(t, u) for exponential and IMEX methods.

    `linear()` is L's Fourier multiplier on the `rfftn` modes, `nonlinear_of_modes` is N from and
    to the modes; `to_modes`/`from_modes` move between the two. The Jacobian is the dense matrix
    of the exact linearised operator over the flattened state (small grids).
    """

    model: LoweredPDE
    p: jax.Array

    def linear(self) -> jax.Array:
        return self.model.linear(self.p)

    def nonlinear_of_modes(self, t: Any, modes: jax.Array) -> jax.Array:
        return self.model.nonlinear_of_modes(t, modes, self.p)

    def to_modes(self, x: jax.Array) -> jax.Array:
        return self.model.domain.to_modes(x)

    def from_modes(self, modes: jax.Array) -> jax.Array:
        return self.model.domain.from_modes(modes)


class CallableVectorField(AbstractVectorField):
    """A callable `f(t, x)` (a function, or an equinox module such as a network); Jacobian by `jax.jacfwd`."""

    f: Callable

    def rhs(self, t: Any, x: jax.Array) -> jax.Array:
        return self.f(t, x)

    def jacobian(self, t: Any, x: jax.Array) -> jax.Array:
        return jax.jacfwd(lambda y: self.f(t, y.reshape(x.shape)).ravel())(x.ravel())


def vector_field(f: AbstractLoweredModel | Callable | AbstractVectorField, p: Any = None) -> AbstractVectorField:
    """The vector field of a lowered model (at `p`, default its own) or of a callable `f(t, x)`.

    Raises:
        ValueError: the model has a parameter without a default and no `p` is given.
        TypeError: `f` is neither, or `p` comes with a callable.
    """
    if isinstance(f, AbstractVectorField):
        return f
    if isinstance(f, AbstractLoweredModel):
        params = f.p if p is None else jnp.asarray(p)
        if params is None:
            raise ValueError(f"{f.name}: a parameter has no default; pass p (in order {f.parameter_names})")
        if params.shape[-1:] != (len(f.parameter_names),):
            raise ValueError(f"p has shape {params.shape}; {f.name} takes {len(f.parameter_names)} parameters")
        if isinstance(f, LoweredPDE):
            return PDEVectorField(f, params)
        return ModelVectorField(f, params)
    if not callable(f):
        raise TypeError(f"f must be a lowered model or a callable f(t, x), not {type(f).__name__}")
    if p is not None:
        raise TypeError("p is only taken with a lowered model; close over it in your f(t, x)")
    return CallableVectorField(f)
