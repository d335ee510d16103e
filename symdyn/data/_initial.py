"""Initial states of generated trajectories: the model's own, or random fields on a grid."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from ..lower import AbstractLoweredModel, LoweredPDE


class AbstractInitialCondition(abc.ABC):
    """Draws initial states (`(n,)` for an ODE, `(n_fields, *grid)` for a PDE) for a lowered model."""

    @abc.abstractmethod
    def sample(self, key: jax.Array, model: AbstractLoweredModel, p: jax.Array) -> jax.Array:
        """One initial state at parameters `p` (vmap over keys and p for a batch)."""


def _periodic_fields(initial: AbstractInitialCondition, model: AbstractLoweredModel, periodic: bool) -> LoweredPDE:
    if not isinstance(model, LoweredPDE):
        raise ValueError(f"{type(initial).__name__} draws fields on a grid; {model.name} is an ODE")
    if periodic and not all(model.domain.periodic):
        raise ValueError(f"{type(initial).__name__} draws periodic fields: the domain of {model.name} must be periodic")
    return model


@dataclasses.dataclass(frozen=True)
class SumOfSines(AbstractInitialCondition):
    """u₀ = Σ_{m=1..terms} A_m sin(2π l_m·x/L + φ_m), the generator of the seeds' KS and KdV sets.

    A_m ~ U(amplitude), φ_m ~ U(phase), and each component of l_m an integer drawn
    uniformly from `wavenumbers` (both ends included: the seeds' `(1, 2)` is {1, 2}).
    The same draw is made for every field independently.

    Example:
        >>> SumOfSines(terms=10, amplitude=(-0.5, 0.5), wavenumbers=(1, 2))
    """

    terms: int = 10
    amplitude: tuple[float, float] = (-0.5, 0.5)
    phase: tuple[float, float] = (0.0, 2 * np.pi)
    wavenumbers: tuple[int, int] = (1, 2)

    def __post_init__(self):
        if self.terms < 1 or self.wavenumbers[0] > self.wavenumbers[1]:
            raise ValueError(f"SumOfSines needs terms >= 1 and wavenumbers (low, high) with low <= high: {self}")

    def sample(self, key, model, p):
        domain = _periodic_fields(self, model, periodic=False).domain
        n_fields = len(model.state_names)
        ka, kp, kl = jax.random.split(key, 3)
        shape = (n_fields, self.terms)
        amplitude = jax.random.uniform(ka, shape, minval=self.amplitude[0], maxval=self.amplitude[1])
        phase = jax.random.uniform(kp, shape, minval=self.phase[0], maxval=self.phase[1])
        waves = jax.random.randint(kl, (*shape, domain.ndim), self.wavenumbers[0], self.wavenumbers[1] + 1)
        waves = waves.astype(p.dtype)
        mesh = jnp.stack([jnp.asarray(c, p.dtype) for c in domain.mesh()])  # (ndim, *grid)
        lengths = jnp.asarray([b - a for a, b in zip(domain.lower, domain.upper)], p.dtype)
        angle = (
            2
            * jnp.pi
            * jnp.tensordot(
                waves / lengths, mesh - jnp.asarray(domain.lower, p.dtype).reshape(-1, *[1] * domain.ndim), axes=1
            )
        )
        spread = (...,) + (None,) * domain.ndim  # broadcast (fields, terms) over the grid
        values = amplitude[spread] * jnp.sin(angle + phase[spread])
        return jnp.sum(values, axis=1).astype(p.dtype)


@dataclasses.dataclass(frozen=True)
class FourierSeries(AbstractInitialCondition):
    """A random truncated Fourier series: modes |k_d| ≤ `max_wavenumber` with Gaussian coefficients
    decaying as (1 + |k|)^(−decay), scaled so that max |u₀| = `amplitude`."""

    max_wavenumber: int = 4
    decay: float = 1.0
    amplitude: float = 1.0

    def sample(self, key, model, p):
        domain = _periodic_fields(self, model, periodic=True).domain
        n_fields = len(model.state_names)
        wavenumbers = domain.wavenumbers()
        spacing = [2 * np.pi / (b - a) for a, b in zip(domain.lower, domain.upper)]
        index = sum(np.abs(k / s) ** 2 for k, s in zip(wavenumbers, spacing)) ** 0.5
        keep = np.ones(domain.spectral_shape(), bool)
        for k, s in zip(wavenumbers, spacing):
            keep &= np.abs(np.rint(k / s)) <= self.max_wavenumber
        keep &= index > 0
        weight = np.where(keep, (1 + index) ** (-self.decay), 0.0)
        kr, ki = jax.random.split(key)
        shape = (n_fields, *domain.spectral_shape())
        real, imaginary = jax.random.normal(kr, shape), jax.random.normal(ki, shape)
        weight = jnp.asarray(weight, real.dtype)
        modes = jax.lax.complex(real * weight, imaginary * weight)
        u = domain.from_modes(modes)
        scale = jnp.max(jnp.abs(u), axis=tuple(range(1, u.ndim)), keepdims=True)
        return (self.amplitude * u / scale).astype(p.dtype)


@dataclasses.dataclass(frozen=True)
class ModelInitial(AbstractInitialCondition):
    """The initial value the model file gives, at each trajectory's parameters; `values` sets some
    entries of an ODE's state instead (all of them where the file leaves one out).

    Example:
        >>> ModelInitial({"z": 2.0})
    """

    values: Mapping[str, float] = ()

    def __post_init__(self):  # kept as pairs, so that the condition is hashable (a static argument of jit)
        object.__setattr__(self, "values", tuple(dict(self.values).items()))

    def sample(self, key, model, p):
        values = dict(self.values)
        unknown = [name for name in values if name not in model.state_names]
        if unknown:
            known = ", ".join(model.state_names)
            raise ValueError(f"initial values for {', '.join(unknown)}, not a state of {model.name} ({known})")
        if values and isinstance(model, LoweredPDE):
            raise ValueError("initial values by name set ODE states; draw fields with SumOfSines or FourierSeries")
        if model.initial is None and isinstance(model, LoweredPDE):
            raise ValueError(f"{model.name} gives no initial value for every field; choose SumOfSines or FourierSeries")
        if model.initial is None:
            missing = [name for name in model.state_names if name not in values]
            if missing:
                raise ValueError(f"{model.name} gives no initial value for {', '.join(missing)}; give one")
            return jnp.asarray([values[name] for name in model.state_names], p.dtype)
        x = model.initial(p)
        for name, value in values.items():
            x = x.at[model.state_names.index(name)].set(value)
        return x
