"""The sparse method: derivatives estimated from the data, sequentially thresholded least squares (SINDy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from ..data import Trajectories
from ._candidates import Candidates
from ._derivatives import Derivative, FiniteDifference
from ._method import AbstractDiscoveryMethod
from ._regression import SEGMENTS, LeastSquares, spread


@dataclass(frozen=True)
class Sparse(AbstractDiscoveryMethod):
    """Sparse regression of estimated derivatives on the candidate terms (Brunton et al., 2016).

    The residual of sample n and state v is (ẋ_v(t_n) − f_v(t_n, x(t_n); a)) / std(ẋ_v), with
    ẋ from `derivative` and the terms evaluated on the (smoothed) states it returns.

    Args:
        derivative: `FiniteDifference(order)` for clean data, `SavitzkyGolay(window, degree)`
            for noisy data (the smoothed states are then also what the terms see).
    """

    name: ClassVar[str] = "sparse"
    derivative: Derivative = field(default_factory=FiniteDifference)

    def describe(self) -> str:
        return f"sparse regression, derivatives by {self.derivative}"

    def regression(
        self, candidates: Candidates, data: Trajectories, *, key, progress: bool
    ) -> tuple[LeastSquares, None]:
        shape = data.state_shape
        flat = data.states.reshape(*data.states.shape[:2], -1)  # fields: every grid point a column
        states, slopes = self.derivative(flat, data.dt)
        slopes = slopes[..., : len(candidates.state_names)] if candidates.input_names else slopes  # not the inputs'
        count = states.shape[1]
        if states.size < candidates.guesses.size:
            raise ValueError(
                f"{data.origin}: {states.size} estimated derivatives cannot fit "
                f"{candidates.guesses.size} unknowns; give more samples"
            )
        states = states.reshape(*states.shape[:2], *shape)
        slopes = slopes.reshape(*states.shape[:2], len(candidates.state_names), *shape[1:])
        margin = (data.t.size - count) // 2
        times = jnp.asarray(data.t[margin : margin + count]).reshape(1, count, *(1,) * (len(shape) - 1))
        scale = spread(slopes, len(shape))
        segment = np.arange(count) * SEGMENTS // count
        segments = np.broadcast_to(segment.reshape(1, count, *(1,) * len(shape)), slopes.shape).ravel()
        if candidates.affine_parts:  # f = f₀ + S·a: the design directly
            f0, terms = candidates.affine_parts(np.asarray(times), states)
            rows = f0.size
            design = (terms / scale[..., None]).reshape(rows, -1)
            return LeastSquares.linear(design, ((slopes - f0) / scale).reshape(rows), segments), None
        x, dx = jnp.asarray(states), jnp.asarray(slopes)

        def residual(a):
            return ((dx - candidates.rhs(times, x, a)) / scale).ravel()

        return LeastSquares(residual, candidates.guesses, affine=candidates.affine, segments=segments), None
