"""The inverse problem of Lu & Tsai: every continuous eigenvalue a training loop could settle on."""

from __future__ import annotations

import cmath
from dataclasses import dataclass

import numpy as np

from ..integrators import AbstractIntegrator
from ._characteristic import Characteristic


@dataclass(frozen=True)
class Preimage:
    """One z = hλ̂ whose discrete step reproduces the data's multiplier μ exactly (zero training loss).

    Attributes:
        z: hλ̂, a root of P(μ, z) = 0 (for a one-step method: R(z) = μ).
        eigenvalue: λ̂ = z/h, the continuous eigenvalue the learned model would have.
        anti_damped: Re λ̂ > 0: the learned continuous system grows.
        opposite_rotation: λ̂ turns the other way from the data (Im λ̂ and arg μ differ in sign).
        parasitic: the method's other multipliers at z (multistep methods): modes the data never
            excites, which grow by |ζ| per step once a perturbation wakes them.
    """

    z: complex
    eigenvalue: complex
    anti_damped: bool
    opposite_rotation: bool
    parasitic: tuple[complex, ...]

    @property
    def parasitic_growth(self) -> float:
        """The largest |ζ| of the parasitic multipliers per step (0 for one-step methods)."""
        return max((abs(p) for p in self.parasitic), default=0.0)


def preimages(method: str | AbstractIntegrator, mu: complex, h: float) -> list[Preimage]:
    """Every λ̂ for which `method` at step `h` maps x to μx on x' = λ̂x, closest to log(μ)/h first.

    Args:
        method: an integrator name or instance.
        mu: the one-step multiplier the data shows (an eigenvalue of the sampled linear map).
        h: the step of the integrator in the training loop.

    Example:
        >>> [p.eigenvalue for p in preimages("implicit_midpoint", 0.9, 0.1)]
        [(-1.0526315789473684+0j)]
    """
    mu = complex(mu)
    if mu == 0 or not np.isfinite(mu):
        raise ValueError(f"mu must be a finite, nonzero multiplier, not {mu}")
    if not (h > 0 and np.isfinite(h)):
        raise ValueError(f"h must be a positive step, not {h}")
    characteristic = Characteristic(method)
    truth = cmath.log(mu) / h
    found = []
    for z in characteristic.preimages(mu).ravel():
        if not np.isfinite(z):
            continue  # a root at infinity: R(z) → μ only as z → ∞
        z = complex(z)
        eigenvalue = z / h
        others = [complex(r) for r in characteristic.multipliers(z)]
        others.remove(min(others, key=lambda r: abs(r - mu)))  # μ itself
        tiny = 1e-10 * max(abs(eigenvalue), 1.0)  # round-off, not a sign
        anti_damped = eigenvalue.real > tiny
        opposite = abs(eigenvalue.imag) > tiny and abs(mu.imag) > tiny and eigenvalue.imag * mu.imag < 0
        found.append(Preimage(z, eigenvalue, anti_damped, opposite, tuple(others)))
    return sorted(found, key=lambda p: abs(p.eigenvalue - truth))
