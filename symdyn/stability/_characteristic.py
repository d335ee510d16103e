"""Numbers from an integrator's exact characteristic polynomial P(ζ, z): multipliers, boundary, preimages."""

from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy as sp

from ..integrators import ZETA, AbstractIntegrator, Z, get


def _coefficients(polynomial: sp.Expr, variable: sp.Symbol, other: sp.Symbol):
    """The coefficients of `polynomial` in `variable`, highest first, as numpy functions of `other`."""
    coefficients = sp.Poly(polynomial, variable).all_coeffs()
    functions = [sp.lambdify(other, c, "numpy") for c in coefficients]
    return lambda values: [np.broadcast_to(np.asarray(f(values), complex), np.shape(values)) for f in functions]


def _roots(coefficients: list[np.ndarray]) -> np.ndarray:
    """Roots of polynomials with these (highest-first) coefficient arrays: shape (..., degree).

    Where the leading coefficient vanishes the degree drops: the missing roots are at
    infinity and come back as NaN.
    """
    scale = np.abs(np.stack(coefficients)).max(axis=0)
    vanishing = np.abs(coefficients[0]) <= 1e-13 * scale
    leading = np.where(vanishing, 1e-13 * scale + 1e-300, coefficients[0])
    rest = coefficients[1:]
    if len(rest) == 1:
        roots = (-rest[0] / leading)[..., None]
    else:
        degree = len(rest)
        companion = np.zeros((*leading.shape, degree, degree), complex)
        companion[..., 0, :] = -np.stack(rest, axis=-1) / leading[..., None]
        companion[..., np.arange(1, degree), np.arange(degree - 1)] = 1
        roots = np.linalg.eigvals(companion)
    at_infinity = vanishing[..., None] & (np.abs(roots) > 1e10)
    return np.where(at_infinity, np.nan, roots)


class Characteristic:
    """P(ζ, z) of one integrator, evaluated numerically (complex128)."""

    def __init__(self, method: str | AbstractIntegrator):
        self.method = get(method)
        self.polynomial = self.method.characteristic_polynomial()

    @cached_property
    def _in_zeta(self):
        return _coefficients(self.polynomial, ZETA, Z)

    @cached_property
    def _in_z(self):
        return _coefficients(self.polynomial, Z, ZETA)

    def multipliers(self, z) -> np.ndarray:
        """The roots ζ of P(ζ, z) for each z: shape (*z.shape, number of steps)."""
        return _roots(self._in_zeta(np.asarray(z, complex)))

    def amplification(self, z) -> np.ndarray:
        """max |ζ| over the roots: at most 1 inside the stability region."""
        return np.abs(self.multipliers(z)).max(axis=-1)

    def preimages(self, zeta) -> np.ndarray:
        """Every z with P(ζ, z) = 0 for each ζ (for a one-step method, every z with R(z) = ζ); NaN at infinity."""
        zeta = np.asarray(zeta, complex)
        roots = _roots(self._in_z(zeta))
        return self._polish(roots, zeta)

    def _polish(self, z: np.ndarray, zeta: np.ndarray) -> np.ndarray:
        """Two Newton steps on P(ζ, ·), which the companion eigenvalues leave a few ulps off."""
        polynomial = sp.lambdify((ZETA, Z), self.polynomial, "numpy")
        derivative = sp.lambdify((ZETA, Z), sp.diff(self.polynomial, Z), "numpy")
        with np.errstate(invalid="ignore", divide="ignore"):  # NaN roots at infinity stay NaN
            for _ in range(2):
                slope = derivative(zeta[..., None], z)
                z = np.where(slope != 0, z - polynomial(zeta[..., None], z) / np.where(slope != 0, slope, 1), z)
        return z

    def boundary_locus(self, points: int = 4096) -> np.ndarray:
        """The z where some multiplier has modulus 1, P(e^{iθ}, z) = 0, that bound the stability region."""
        theta = np.linspace(0, 2 * np.pi, points, endpoint=False)
        z = self.preimages(np.exp(1j * theta)).ravel()
        z = z[np.isfinite(z) & (np.abs(z) < 1e4)]
        return z[self.amplification(z) <= 1 + 1e-9]
