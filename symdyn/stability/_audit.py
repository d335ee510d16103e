"""Audit a vector field for integrator artifacts: instability the integrator hides, or creates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..integrators import AbstractIntegrator, get, integrate, vector_field
from ..lower import AbstractLoweredModel, LoweredModel
from ._characteristic import Characteristic


@dataclass(frozen=True)
class AuditReport:
    """What `audit` found at each point.

    Attributes:
        points: (M, n) the states audited.
        eigenvalues: (M, n) complex, the eigenvalues λ̂ of the Jacobian at each point.
        amplification: (M, n), max |ζ(hλ̂)| of the method: at most 1 where the discrete step is stable.
        hidden_instability: (M, n), Re λ̂ > 0 yet hλ̂ inside the stability region: the continuous
            system grows while the integrator at step h shows it decaying.
        made_unstable: (M, n), Re λ̂ < 0 yet hλ̂ outside the region: the integrator blows up
            a system that decays.
        gap: (M,), the largest distance between the trajectory at step h and at step h/refine from
            each point, relative to the size of the fine trajectory.
        coarse, fine: (M, n_steps + 1, n) the two trajectories, at the times of the coarse steps.
        state_names: the entries of a point (the model's states, or x0, x1, ... for a callable).
    """

    method: str
    h: float
    points: np.ndarray
    eigenvalues: np.ndarray
    amplification: np.ndarray
    hidden_instability: np.ndarray
    made_unstable: np.ndarray
    gap: np.ndarray
    coarse: np.ndarray
    fine: np.ndarray
    state_names: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        """True when some point shows either artifact."""
        return bool(self.hidden_instability.any() or self.made_unstable.any())

    def finding(self, i: int, j: int) -> str:
        """Eigenvalue j at point i in words: what the field does there, and whether the step agrees."""
        if self.hidden_instability[i, j]:
            return "HIDDEN INSTABILITY: grows, the step decays"
        if self.made_unstable[i, j]:
            return "MADE UNSTABLE: decays, the step grows"
        growth = "grows" if self.eigenvalues[i, j].real > 0 else "decays"
        return f"{'unstable' if growth == 'grows' else 'stable'}: {growth}, as the step does"

    def __str__(self) -> str:
        lines = [f"audit of {self.method} at h = {self.h:g}: {len(self.points)} points"]
        lines.append(f"{'point':>5}  {'h·λ̂':<28}{'max|ζ|':>9}  {'finding':<44}{'gap':>10}")
        for i, point_eigenvalues in enumerate(self.eigenvalues):
            at = ", ".join(f"{name} = {value:.6g}" for name, value in zip(self.state_names, self.points[i]))
            lines.append(f"{i:>5}  linearised at {at}")
            for j, eigenvalue in enumerate(point_eigenvalues):
                z = self.h * eigenvalue
                gap = f"{self.gap[i]:.3e}" if j == 0 else ""
                z_text = f"{z.real:+.5f}{z.imag:+.5f}i"
                lines.append(
                    f"{'':>5}  {z_text:<28}{self.amplification[i, j]:>9.5f}  {self.finding(i, j):<44}{gap:>10}"
                )
        return "\n".join(lines)

    def verdict(self) -> str:
        """One sentence: is the step stable where the field is, at every point?"""
        hidden, made = int(self.hidden_instability.any(axis=1).sum()), int(self.made_unstable.any(axis=1).sum())
        if not hidden and not made:
            stable = int((self.eigenvalues.real <= 0).all(axis=1).sum())
            return (
                f"{self.method} at h = {self.h:g} agrees with the field at all {len(self.points)} points: "
                f"stable at the {stable} where the field decays, unstable where it grows"
            )
        return (
            f"{self.method} at h = {self.h:g} does not match the field: {hidden} of {len(self.points)} points with "
            f"growth the integrator hides, {made} with decay it turns into growth"
        )


def audit(
    f: LoweredModel | Callable,
    points: Any,
    method: str | AbstractIntegrator,
    h: float,
    *,
    p: Any = None,
    t: float = 0.0,
    n_steps: int = 100,
    refine: int = 100,
) -> AuditReport:
    """Linearize `f` at `points` and compare what `method` at step `h` does with what the field does.

    Args:
        f: a lowered model (exact Jacobian) or a callable `f(t, x)` such as a trained network
            (Jacobian by autodiff).
        points: (M, n) or (n,) states to audit.
        method, h: the integrator and step of the training loop.
        t: the time at which to linearize.
        n_steps: the length of the trajectories compared, in steps of h.
        refine: the fine trajectory takes steps of h/refine.

    Example:
        >>> report = audit(symdyn.load("examples/damped_oscillator.sdyn").lower(), [1.0, 0.0], "rk4", 1.0)
        >>> report.flagged
        False
    """
    method = get(method)
    field = vector_field(f, p)
    points = jnp.atleast_2d(jnp.asarray(points, dtype=jnp.result_type(float)))
    n = points.shape[-1]
    jacobians = jax.vmap(lambda x: field.jacobian(t, x))(points)
    eigenvalues = np.linalg.eigvals(np.asarray(jacobians, dtype=np.float64))
    amplification = Characteristic(method).amplification(h * eigenvalues)
    tiny = 1e-10 * np.maximum(np.abs(eigenvalues), 1.0)
    inside = amplification <= 1 + 1e-9
    hidden = (eigenvalues.real > tiny) & inside
    made_unstable = (eigenvalues.real < -tiny) & ~inside

    def trajectories(x0):
        coarse = integrate(field, x0, t, h, n_steps, method=method, throw=False)
        fine = integrate(field, x0, t, h / refine, n_steps * refine, method=method, save_every=refine, throw=False)
        return coarse, fine

    coarse, fine = jax.vmap(trajectories)(points)
    distance = jnp.linalg.norm(coarse - fine, axis=-1).max(axis=-1)
    size = jnp.maximum(jnp.linalg.norm(fine, axis=-1).max(axis=-1), jnp.finfo(fine.dtype).tiny)
    return AuditReport(
        method=method.name,
        h=float(h),
        points=np.asarray(points),
        eigenvalues=eigenvalues,
        amplification=amplification,
        hidden_instability=hidden,
        made_unstable=made_unstable,
        gap=np.asarray(distance / size),
        coarse=np.asarray(coarse),
        fine=np.asarray(fine),
        state_names=f.state_names if isinstance(f, AbstractLoweredModel) else tuple(f"x{i}" for i in range(n)),
    )
