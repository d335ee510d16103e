"""The vector field an integrator steps: f(t, x), and its Jacobian, exact when the model gives one."""

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from ..lower import AbstractLoweredModel, GridCoupling, LoweredPDE


class AbstractVectorField(eqx.Module):
    """`rhs(t, x)`, `jacobian(t, x)` of shape (n, n) over the flattened state, `jvp(t, x, v)` (J v, by
    autodiff unless the field has an exact one), and `coupling`: None, or the `GridCoupling` of a PDE
    on a grid, with which implicit steps build a banded Jacobian from a few products."""

    @abc.abstractmethod
    def rhs(self, t: Any, x: jax.Array) -> jax.Array: ...

    @abc.abstractmethod
    def jacobian(self, t: Any, x: jax.Array) -> jax.Array: ...

    def jvp(self, t: Any, x: jax.Array, v: jax.Array) -> jax.Array:
        return jax.jvp(lambda y: self.rhs(t, y), (x,), (v,))[1]

    @property
    def coupling(self) -> GridCoupling | None:
        return None


class AbstractLoweredVectorField(AbstractVectorField):
    """A lowered model at parameters `p`: its generated rhs, and its exact Jacobian over the flattened state."""

    model: eqx.AbstractVar[AbstractLoweredModel]
    p: eqx.AbstractVar[jax.Array]

    def rhs(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model.rhs(t, x, self.p)

    def jacobian(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model.jac(t, x, self.p).reshape(x.size, x.size)

    def jvp(self, t: Any, x: jax.Array, v: jax.Array) -> jax.Array:
        return self.model.jvp(t, x, self.p, v)


class ModelVectorField(AbstractLoweredVectorField):
    """An ODE model (or a PDE stepped as a whole) at parameters `p`."""

    model: AbstractLoweredModel
    p: jax.Array


class PDEVectorField(AbstractLoweredVectorField):
    """A lowered PDE at parameters `p`, with its split u' = L u + N(t, u) for exponential and IMEX methods.

    Periodic domains: `linear()` is L's Fourier multiplier on the `rfftn` modes, `nonlinear_of_modes`
    N from and to the modes, `to_modes`/`from_modes` move between the two. Bounded domains: L is
    `linear_matrix()` over the flattened state (`linear_operator(v)` without the matrix), N is
    `nonlinear(t, x)` = rhs − L x. `coupling` says which entries each rate reads: the Jacobian comes
    from a few products, and implicit steps on a bounded grid solve banded systems.
    """

    model: LoweredPDE
    p: jax.Array

    @property
    def periodic(self) -> bool:
        return all(self.model.domain.periodic)

    @property
    def coupling(self) -> GridCoupling:
        return self.model.coupling

    def linear(self) -> jax.Array:
        return self.model.linear(self.p)

    def linear_matrix(self) -> jax.Array:
        return self.model.linear_matrix(self.p)

    def linear_operator(self, v: jax.Array) -> jax.Array:
        return self.model.linear_operator(self.p, v)

    def nonlinear(self, t: Any, x: jax.Array) -> jax.Array:
        return self.model.nonlinear(t, x, self.p)

    def nonlinear_of_modes(self, t: Any, modes: jax.Array, x: jax.Array | None = None) -> jax.Array:
        return self.model.nonlinear_of_modes(t, modes, self.p, x)

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
