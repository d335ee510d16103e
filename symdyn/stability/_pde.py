"""Is a step stable for a PDE? The linear part's spectrum times the step, against the method's region.

The linear, constant-coefficient part L of the right-hand side is the one the split
integrators step with: on a periodic grid it is diagonal in Fourier space and its
eigenvalues are its multiplier on the modes (exact, for the discretisation in use); on
a bounded grid they are those of the matrix of its stencils with the boundary
conditions (`LoweredPDE.linear_matrix`, zero rows at Dirichlet nodes). Each z = h·σ is
then checked against the method:

- an explicit or implicit method for the whole right-hand side: |ζ(z)| ≤ 1 for its
  characteristic roots (RK4 on the seed's KS grid at h = 0.2 reaches z ≈ −4956,
  far outside its region, which ends near −2.79);
- an exponential or IMEX method: the linear part goes through its exact or implicit
  R(z) (e^z, 1/(1 − z), Crank-Nicolson), stable wherever Re σ ≤ 0, and only the
  nonlinear part is explicit, which this report cannot bound from the spectrum alone.

A method that cannot step the model at all (ETD's dense coefficients on a bounded grid
beyond their limit, Newton's dense matrix on a large periodic grid) is refused here with
the message `integrate` gives, so that a step called stable is one `simulate` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..integrators import AbstractImplicitRungeKutta, AbstractIntegrator, AbstractSplitIntegrator, get, vector_field
from ..lower import LoweredPDE
from ._characteristic import Characteristic


@dataclass(frozen=True)
class PDEStabilityReport:
    """The spectrum h·σ of a lowered PDE's linear part and what a method does with it."""

    model: str
    method: str
    dt: float
    z: np.ndarray  # h·σ, one per eigenvalue
    amplification: float  # max |ζ(z)| over the modes with Re z ≤ 0: above 1, the method grows a damped mode
    split: bool  # the method treats L exactly or implicitly
    largest_stable_dt: float  # the largest step with max |ζ| ≤ 1 (inf when any step is)
    source: str  # "Fourier multiplier" or "matrix of L"

    @property
    def stable(self) -> bool:
        return self.amplification <= 1 + 1e-9

    @property
    def worst(self) -> complex:
        return complex(self.z[np.argmax(np.abs(self.z))])

    def __str__(self) -> str:
        verdict = "stable" if self.stable else "UNSTABLE"
        lines = [
            f"{self.model}, {self.method} at dt = {self.dt:g}: {verdict} for the linear part",
            f"  spectrum of dt·L ({self.source}, {self.z.size} eigenvalues): "
            f"Re in [{self.z.real.min():.4g}, {self.z.real.max():.4g}], |Im| <= {np.abs(self.z.imag).max():.4g}; "
            f"largest |z| = {abs(self.worst):.4g} at {self.worst:.4g}",
            f"  max |ζ(z)| over its modes with Re z <= 0: {self.amplification:.4g}"
            + (
                f" ({np.sum(self.z.real > 0)} modes with Re z > 0 grow in the PDE itself)"
                if np.any(self.z.real > 0)
                else ""
            ),
        ]
        if self.split:
            lines.append(
                "  the method integrates L exactly or implicitly; its nonlinear part is explicit and may still "
                "limit the step"
            )
        elif np.isfinite(self.largest_stable_dt):
            lines.append(f"  the largest stable step for this spectrum is dt = {self.largest_stable_dt:.4g}")
        return "\n".join(lines)


def pde_stability(model: LoweredPDE, method: str | AbstractIntegrator, dt: float, *, p=None) -> PDEStabilityReport:
    """Check the step `dt` of `method` against the spectrum of `model`'s linear part.

    Args:
        model: a lowered PDE. method: an integrator name or instance. dt: the step.
        p: parameters (default the model's).

    Raises:
        ValueError: `method` cannot step `model` (the message says what to use instead), or the grid is
            bounded and too large for the dense eigenvalues of L.

    Example:
        >>> low = symdyn.load("examples/kuramoto_sivashinsky.sdyn").lower()
        >>> pde_stability(low, "rk4", 0.2).stable
        False
    """
    if not isinstance(model, LoweredPDE):
        raise TypeError("pde_stability takes a lowered PDE (model.lower() of a PDE model)")
    if not dt > 0:
        raise ValueError(f"dt must be positive, not {dt}")
    integrator = get(method)
    p = model.p if p is None else p
    if p is None:
        raise ValueError(f"{model.name}: a parameter has no default; pass p")
    if isinstance(integrator, (AbstractSplitIntegrator, AbstractImplicitRungeKutta)):
        integrator.check(vector_field(model, p))
    if all(model.domain.periodic):
        sigma = np.asarray(model.linear(p)).ravel()
        source = "Fourier multiplier"
    else:
        sigma = np.linalg.eigvals(np.asarray(model.linear_matrix(p), np.float64))
        source = "matrix of L"
    split = isinstance(integrator, AbstractSplitIntegrator)
    excess = _excess_growth(integrator)
    z = dt * sigma
    return PDEStabilityReport(
        model=model.name,
        method=integrator.name,
        dt=float(dt),
        z=z,
        amplification=float(np.max(excess(z))),
        split=split,
        largest_stable_dt=float("inf") if split else _largest_stable_step(excess, sigma, dt),
        source=source,
    )


def _excess_growth(integrator: AbstractIntegrator):
    """z ↦ max |ζ(z)| for Re z ≤ 0, above 1 where the method grows a mode the PDE damps or keeps;
    0 for the modes the PDE itself amplifies (Re z > 0, such as KS's long waves), which may grow."""
    amplification = Characteristic(integrator).amplification

    def excess(z):
        z = np.asarray(z, complex)
        with np.errstate(over="ignore", invalid="ignore"):  # e^z of the modes that grow in the PDE itself
            growth = np.where(z.real <= 0, amplification(z), 0.0)
        return np.where(np.isnan(growth), np.inf, growth)

    return excess


def _largest_stable_step(amplification, sigma: np.ndarray, dt: float) -> float:
    """The step where max |ζ(h σ)| crosses 1: doubling or halving from `dt`, then bisection."""

    def ok(h: float) -> bool:
        return float(np.max(amplification(h * sigma))) <= 1 + 1e-9

    good, bad = (dt, 2 * dt) if ok(dt) else (dt / 2, dt)
    while ok(bad):
        good, bad = bad, 2 * bad
        if bad > 1e6 * dt:
            return float("inf")
    while not ok(good):
        good, bad = good / 2, good
        if good < 1e-12 * dt:
            return 0.0
    while bad - good > 1e-9 * bad:
        middle = 0.5 * (good + bad)
        good, bad = (middle, bad) if ok(middle) else (good, middle)
    return good
