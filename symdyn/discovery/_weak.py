"""The weak form (Messenger & Bortz, 2021): integrals against test functions in place of pointwise derivatives.

For a test function φ that vanishes at both ends of its window, integration by parts gives
∫ φ ẋ dt = −∫ φ' x dt, so the equations D(x) ~ f(t, x; a) hold in the form
∫ φ f(t, x; a) dt + ∫ φ' x dt = 0 with no derivative of the data: noise enters only through
integrals, which average it out. Each row of the residual is one test function, one state
(one grid point of a field) and one trajectory.

On a one-dimensional grid the test functions are φ(t)·ψ(x) and a term that is a spatial
derivative of a function of the fields, ∂x^k(g(u)) (u·∂x(u) = ∂x(u²/2) included), is integrated
by parts in space too: ∫∫ φψ ∂x^k g = (−1)^k ∫∫ φ ψ^(k) g, so no derivative of the noisy data
is taken (WSINDy for PDEs, Messenger & Bortz, 2021). Other terms are evaluated pointwise, with
the spatial derivatives of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np
import sympy as sp

from ..data import Trajectories
from ..model import conservative_form
from ._candidates import Candidates
from ._method import AbstractDiscoveryMethod
from ._regression import SEGMENTS, LeastSquares, spread


@dataclass(frozen=True)
class WeakForm(AbstractDiscoveryMethod):
    """Weak SINDy: test functions φ(s) = (1 − s²)^`power` on windows of `width` samples, every `stride` samples.

    Args:
        width: samples per test function (odd); wider windows average more noise and resolve less detail.
        stride: samples between the starts of neighbouring windows (default width // 4: overlapping).
        power: the exponent of the test function; its first power − 1 derivatives vanish at the window's ends.
        space_width: grid points per test function in space (odd; fields on one-dimensional grids).
        space_stride: grid points between the starts of neighbouring windows in space (default space_width // 4).
    """

    name: ClassVar[str] = "weak"
    width: int = 41
    stride: int | None = None
    power: int = 4
    space_width: int = 41
    space_stride: int | None = None

    def __post_init__(self):
        for name in ("width", "space_width"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 5 and value % 2 == 1):
                raise ValueError(f"WeakForm {name} must be an odd int of at least 5, not {value!r}")
        for name in ("stride", "space_stride"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ValueError(f"WeakForm {name} must be a positive int, not {value!r}")
        if not (isinstance(self.power, int) and self.power >= 2):
            raise ValueError(f"WeakForm power must be an int of at least 2, not {self.power!r}")

    def describe(self) -> str:
        return f"weak form, test functions (1 - s²)^{self.power} over {self.width} samples"

    def test_functions(self, samples: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(φ, φ') as (K, samples) quadrature weights: row k is the test function on window k times dt."""
        if samples < self.width:
            raise ValueError(f"WeakForm width {self.width} is longer than the data ({samples} samples)")
        phi, dphi = _windows(samples, dt, self.width, self.stride, self.power, orders=2, periodic=False)
        return phi, dphi

    def space_functions(self, points: int, dx: float, orders: int, periodic: bool) -> list[np.ndarray]:
        """ψ, ψ', ..., ψ^(orders − 1) as (L, points) quadrature weights over windows in space, with an exponent
        high enough that every one of these derivatives vanishes at the windows' ends."""
        if points < self.space_width:
            raise ValueError(f"WeakForm space_width {self.space_width} is wider than the grid ({points} points)")
        power = self.power + orders  # ψ^(orders − 1) as smooth at the ends as φ: the rectangle rule stays accurate
        return _windows(points, dx, self.space_width, self.space_stride, power, orders, periodic)

    def regression(
        self, candidates: Candidates, data: Trajectories, *, key, progress: bool
    ) -> tuple[LeastSquares, None]:
        if len(data.grid) == 1 and candidates.affine:
            return self._space_time(candidates, data), None
        shape = data.state_shape
        phi, dphi = self.test_functions(data.t.size, data.dt)
        x = jnp.asarray(data.states)
        times = jnp.asarray(data.t).reshape(1, -1, *(1,) * (len(shape) - 1))
        states = data.states[:, :, : len(candidates.state_names)]  # the columns after them are inputs
        target = -np.einsum("kn,mn...->mk...", dphi, states)  # ∫ φ ẋ = −∫ φ' x
        if target.size < candidates.guesses.size:
            raise ValueError(
                f"{data.origin}: {target.size} weak-form rows cannot fit {candidates.guesses.size} unknowns; "
                "give more samples or a smaller --stride"
            )
        scale = spread(target, len(shape))
        count = phi.shape[0]
        segment = np.arange(count) * SEGMENTS // count
        segments = np.broadcast_to(segment.reshape(1, count, *(1,) * len(shape)), target.shape).ravel()
        if candidates.affine_parts:  # ∫ φ (f₀ + S·a): the design directly
            f0, terms = candidates.affine_parts(np.asarray(times), np.asarray(data.states))
            rows = target.size
            design = np.einsum("kn,mnvj->mkvj", phi, terms) / scale[..., None]
            right = (target - np.einsum("kn,mnv->mkv", phi, f0)) / scale
            return LeastSquares.linear(design.reshape(rows, -1), right.reshape(rows), segments), None
        phi_, target_, scale = jnp.asarray(phi), jnp.asarray(target), jnp.asarray(scale)

        def residual(a):
            integral = jnp.einsum("kn,mn...->mk...", phi_, candidates.rhs(times, x, a))
            return ((target_ - integral) / scale).ravel()

        return LeastSquares(residual, candidates.guesses, affine=candidates.affine, segments=segments), None

    def _space_time(self, candidates: Candidates, data: Trajectories) -> LeastSquares:
        """Test functions φ(t)ψ(x) on a one-dimensional grid; rows (trajectory, window in t, field, window in x)."""
        template = candidates.template
        fields = [state.applied for state in template.states]
        coordinate = template.coordinates[0]
        unknowns = [u.symbol for u in template.unknowns]
        zero = dict.fromkeys(unknowns, sp.Integer(0))
        pieces = {}  # (equation, unknown or None for the known terms) → [(k, g)], or None: evaluated pointwise
        for e, equation in enumerate(candidates.equations):
            slopes = {j: sp.diff(equation.rhs, unknowns[j]) for j in equation.unknowns}
            for j, term in {None: equation.rhs.xreplace(zero), **slopes}.items():
                if term != 0:
                    found = conservative_form(term, fields, coordinate)
                    pieces[e, j] = found if all(not g.has(sp.Derivative) for _, g in found) else None
        orders = 1 + max((k for found in pieces.values() if found for k, _ in found), default=0)
        phi, dphi = self.test_functions(data.t.size, data.dt)
        axis = data.grid[0]
        psi = self.space_functions(axis.size, float(axis[1] - axis[0]), orders, template.domain[0].periodic)
        integrate = lambda weights_t, weights_x, values: np.einsum("kn,lx,mnx->mkl", weights_t, weights_x, values)
        states = np.asarray(data.states, dtype=np.float64)  # (M, T, F, X)
        target = -np.stack([integrate(dphi, psi[0], states[:, :, f]) for f in range(len(fields))], axis=2)
        design = np.zeros((*target.shape, len(unknowns)))
        values = _lambdified(fields, template.time, template.defaults, data.t, states)
        pointwise = _pointwise_terms(candidates, data, [j for (_, j), found in pieces.items() if found is None])
        for (e, j), found in pieces.items():
            if found is None:
                integral = integrate(phi, psi[0], pointwise[j][:, :, e])
            else:
                integral = sum((-1) ** k * integrate(phi, psi[k], values(g)) for k, g in found)
            if j is None:  # the template's known terms move to the left-hand side
                target[:, :, e] -= integral
            else:
                design[:, :, e, :, j] = integral
        scale = spread(target, 2)  # per field
        segment = np.arange(phi.shape[0]) * SEGMENTS // phi.shape[0]
        segments = np.broadcast_to(segment[None, :, None, None], target.shape).ravel()
        rows = target.size
        return LeastSquares.linear(
            (design / scale[..., None]).reshape(rows, -1), (target / scale).reshape(rows), segments
        )


def _windows(samples, step, width, stride, power, orders, periodic) -> list[np.ndarray]:
    """(1 − s²)^power and its first `orders` − 1 derivatives on windows of `width` samples every `stride`
    (default width // 4), as quadrature weights (times `step`); periodic windows wrap around."""
    stride = stride or max(width // 4, 1)
    starts = np.arange(0, samples if periodic else samples - width + 1, stride)
    s = np.linspace(-1.0, 1.0, width)
    half = (width - 1) * step / 2  # ds/dx = 1/half
    shape = np.polynomial.Polynomial([1.0, 0.0, -1.0]) ** power
    index = (starts[:, None] + np.arange(width)) % samples
    found = []
    for order in range(orders):
        weights = np.zeros((starts.size, samples))
        np.put_along_axis(weights, index, np.broadcast_to(shape.deriv(order)(s) / half**order * step, index.shape), 1)
        found.append(weights)
    return found


def _lambdified(fields, time, defaults, t, states):
    """g ↦ g evaluated on the data, (M, T, X), for g a function of t and the fields (parameters at their values)."""
    symbols = [sp.Dummy() for _ in fields]

    def values(g):
        g = g.subs(defaults).xreplace(dict(zip(fields, symbols)))
        f = sp.lambdify([time, *symbols], g, "numpy")
        return np.broadcast_to(f(t[None, :, None], *np.moveaxis(states, 2, 0)), states[:, :, 0].shape)

    return values


def _pointwise_terms(candidates: Candidates, data: Trajectories, unknowns: list[int | None]) -> dict:
    """For each of `unknowns`, the term it multiplies (None: the known terms), evaluated at every sample with the
    spatial derivatives of the data."""
    if not unknowns:
        return {}
    x = jnp.asarray(data.states)
    times = jnp.asarray(data.t).reshape(1, -1, 1, 1)
    rhs = lambda a: np.asarray(candidates.rhs(times, x, jnp.asarray(a)))
    at_zero = rhs(np.zeros(candidates.guesses.size))
    return {j: at_zero if j is None else rhs(np.eye(candidates.guesses.size)[j]) - at_zero for j in unknowns}
