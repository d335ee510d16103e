"""The weak form (Messenger & Bortz, 2021): integrals against test functions in place of pointwise derivatives.

For a test function φ that vanishes at both ends of its window, integration by parts gives
∫ φ ẋ dt = −∫ φ' x dt, so the equations D(x) ~ f(t, x; a) hold in the form
∫ φ f(t, x; a) dt + ∫ φ' x dt = 0 with no derivative of the data: noise enters only through
integrals, which average it out. Each row of the residual is one test function, one state
(one grid point of a field) and one trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ..data import Trajectories
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
    """

    name: ClassVar[str] = "weak"
    width: int = 41
    stride: int | None = None
    power: int = 4

    def __post_init__(self):
        if not (isinstance(self.width, int) and self.width >= 5 and self.width % 2 == 1):
            raise ValueError(f"WeakForm width must be an odd int of at least 5, not {self.width!r}")
        if self.stride is not None and not (isinstance(self.stride, int) and self.stride >= 1):
            raise ValueError(f"WeakForm stride must be a positive int, not {self.stride!r}")
        if not (isinstance(self.power, int) and self.power >= 2):
            raise ValueError(f"WeakForm power must be an int of at least 2, not {self.power!r}")

    def describe(self) -> str:
        return f"weak form, test functions (1 - s²)^{self.power} over {self.width} samples"

    def test_functions(self, samples: int, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """(φ, φ') as (K, samples) quadrature weights: row k is the test function on window k times dt."""
        if samples < self.width:
            raise ValueError(f"WeakForm width {self.width} is longer than the data ({samples} samples)")
        stride = self.stride or max(self.width // 4, 1)
        starts = np.arange(0, samples - self.width + 1, stride)
        s = np.linspace(-1.0, 1.0, self.width)
        half = (self.width - 1) * dt / 2  # ds/dt = 1/half
        value = (1 - s**2) ** self.power
        slope = -2 * self.power * s * (1 - s**2) ** (self.power - 1) / half
        phi, dphi = np.zeros((starts.size, samples)), np.zeros((starts.size, samples))
        for k, start in enumerate(starts):
            phi[k, start : start + self.width] = value * dt
            dphi[k, start : start + self.width] = slope * dt
        return phi, dphi

    def regression(
        self, candidates: Candidates, data: Trajectories, *, key, progress: bool
    ) -> tuple[LeastSquares, None]:
        shape = data.state_shape
        phi, dphi = self.test_functions(data.t.size, data.dt)
        x = jnp.asarray(data.states)
        times = jnp.asarray(data.t).reshape(1, -1, *(1,) * (len(shape) - 1))
        target = -np.einsum("kn,mn...->mk...", dphi, data.states)  # ∫ φ ẋ = −∫ φ' x
        if target.size < candidates.guesses.size:
            raise ValueError(
                f"{data.origin}: {target.size} weak-form rows cannot fit {candidates.guesses.size} unknowns; "
                "give more samples or a smaller --stride"
            )
        scale = jnp.asarray(spread(target, len(shape)))
        phi_, target_ = jnp.asarray(phi), jnp.asarray(target)

        def residual(a):
            integral = jnp.einsum("kn,mn...->mk...", phi_, candidates.rhs(times, x, a))
            return ((target_ - integral) / scale).ravel()

        count = phi.shape[0]
        segment = np.arange(count) * SEGMENTS // count
        segments = np.broadcast_to(segment.reshape(1, count, *(1,) * len(shape)), target.shape).ravel()
        return LeastSquares(residual, candidates.guesses, affine=candidates.affine, segments=segments), None
