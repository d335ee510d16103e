"""Where an integrator is stable: its region |ζ(z)| <= 1, how far it reaches into Re z > 0, A-stability."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..integrators import AbstractIntegrator, AbstractOneStepIntegrator, Z
from ..model import expression_to_text
from ._characteristic import Characteristic


@dataclass(frozen=True)
class RegionSummary:
    """The stability region of one method, in numbers.

    Attributes:
        reach: the largest Re z in the region (inf when it holds all large z, as implicit Euler's does).
        imaginary_interval: the largest y with the segment [−iy, iy] in the region (inf: the whole axis).
        a_stable: the region holds the closed left half plane.
    """

    method: str
    stability_function: str
    reach: float
    imaginary_interval: float
    a_stable: bool

    def __str__(self) -> str:
        reach = "unbounded" if math.isinf(self.reach) else f"{self.reach:.3f}"
        interval = (
            "the whole axis" if math.isinf(self.imaginary_interval) else f"|Im z| <= {self.imaginary_interval:.3f}"
        )
        return (
            f"{self.method}: {self.stability_function}\n"
            f"    reaches Re z = {reach} into the right half plane; on the imaginary axis: {interval}; "
            f"{'A-stable' if self.a_stable else 'not A-stable'}"
        )


def _imaginary_interval(characteristic: Characteristic) -> float:
    """The largest y with |ζ(iy')| <= 1 for all |y'| <= y: exact for one-step methods, by a fine scan otherwise."""
    method = characteristic.method
    if isinstance(method, AbstractOneStepIntegrator) and method.stability_function().is_rational_function(Z):
        # |R(iy)| <= 1  ⟺  E(y) = |Q(iy)|² − |N(iy)|² >= 0, a real polynomial in y
        y = sp.Symbol("y", positive=True)
        numerator, denominator = sp.fraction(sp.together(method.stability_function()))
        at = {Z: sp.I * y}
        e = sp.expand(sp.Abs(denominator.subs(at)) ** 2 - sp.Abs(numerator.subs(at)) ** 2)
        e = sp.Poly(sp.expand(sp.re(e)), y)
        if e.is_zero:
            return math.inf
        lowest = next(c for c in reversed(e.all_coeffs()) if c != 0)
        if lowest < 0:
            return 0.0
        sign_changes = [r for r in sp.real_roots(e) if r > 0 and e.eval(r + sp.Rational(1, 10**9)) < 0]
        return float(min(sign_changes)) if sign_changes else math.inf
    axis = np.linspace(0, 50, 200_001)
    unstable = np.flatnonzero(characteristic.amplification(1j * axis) > 1 + 1e-6)
    return math.inf if unstable.size == 0 else float(axis[max(unstable[0] - 1, 0)])


def region_summary(method: str | AbstractIntegrator) -> RegionSummary:
    """Reach into the right half plane, stable interval of the imaginary axis and A-stability of `method`."""
    characteristic = Characteristic(method)
    far = 1e6 * np.exp(1j * np.linspace(-np.pi / 2 + 0.01, np.pi / 2 - 0.01, 181))
    if (characteristic.amplification(far) <= 1 + 1e-9).any():
        reach = math.inf
    else:
        locus = characteristic.boundary_locus()
        right = locus.real[locus.real > 1e-9 * np.maximum(1, np.abs(locus))]  # beyond round-off
        reach = float(right.max()) if right.size else 0.0
    interval = _imaginary_interval(characteristic)
    radius, angle = np.meshgrid(np.geomspace(1e-3, 1e4, 400), np.linspace(np.pi / 2, 3 * np.pi / 2, 361))
    left = np.concatenate([(radius * np.exp(1j * angle)).ravel(), 1j * np.linspace(-1e4, 1e4, 20_001)])
    a_stable = bool((characteristic.amplification(left) <= 1 + 1e-9).all())
    return RegionSummary(
        method=characteristic.method.name,
        stability_function=expression_to_text(characteristic.method.stability_function()),
        reach=reach,
        imaginary_interval=interval,
        a_stable=a_stable,
    )
