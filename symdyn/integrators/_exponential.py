"""Methods for stiff PDEs that treat the linear part exactly (exponential) or implicitly (IMEX).

They step u' = L u + N(t, u) with L diagonal on the Fourier modes of a periodic
grid (`PDEVectorField.linear()`): exponential time differencing (Cox & Matthews 2002)
integrates L exactly, IMEX methods implicitly, and both take N explicitly. The
φ-functions of ETD are evaluated as means over a circle of radius 1 around each
h·L (Kassam & Trefethen 2005), which avoids the cancellation of their closed
forms near 0. The means stay complex: for a dispersive L (KdV's ∂x³, purely
imaginary) keeping only their real part would make the schemes first order.

Applied to u' = λu with λ in the linear part, ETD methods are exact (R = e^z) and
the IMEX methods have the R of their implicit half; with λ in N they reduce to
explicit Runge-Kutta methods (`explicit_stability_function`).
"""

from __future__ import annotations

import abc
from typing import Any

import jax
import jax.numpy as jnp
import sympy as sp

from .._results import RESULTS
from ._field import AbstractVectorField, PDEVectorField
from ._integrator import AbstractOneStepIntegrator, Z

CONTOUR_POINTS = 32


def contour_mean(function, z: jax.Array, points: int = CONTOUR_POINTS) -> jax.Array:
    """The mean of `function` over the circle of radius 1 around each entry of the complex `z`."""
    angles = 2 * jnp.pi * (jnp.arange(points, dtype=jnp.finfo(z.dtype).dtype) + 0.5) / points
    circle = jnp.exp(1j * angles.astype(z.dtype))
    return jnp.mean(function(z[..., None] + circle), axis=-1)


class AbstractSplitIntegrator(AbstractOneStepIntegrator):
    """A method for u' = L u + N(t, u) on a periodic grid; the state is carried in physical space."""

    def prepare(self, field: AbstractVectorField, t0: Any, x0: jax.Array, h: Any) -> tuple:
        if not isinstance(field, PDEVectorField):
            raise TypeError(
                f"{self.name} steps a PDE split into a linear and a nonlinear part: "
                "pass a lowered PDE model on a periodic domain"
            )
        linear = field.linear()
        h = jnp.asarray(h, linear.dtype)  # the coefficients live on the complex modes
        return self.coefficients(h * linear, h)

    @abc.abstractmethod
    def coefficients(self, z: jax.Array, h: Any) -> tuple:
        """What every step reuses, from z = h·L on the modes."""

    @abc.abstractmethod
    def explicit_stability_function(self) -> sp.Expr:
        """R(z) of the method when all of the right-hand side is in N (L = 0)."""


def _phi1(z):
    return (jnp.exp(z) - 1) / z


def _phi2(z):
    return (jnp.exp(z) - 1 - z) / z**2


class Etd1(AbstractSplitIntegrator):
    """Exponential Euler (ETD1, Cox & Matthews eq. 4): û ← e^{hL} û + h φ₁(hL) N̂. Order 1."""

    name = "etd1"
    order = 1

    def coefficients(self, z, h):
        return jnp.exp(z), h * contour_mean(_phi1, z)

    def step(self, field, t, x, state, h):
        exponential, phi1 = state
        modes = field.to_modes(x)
        new = exponential * modes + phi1 * field.nonlinear_of_modes(t, modes)
        return field.from_modes(new).astype(x.dtype), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return sp.exp(Z)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z


class Etd2(AbstractSplitIntegrator):
    """ETD2RK (Cox & Matthews eq. 22): exponential Euler, then a correction with φ₂. Order 2, one step."""

    name = "etd2"
    order = 2

    def coefficients(self, z, h):
        return jnp.exp(z), h * contour_mean(_phi1, z), h * contour_mean(_phi2, z)

    def step(self, field, t, x, state, h):
        exponential, phi1, phi2 = state
        modes = field.to_modes(x)
        n0 = field.nonlinear_of_modes(t, modes)
        a = exponential * modes + phi1 * n0
        new = a + phi2 * (field.nonlinear_of_modes(t + h, a) - n0)
        return field.from_modes(new).astype(x.dtype), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return sp.exp(Z)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2


class Etdrk4(AbstractSplitIntegrator):
    """ETDRK4 of Cox & Matthews (eqs. 26-29), coefficients by the contour mean of Kassam & Trefethen. Order 4."""

    name = "etdrk4"
    order = 4

    def coefficients(self, z, h):
        half = jnp.exp(z / 2)
        q = h * contour_mean(lambda w: (jnp.exp(w / 2) - 1) / w, z)
        f1 = h * contour_mean(lambda w: (-4 - w + jnp.exp(w) * (4 - 3 * w + w**2)) / w**3, z)
        f2 = h * contour_mean(lambda w: (2 + w + jnp.exp(w) * (w - 2)) / w**3, z)
        f3 = h * contour_mean(lambda w: (-4 - 3 * w - w**2 + jnp.exp(w) * (4 - w)) / w**3, z)
        return jnp.exp(z), half, q, f1, f2, f3

    def step(self, field, t, x, state, h):
        exponential, half, q, f1, f2, f3 = state
        v = field.to_modes(x)
        nv = field.nonlinear_of_modes(t, v)
        a = half * v + q * nv
        na = field.nonlinear_of_modes(t + h / 2, a)
        b = half * v + q * na
        nb = field.nonlinear_of_modes(t + h / 2, b)
        c = half * a + q * (2 * nb - nv)
        nc = field.nonlinear_of_modes(t + h, c)
        new = exponential * v + f1 * nv + 2 * f2 * (na + nb) + f3 * nc
        return field.from_modes(new).astype(x.dtype), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return sp.exp(Z)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2 + Z**3 / 6 + Z**4 / 24


class ImexEuler(AbstractSplitIntegrator):
    """IMEX Euler (SBDF1): (1 − hL) û_{n+1} = û_n + h N̂(t_n, u_n). Order 1."""

    name = "imex_euler"
    order = 1

    def coefficients(self, z, h):
        return (1 / (1 - z),)

    def step(self, field, t, x, state, h):
        (inverse,) = state
        modes = field.to_modes(x)
        new = inverse * (modes + h.astype(modes.dtype) * field.nonlinear_of_modes(t, modes))
        return field.from_modes(new).astype(x.dtype), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return 1 / (1 - Z)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z


class ImexTrapezoid(AbstractSplitIntegrator):
    """Crank-Nicolson for L with Heun's method for N (an IMEX Runge-Kutta pair). Order 2.

    û* = (1 − hL/2)⁻¹[(1 + hL/2) û + h N̂(t, u)],
    û_{n+1} = (1 − hL/2)⁻¹[(1 + hL/2) û + h/2 (N̂(t, u) + N̂(t + h, u*))].
    """

    name = "imex_trapezoid"
    order = 2

    def coefficients(self, z, h):
        return (1 + z / 2) / (1 - z / 2), 1 / (1 - z / 2)

    def step(self, field, t, x, state, h):
        explicit, inverse = state
        v = field.to_modes(x)
        step = h.astype(v.dtype)
        n0 = field.nonlinear_of_modes(t, v)
        predicted = explicit * v + step * inverse * n0
        new = explicit * v + (step / 2) * inverse * (n0 + field.nonlinear_of_modes(t + h, predicted))
        return field.from_modes(new).astype(x.dtype), state, RESULTS.successful

    def stability_function(self) -> sp.Expr:
        return (1 + Z / 2) / (1 - Z / 2)

    def explicit_stability_function(self) -> sp.Expr:
        return 1 + Z + Z**2 / 2
