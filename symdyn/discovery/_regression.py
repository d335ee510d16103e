"""Sequentially thresholded (Gauss-Newton) least squares, with uncertainties from contiguous segments.

Both discovery methods end here: a residual r(a) over rows of data, affine in the
unknowns a for libraries and linear templates. STLSQ (Brunton et al., 2016) fits all
active unknowns, removes those below the threshold and refits until nothing changes;
for a template that is not affine in its unknowns each fit is a damped Gauss-Newton
iteration instead of one solve.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import numpy as np

_MAX_ROUNDS = 20
_MAX_NEWTON = 50
SEGMENTS = 10  # contiguous stretches of the data behind the standard errors


def spread(values: np.ndarray) -> np.ndarray:
    """Per-state standard deviations of (..., V) values over everything but the last axis, never 0."""
    scale = values.reshape(-1, values.shape[-1]).std(axis=0)
    return np.where(scale > 0, scale, 1.0)


@dataclass(frozen=True)
class Fit:
    """Coefficients, which survived the threshold, their standard errors and the residual."""

    values: np.ndarray
    active: np.ndarray
    standard_errors: np.ndarray
    residual_rms: float


def _least_squares(jacobian: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """The step δ minimising |J δ + r|, by SVD (columns of libraries differ in scale by orders of magnitude)."""
    return np.linalg.lstsq(jacobian, -residual, rcond=None)[0]


class Regression(abc.ABC):
    """What a discovery method leaves to thresholding: its unknowns, fitted at any threshold.

    `discover` fits at the user's threshold, and at others when that one removed every
    term of an equation (to say which threshold keeps some).
    """

    @abc.abstractmethod
    def fit(self, threshold: float) -> Fit:
        """The unknowns, those of magnitude below `threshold` removed (0 keeps every one)."""


class LeastSquares(Regression):
    """Minimise |r(a)|² with sequential thresholding.

    Args:
        residual: a → (rows,) residuals, a JAX function (compiled once, for every threshold).
        a0: (J,) the starting coefficients (used only when r is not affine).
        affine: r is affine in a, so one solve per round is exact (r and its Jacobian are
            evaluated once, and every fit after that is NumPy).
        segments: (rows,) ints labelling contiguous stretches of the data. The standard
            error of each coefficient is the spread of the fits on each segment alone
            over √(segments) (batch means), which, unlike the textbook formula, holds for
            the correlated residuals of neighbouring samples.

    Example (`design` (400, 5), `target` (400,)):
        >>> fit = LeastSquares(lambda a: design @ a - target, np.zeros(5), affine=True, segments=np.arange(400) // 40)
        >>> fit.fit(0.1).active
        array([ True, False,  True, False, False])
    """

    def __init__(self, residual: Callable[[jax.Array], jax.Array], a0: np.ndarray, *, affine: bool, segments):
        self._residual = jax.jit(residual)
        jacobian = jax.jit(jax.jacfwd(residual))
        self._a0 = np.array(a0, dtype=np.float64)
        self._affine = affine
        self._segments = np.asarray(segments)
        self._evaluate = lambda a: (np.asarray(self._residual(a)), np.asarray(jacobian(a)))
        if affine:  # r(a) = r(a0) + J (a - a0) with J constant: evaluate once, refit in NumPy
            r0, jacobian0 = self._evaluate(self._a0)
            self._evaluate = lambda a: (r0 + jacobian0 @ (a - self._a0), jacobian0)

    def fit(self, threshold: float) -> Fit:
        a = self._a0.copy()
        active = np.ones(a.size, dtype=bool)
        for _ in range(_MAX_ROUNDS):
            a = _fit_active(self._residual, self._evaluate, a, active, self._affine)
            small = active & (np.abs(a) < threshold)
            if not small.any():
                break
            a[small] = 0.0
            active &= ~small
        r, jacobian = self._evaluate(a)
        errors = np.zeros(a.size)
        segments = self._segments
        labels = np.unique(segments)
        if labels.size >= 2 and active.any():
            pieces = [a[active] + _least_squares(jacobian[segments == k][:, active], r[segments == k]) for k in labels]
            errors[active] = np.std(pieces, axis=0, ddof=1) / np.sqrt(labels.size)
        return Fit(values=a, active=active, standard_errors=errors, residual_rms=float(np.sqrt(np.mean(r**2))))


def keeping_threshold(
    regression: Regression, members: Sequence[int], threshold: float, unthresholded: Fit
) -> tuple[float, Fit]:
    """A threshold below `threshold` that keeps some of the unknowns `members`, and the fit at it.

    The candidates lie in the gaps between the magnitudes of the `unthresholded` coefficients
    of `members`, the widest gap (by ratio) first, at its geometric middle rounded to one
    digit: the widest gap is the one between the size of real terms and that of noise. Each
    candidate is checked by fitting at it, since sequential thresholding can remove a large
    coefficient once a smaller one is gone; below the smallest magnitude every term stays.
    """
    members = list(members)
    sizes = np.sort(np.abs(unthresholded.values[members]))[::-1]
    sizes = sizes[sizes > 0]
    gaps = sorted(zip(sizes[:-1] / sizes[1:], np.sqrt(sizes[:-1] * sizes[1:])), reverse=True)
    candidates = [middle for _, middle in gaps] + ([sizes[-1] / 2] if sizes.size else [])
    for candidate in (float(f"{c:.1g}") for c in candidates):
        if candidate < threshold:
            fit = regression.fit(candidate)
            if fit.active[members].any():
                return candidate, fit
    return 0.0, unthresholded


def _fit_active(residual_fn, evaluate, a: np.ndarray, active: np.ndarray, affine: bool) -> np.ndarray:
    if not active.any():
        return a
    loss = None
    for _ in range(1 if affine else _MAX_NEWTON):
        r, jacobian = evaluate(a)
        loss = float(r @ r) if loss is None else loss
        step = np.zeros_like(a)
        step[active] = _least_squares(jacobian[:, active], r)
        if affine:
            return a + step
        for _ in range(30):  # halve the Gauss-Newton step until the loss decreases
            trial = a + step
            trial_loss = float(np.sum(np.asarray(residual_fn(trial)) ** 2))
            if np.isfinite(trial_loss) and trial_loss <= loss:
                break
            step /= 2
        else:
            return a
        a, converged = trial, loss - trial_loss <= 1e-14 * max(loss, 1e-300)
        loss = trial_loss
        if converged:
            break
    return a
