"""The lowered model interface that integrators, training and analysis depend on: ODEs and PDEs alike."""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np


class AbstractLoweredModel(eqx.Module):
    """JAX functions of a model with its default parameters and initial state.

    Attributes:
        name: the model's name. state_names: the entries (ODE) or fields (PDE) of a state.
        parameter_names: the entries of p (parameters, then unknowns).
        observed_names, conserved_names: the @observed and @conserved quantities.
        rhs: `rhs(t, x, p)`, the right-hand side of D(x) = rhs.
        jac: `jac(t, x, p)`, its exact Jacobian (`(*state, *state)`).
        jvp: `jvp(t, x, p, v)`, the exact Jacobian-vector product, without forming J.
        observed, conserved: `(t, x, p)`, the model's @observed and @conserved quantities.
        initial: `initial(p)`, the initial state as the model defines it; None when it leaves one out.
        source: the generated JAX source (`symdyn codegen` prints it).
        p: default parameters, or None when one has no default. x0: the initial state at p, or None.

    The functions are plain functions (they close over nothing that varies), so `jax.jit(low.rhs)`
    compiles them as they are. A kind of lowered model adds its own fields and says what its
    states and grid are.
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
    @abc.abstractmethod
    def state_shape(self) -> tuple[int, ...]:
        """The shape of one state: `(n,)` for an ODE, `(n_fields, *grid)` for a PDE."""

    @property
    @abc.abstractmethod
    def grid(self) -> tuple[np.ndarray, ...]:
        """One coordinate array per spatial dimension (none for an ODE)."""

    @property
    @abc.abstractmethod
    def coordinate_names(self) -> tuple[str, ...]:
        """The names of the spatial coordinates (none for an ODE)."""
